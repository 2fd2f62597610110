# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The in-process transport answers as the HTTPS server does.

The same calls go to one simulator over HTTPS (its CA verified) and
in-process, through a plain ``requests`` session and through
``netapp_ontap``; statuses, bodies, headers and the request log must
match. Then what only the in-process path has: no socket until an
endpoint is asked for, the adapter kept on the library's new sessions,
the read timeout of a delayed answer."""

import io
import json
import os
import time

import pytest
import requests
from netapp_ontap import HostConnection, config
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import Cluster, Volume

from netapp_eic.simulator import Simulator, transport
from tests.unit.simulator.helpers import vol_uuid, write_file

#: Where the plain in-process session mounts its adapter.
ORIGIN = 'https://ontap.in-process'
VS1 = {'X-Dot-SVM-Name': 'vs1'}
PLAIN = {'Accept': 'application/json'}
#: Headers both transports must agree on (not ``Date`` or ``Server``).
COMPARED_HEADERS = ('Content-Type', 'Content-Length', 'Location',
                    'WWW-Authenticate')
#: Representative calls: (method, path and query, headers, body).
CALLS = [
    ('GET', '/api/cluster', {}, None),
    ('GET', '/api/storage/volumes?fields=name,svm.name&order_by=name desc',
     {}, None),
    ('GET', '/api//storage/volumes/?max_records=1', PLAIN, None),
    ('GET', '/api/storage/volumes?return_records=false?max_records=10', {},
     None),
    ('GET', '/api/storage/volumes', VS1, None),
    ('GET', '/api/storage/volumes', {'X-Dot-SVM-Name': 'nope'}, None),
    ('GET', '/api/storage/nope?x=1', {}, None),
    ('DELETE', '/api/cluster', {}, None),
    ('GET', '/api/storage/volumes?fields=bogus', {}, None),
    ('POST', '/api/storage/file/clone',
     {'Content-Type': 'application/json'}, b'{nope'),
    ('GET', '/_sim/faults', {}, None),
]


@pytest.fixture
def https(api, sim):
    """A plain session on the HTTPS server: ``(session, base URL)``."""
    return api, sim.url


@pytest.fixture
def in_process(sim):
    """A plain session on the in-process adapter: ``(session, base)``."""
    session = requests.Session()
    session.auth = (sim.username, sim.password)
    session.trust_env = False
    session.mount(ORIGIN, transport.SimulatorAdapter(sim))
    yield session, ORIGIN
    session.close()


@pytest.fixture(params=['https', 'in-process'])
def connect(request, sim):
    """Builds ``netapp_ontap`` connections over each transport; keyword
    arguments are ``HostConnection``'s."""
    def build(**kwargs):
        if request.param == 'in-process':
            return sim.connection(**kwargs)
        return HostConnection(sim.host, kwargs.pop('username', sim.username),
                              kwargs.pop('password', sim.password),
                              verify=sim.ca_file, port=sim.port, **kwargs)
    return build


def _answer(pair, method, path, headers=None, body=None, **kwargs):
    session, base = pair
    r = session.request(method, base + path, headers=headers, data=body,
                        **kwargs)
    return (r.status_code, r.reason, r.encoding,
            {h: r.headers.get(h) for h in COMPARED_HEADERS}, r.content)


def _logged(sim):
    return [{k: v for k, v in entry.items() if k != 'time'}
            for entry in sim.request_log()]


def test_same_answers_and_request_log_as_https(sim, https, in_process):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    answers = {}
    logs = {}
    for name, pair in (('https', https), ('in-process', in_process)):
        sim.clear_request_log()
        answers[name] = [_answer(pair, *call) for call in CALLS]
        logs[name] = _logged(sim)
    assert answers['in-process'] == answers['https']
    assert logs['in-process'] == logs['https']
    statuses = [a[0] for a in answers['https']]
    assert statuses == [200, 200, 200, 200, 200, 404, 404, 405, 400, 400,
                        200]
    assert len(logs['https']) == len(CALLS)


def test_wrong_password_is_refused_alike(sim, https, in_process):
    answers = [_answer(pair, 'GET', '/api/cluster', auth=('admin', 'nope'))
               for pair in (https, in_process)]
    assert answers[0] == answers[1]
    status, reason, _enc, headers, body = answers[1]
    assert (status, reason) == (401, 'Unauthorized')
    assert headers['WWW-Authenticate'] == 'Basic realm="ontap-sim"'
    assert b'"code": "6"' in body


def test_a_status_fault_fires_alike(sim, https, in_process):
    answers = []
    for pair in (https, in_process):
        sim.add_fault(method='GET', path='/api/cluster', status=503,
                      code='9', message='injected', count=1)
        answers.append([_answer(pair, 'GET', '/api/cluster')
                        for _ in range(2)])
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[1]] == [503, 200]
    assert b'"message": "injected", "code": "9"' in answers[1][0][-1]


def test_an_async_post_answers_alike(sim, https, in_process):
    """A clone's 202 and its job link (each its own job)."""
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    answers = []
    for n, pair in enumerate((https, in_process)):
        session, base = pair
        r = session.post(base + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': f'dst{n}'},
            headers=PLAIN)
        job = r.json()['job']
        answers.append((r.status_code, r.headers['Content-Type'],
                        sorted(r.json()), sorted(job),
                        job['_links']['self']['href'].replace(
                            job['uuid'], '<uuid>')))
    assert answers[0] == answers[1]
    assert answers[1][0] == 202


def test_bodies_of_every_kind_are_sent(sim, in_process):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    body = ('{"volume": {"uuid": "%s"}, "source_path": "src", '
            '"destination_path": "%%s"}' % vol_uuid(sim, 'vol_cinder_a'))
    session, base = in_process
    url = base + '/api/storage/file/clone'
    json_type = {'Content-Type': 'application/json'}
    for n, data in enumerate([
            body % 'a',                                    # str
            io.BytesIO((body % 'b').encode()),             # file
            (chunk.encode() for chunk in [body % 'c'])]):  # chunks
        r = session.post(url, data=data, headers=json_type)
        assert r.status_code == 202, (n, r.text)
    names = sorted(os.listdir(sim.backend.volume_by_name(
        'vol_cinder_a').path))
    assert names[:3] == ['a', 'b', 'c']


def test_response_is_a_whole_requests_response(sim, in_process):
    session, base = in_process
    r = session.get(base + '/api/cluster?fields=version', stream=True)
    assert r.url == base + '/api/cluster?fields=version'
    assert r.request.method == 'GET'
    assert r.elapsed.total_seconds() >= 0
    chunks = list(r.iter_content(7))
    assert len(chunks) > 1 and all(len(c) <= 7 for c in chunks)
    assert json.loads(b''.join(chunks))['version']['generation'] == 9


def _wait_logged(sim, count, timeout=5):
    """The request log once it holds ``count`` entries (requests still
    running in the simulator)."""
    deadline = time.monotonic() + timeout
    while len(sim.request_log()) < count:
        assert time.monotonic() < deadline, sim.request_log()
        time.sleep(0.02)
    return _logged(sim)


class TestNetappOntap:
    def test_resources(self, connect):
        with connect():
            cluster = Cluster()
            cluster.get(fields='version')
            assert cluster.version.generation == 9
            assert sorted(v.name for v in Volume.get_collection()) == [
                'vol_cinder_a', 'vol_cinder_b', 'vol_glance', 'vol_vs1']

    def test_wrong_password(self, connect):
        with connect(password='wrong'), \
                pytest.raises(NetAppRestError) as ctx:
            Cluster().get()
        assert ctx.value.status_code == 401
        assert ctx.value.response_body['error']['code'] == '6'

    def test_svm_scope(self, connect):
        connection = connect()
        with connection.with_headers(VS1):
            names = [v.name for v in Volume.get_collection(
                connection=connection)]
        assert names == ['vol_vs1']
        # with_headers() drops the session; the next one is built again.
        assert len(list(Volume.get_collection(connection=connection))) == 4

    def test_status_fault(self, sim, connect):
        sim.add_fault(method='GET', path='/api/cluster', status=500,
                      code='8388608', message='boom', count=1)
        with connect() as connection:
            with pytest.raises(NetAppRestError) as ctx:
                Cluster().get()
            Cluster().get()
        assert ctx.value.status_code == 500
        assert ctx.value.response_body['error'] == {
            'message': 'boom', 'code': '8388608'}
        assert connection.session

    def test_query_reaches_the_simulator_as_encoded(self, sim, connect):
        """``netapp_ontap``'s adapter re-encodes the query (spaces as
        ``%20``, blank values dropped) on both transports."""
        connection = connect()
        connection.session.get(connection.origin +
                               '/api/storage/volumes?name=a b&fields=')
        assert _logged(sim)[-1]['query'] == 'name=a%20b'

    def test_retries_of_the_library_config(self, sim, connect,
                                           monkeypatch):
        """``RETRY_API_ON_ERROR``: a GET answered 503 twice is sent a
        third time."""
        monkeypatch.setattr(config, 'RETRY_API_ON_ERROR', True)
        monkeypatch.setattr(config, 'RETRY_API_BACKOFF_FACTOR', 0)
        sim.add_fault(method='GET', path='/api/cluster', status=503,
                      count=2)
        with connect():
            Cluster().get()
        assert [e['status'] for e in _logged(sim)] == [503, 503, 200]


class TestTimeouts:
    """A delay past the read timeout: the client gives up, the request
    goes on in the simulator; an idempotent one is sent again."""

    def test_post_times_out_and_still_runs(self, sim, connect):
        conn = connect(protocol_timeouts=(6, 0.2))
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        sim.add_fault(method='POST', path='/api/storage/file/clone',
                      delay=0.5, count=1)
        with pytest.raises(requests.exceptions.ReadTimeout):
            conn.session.post(conn.origin + '/api/storage/file/clone', json={
                'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                'source_path': 'src', 'destination_path': 'dst'})
        assert [e['status'] for e in _wait_logged(sim, 1)] == [202]

    def test_get_is_sent_again(self, sim, connect):
        conn = connect(protocol_timeouts=(6, 0.2))
        sim.add_fault(method='GET', path='/api/cluster', delay=1.0, count=1)
        started = time.monotonic()
        r = conn.session.get(conn.origin + '/api/cluster')
        assert r.status_code == 200
        assert 0.2 <= time.monotonic() - started < 1.0
        assert [e['status'] for e in _wait_logged(sim, 2)] == [200, 200]

    def test_get_gives_up_after_the_retries(self, sim, connect):
        conn = connect(protocol_timeouts=(6, 0.1))
        sim.add_fault(method='GET', path='/api/cluster', delay=0.2)
        with pytest.raises(requests.exceptions.ConnectionError,
                           match='Max retries exceeded'):
            conn.session.get(conn.origin + '/api/cluster')
        # netapp_ontap's Retry: 5 more attempts after the first.
        assert len(_wait_logged(sim, 6)) == 6

    def test_plain_adapter_does_not_retry(self, sim, in_process):
        sim.add_fault(method='GET', path='/api/cluster', delay=0.3, count=1)
        session, base = in_process
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.get(base + '/api/cluster', timeout=0.1)
        assert len(_wait_logged(sim, 1)) == 1


class TestLazyServer:
    def test_in_process_calls_open_no_socket(self, sim):
        conn = sim.connection()
        with conn:
            Cluster().get()
        assert not sim.serving and sim.bound_port is None
        assert conn.port == transport.IN_PROCESS_PORT
        assert isinstance(conn.session.get_adapter(conn.origin),
                          transport.OntapAdapter)

    @pytest.mark.parametrize('need', [
        lambda sim, tmp_path: sim.url, lambda sim, tmp_path: sim.port,
        lambda sim, tmp_path: sim.ca_file,
        lambda sim, tmp_path: sim.write_copyoffload_tool(str(tmp_path))])
    def test_an_endpoint_starts_the_server(self, sim, tmp_path, need):
        assert not sim.serving
        need(sim, tmp_path)
        assert sim.serving and os.path.exists(sim.ca_file)
        r = requests.get(sim.url + '/api/cluster', verify=sim.ca_file,
                         auth=(sim.username, sim.password))
        assert r.status_code == 200
        assert sim.connection().port == sim.port

    def test_info_does_not_start_it(self, sim):
        info = sim.info()
        assert (info['url'], info['port'], info['ca_file']) == (
            None, None, None)
        assert not sim.serving

    def test_stop_after_a_lazy_start_cleans_up(self, tmp_path):
        sim = Simulator(data_root=str(tmp_path), serve=False).start()
        ca_file = sim.ca_file
        sim.stop()
        assert not sim.serving and not os.path.exists(ca_file)
        sim.url  # noqa: B018  (a stopped simulator starts nothing)
        assert not sim.serving

    def test_default_serves_at_once(self, tmp_path):
        with Simulator(data_root=str(tmp_path)) as sim:
            assert sim.serving and sim.bound_port == sim.port
