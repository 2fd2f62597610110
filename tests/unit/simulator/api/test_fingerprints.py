# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File fingerprints on the wire: real digests of real files, the
session's states, listing, reading and aborting, the refusals and every
injected fault; ``netapp_ontap``'s own ``SnaplockFileFingerprint`` in
process and over HTTPS."""

import base64
import hashlib
import os
import time

import pytest
from netapp_ontap import HostConnection
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import SnaplockFileFingerprint

from tests.unit.simulator.helpers import MIB, vol_dir, write_file

PATH = '/api/storage/snaplock/file-fingerprints'


class Http:
    """Plain requests answered in process, on ``conn``'s session."""

    def __init__(self, conn):
        self.session = conn.session
        self.origin = conn.origin

    def __getattr__(self, method):
        def call(path, **kwargs):
            return getattr(self.session, method)(self.origin + path,
                                                 **kwargs)
        return call


@pytest.fixture
def http(conn):
    return Http(conn)


def _body(sim, path, vol='vol_cinder_a', **extra):
    volume = sim.backend.volume_by_name(vol)
    return dict({'svm': {'uuid': volume.svm.uuid},
                 'volume': {'uuid': volume.uuid}, 'path': path}, **extra)


def _start(http, sim, path, vol='vol_cinder_a', **extra):
    """POST a session; its URL."""
    r = http.post(PATH, json=_body(sim, path, vol, **extra))
    assert r.status_code == 201, r.text
    return r.headers['Location']


def _wait(http, url, states=('completed', 'failed'), timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        record = http.get(url).json()
        if record.get('state') in states:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.01)


def _error(response):
    return response.status_code, response.json()['error']['code']


def _listing(http, sim, vol='vol_cinder_a', **params):
    volume = sim.backend.volume_by_name(vol)
    return http.get(PATH, params=dict({'svm.uuid': volume.svm.uuid,
                                       'volume.uuid': volume.uuid},
                                      **params)).json()


# -- digests -----------------------------------------------------------------

@pytest.mark.parametrize('algorithm', ['md5', 'sha256'])
def test_digest_is_the_base64_of_the_real_digest(sim, http, algorithm):
    data = os.urandom(3 * MIB + 5)  # more than one read
    write_file(sim, 'vol_cinder_a', 'img', data=data)
    record = _wait(http, _start(http, sim, '/img', algorithm=algorithm))
    raw = base64.b64decode(record['data_fingerprint'], validate=True)
    assert raw == hashlib.new(algorithm, data).digest()
    assert record['algorithm'] == algorithm
    assert record['file_size'] == len(data)
    assert (record['file_type'], record['scope'], record['path']) == (
        'regular', 'data_and_metadata', '/img')
    metadata = base64.b64decode(record['metadata_fingerprint'])
    assert len(metadata) == len(raw)


def test_default_algorithm_is_sha256_and_metadata_stable(sim, http):
    os.mkdir(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'd'))
    write_file(sim, 'vol_cinder_a', 'd/x', data=b'abc')
    first = _wait(http, _start(http, sim, '/d/x'))
    second = _wait(http, _start(http, sim, '/d/x'))
    assert first['algorithm'] == 'sha256'
    assert base64.b64decode(first['data_fingerprint']) == hashlib.sha256(
        b'abc').digest()
    assert first['metadata_fingerprint'] == second['metadata_fingerprint']
    assert first['id'] != second['id']


def test_empty_file(sim, http):
    write_file(sim, 'vol_cinder_a', 'empty', data=b'')
    record = _wait(http, _start(http, sim, '/empty', algorithm='md5'))
    assert base64.b64decode(record['data_fingerprint']) == hashlib.md5(
        b'').digest()
    assert record['file_size'] == 0


def test_algorithm_is_case_insensitive(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    record = _wait(http, _start(http, sim, '/img', algorithm='MD5'))
    assert record['algorithm'] == 'md5'
    assert base64.b64decode(record['data_fingerprint']) == hashlib.md5(
        b'x').digest()


def test_svm_and_volume_by_name(sim, http):
    write_file(sim, 'vol_glance', 'img', data=b'x')
    r = http.post(PATH, json={'svm': {'name': 'vs0'},
                              'volume': {'name': 'vol_glance'},
                              'path': '/img'})
    assert r.status_code == 201, r.text
    record = _wait(http, r.headers['Location'])
    assert record['volume']['name'] == 'vol_glance'
    assert record['svm']['name'] == 'vs0'


# -- the POST answer and the states ------------------------------------------

def test_post_is_201_with_location_and_the_record_on_request(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    plain = http.post(PATH, json=_body(sim, '/img'))
    assert plain.status_code == 201 and plain.json() == {}
    r = http.post(PATH + '?return_records=true', json=_body(sim, '/img'))
    assert r.status_code == 201
    (record,) = r.json()['records']
    assert isinstance(record['id'], int)
    assert r.headers['Location'] == f'{PATH}/{record["id"]}'
    assert record['_links']['self']['href'] == r.headers['Location']
    assert plain.headers['Location'] == f'{PATH}/{record["id"] - 1}'


def test_states_in_progress_then_completed(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=1.0)
    url = _start(http, sim, '/img')
    running = http.get(url).json()
    assert running['state'] == 'in_progress'
    assert 'data_fingerprint' not in running
    assert _wait(http, url)['state'] == 'completed'


# -- listing, reading, aborting ----------------------------------------------

def test_listing_needs_svm_and_volume_uuid(sim, http):
    volume = sim.backend.volume_by_name('vol_cinder_a')
    for params in ({}, {'svm.uuid': volume.svm.uuid},
                   {'volume.uuid': volume.uuid}):
        assert _error(http.get(PATH, params=params)) == (400, '262179')


def test_listing_shows_the_volume_s_sessions(sim, http):
    write_file(sim, 'vol_cinder_a', 'a', data=b'a')
    write_file(sim, 'vol_glance', 'g', data=b'g')
    urls = [_start(http, sim, '/a'), _start(http, sim, '/a', algorithm='md5'),
            _start(http, sim, '/g', 'vol_glance')]
    for url in urls:
        _wait(http, url)
    body = _listing(http, sim)
    assert [r['_links']['self']['href'] for r in body['records']] == urls[:2]
    assert set(body['records'][0]) == {'id', 'path', 'state', 'svm',
                                       'volume', '_links'}
    fields = _listing(http, sim, fields='data_fingerprint')['records']
    assert all(r['data_fingerprint'] for r in fields)


def test_unknown_session_is_invalid_session_id(sim, http):
    for session in ('17039999', 'abc', '²'):
        assert _error(http.get(f'{PATH}/{session}')) == (404, '14090446')
        assert _error(http.delete(f'{PATH}/{session}')) == (404, '14090446')


def test_delete_aborts_a_running_session(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    url = _start(http, sim, '/img')
    started = time.monotonic()
    assert http.delete(url).status_code == 200
    deadline = started + 5
    while http.get(url).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert _error(http.get(url)) == (404, '14090446')
    assert _listing(http, sim)['num_records'] == 0
    assert time.monotonic() - started < 5


def test_delete_of_an_ended_session_has_completed(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    done = _start(http, sim, '/img')
    _wait(http, done)
    sim.add_fault(method='POST', path=PATH, fingerprint_fail=True)
    failed = _start(http, sim, '/img')
    assert _wait(http, failed)['state'] == 'failed'
    for url in (done, failed):
        assert _error(http.delete(url)) == (400, '14090440')
        assert http.get(url).status_code == 200


def test_scoped_request_sees_only_its_svm_s_sessions(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    url = _start(http, sim, '/img')
    other = {'X-Dot-SVM-Name': 'vs1'}
    assert _error(http.get(url, headers=other)) == (404, '14090446')
    assert _error(http.delete(url, headers=other)) == (404, '14090446')
    r = http.post(PATH, json=_body(sim, '/img'), headers=other)
    assert _error(r) == (404, '4')
    own = http.get(url, headers={'X-Dot-SVM-Name': 'vs0'})
    assert own.status_code == 200


# -- what is refused ---------------------------------------------------------

def test_files_refused_at_the_post(sim, http):
    root = vol_dir(sim, 'vol_cinder_a')
    write_file(sim, 'vol_cinder_a', 'real', data=b'secret')
    os.symlink('real', os.path.join(root, 'link'))
    os.mkdir(os.path.join(root, 'dir'))
    os.symlink('dir', os.path.join(root, 'dirlink'))
    cases = {'/missing': (404, '6684674'), '/link': (400, '6684677'),
             '/dir': (400, '6684680'), 'real': (400, '14090347'),
             '/dirlink/x': (404, '6684674'),
             '/../vol_cinder_b/x': (400, '262179'),
             '/.snapshot/s/real': (404, '6684674')}
    for path, expected in cases.items():
        r = http.post(PATH, json=_body(sim, path))
        assert _error(r) == expected, path
    assert sim.backend.fingerprints.all() == []


def test_bodies_are_strict(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    vol_b = sim.backend.volume_by_name('vol_vs1')
    cases = [
        (_body(sim, '/img', scope='data_only'), (400, '262179')),
        (_body(sim, '/img', file_size=1), (400, '262179')),
        (_body(sim, '/img', algorithm='sha1'), (400, '262197')),
        ({'svm': {'name': 'vs0'}, 'volume': {'name': 'vol_cinder_a'}},
         (400, '262179')),
        ({'volume': {'name': 'vol_cinder_a'}, 'path': '/img'},
         (400, '262179')),
        ({'svm': {'name': 'vs0'}, 'path': '/img'}, (400, '262179')),
        ({'svm': {'name': 'vs0'}, 'volume': {'uuid': vol_b.uuid},
          'path': '/img'}, (404, '4')),
        ({'svm': {'name': 'nope'}, 'volume': {'name': 'vol_cinder_a'},
          'path': '/img'}, (404, '4')),
    ]
    for body, expected in cases:
        assert _error(http.post(PATH, json=body)) == expected, body
    assert sim.backend.fingerprints.all() == []


# -- faults ------------------------------------------------------------------

@pytest.mark.parametrize('refusal,expected', [
    ('forbidden', (403, '6691623')),
    ('unknown_api', (404, '3')),
    ('unlicensed', (400, '6684681')),
])
def test_refusals(sim, http, refusal, expected):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, refuse=refusal)
    assert _error(http.post(PATH, json=_body(sim, '/img'))) == expected
    assert sim.backend.fingerprints.all() == []
    sim.clear_faults()
    _start(http, sim, '/img')


def test_unknown_api_refusal_on_every_method(sim, http):
    sim.add_fault(path=PATH + '*', refuse='unknown_api')
    assert _error(http.get(PATH + '/1')) == (404, '3')
    assert _error(http.delete(PATH + '/1')) == (404, '3')
    assert _error(http.get(PATH)) == (404, '3')


def test_failure_fault(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_fail=True, count=1)
    record = _wait(http, _start(http, sim, '/img'))
    assert record['state'] == 'failed'
    assert 'data_fingerprint' not in record
    assert _wait(http, _start(http, sim, '/img'))['state'] == 'completed'


@pytest.mark.parametrize('fault', ['wrong', 'truncated', 'garbage'])
def test_digest_faults(sim, http, fault):
    write_file(sim, 'vol_cinder_a', 'img', data=b'payload')
    sim.add_fault(method='POST', path=PATH, fingerprint_digest=fault)
    record = _wait(http, _start(http, sim, '/img'))
    assert record['state'] == 'completed'
    text = record['data_fingerprint']
    right = hashlib.sha256(b'payload').digest()
    if fault == 'garbage':
        with pytest.raises(ValueError):
            base64.b64decode(text, validate=True)
        return
    raw = base64.b64decode(text, validate=True)
    assert raw != right
    assert len(raw) == (32 if fault == 'wrong' else 31)


def test_slowness_fault_keeps_the_session_in_progress(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=1.0)
    started = time.monotonic()
    url = _start(http, sim, '/img')
    time.sleep(0.3)
    assert http.get(url).json()['state'] == 'in_progress'
    assert _wait(http, url)['state'] == 'completed'
    assert time.monotonic() - started >= 1.0


def test_vanish_fault(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_vanish=True,
                  fingerprint_delay=0.5)
    url = _start(http, sim, '/img')
    assert http.get(url).json()['state'] == 'in_progress'
    deadline = time.monotonic() + 5
    while http.get(url).status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert _error(http.get(url)) == (404, '14090446')
    assert _listing(http, sim)['num_records'] == 0


def test_faults_through_the_control_api_and_reset(sim, http):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    r = http.post('/_sim/faults', json={
        'method': 'POST', 'path': PATH, 'fingerprint_delay': 30})
    assert r.status_code == 201, r.text
    url = _start(http, sim, '/img')
    assert http.post('/_sim/reset').status_code == 200
    assert _error(http.get(url)) == (404, '14090446')
    assert sim.faults.records() == []
    assert _wait(http, _start(http, sim, '/img'))['state'] == 'completed'


@pytest.mark.parametrize('spec', [
    {'refuse': 'bogus'}, {'fingerprint_digest': 'bad'},
    {'fingerprint_delay': 'x'}, {'fingerprint_delay': -1},
    {'fingerprint_delay': True}])
def test_fault_values_are_checked(http, spec):
    r = http.post('/_sim/faults', json=dict(spec, path=PATH))
    assert _error(r) == (400, '262197')


# -- netapp_ontap's resource -------------------------------------------------

def _resource(sim, path, algorithm):
    volume = sim.backend.volume_by_name('vol_cinder_a')
    return SnaplockFileFingerprint(svm={'name': volume.svm.name},
                                   volume={'uuid': volume.uuid}, path=path,
                                   algorithm=algorithm)


def _resource_roundtrip(sim, connection):
    """post(hydrate=True), get until completed, delete refused (ended);
    a slow one deleted while it runs."""
    data = os.urandom(MIB)
    write_file(sim, 'vol_cinder_a', 'img', data=data)
    fp = _resource(sim, '/img', 'md5')
    fp.post(hydrate=True, connection=connection)
    assert int(fp.id) >= 17039361
    fp.set_connection(connection)
    deadline = time.monotonic() + 10
    while fp.state != 'completed':
        assert time.monotonic() < deadline
        time.sleep(0.01)
        fp.get()
    assert base64.b64decode(fp.data_fingerprint) == hashlib.md5(
        data).digest()
    assert fp.file_size == len(data)
    with pytest.raises(NetAppRestError) as ctx:
        fp.delete(connection=connection)
    assert ctx.value.response_body['error']['code'] == '14090440'
    listed = list(SnaplockFileFingerprint.get_collection(
        connection=connection, fields='state',
        **{'svm.uuid': sim.backend.svm('vs0').uuid,
           'volume.uuid': fp.volume.uuid}))
    assert [(int(r.id), r.state) for r in listed] == [(int(fp.id),
                                                      'completed')]
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    slow = _resource(sim, '/img', 'sha256')
    slow.post(connection=connection)
    slow.delete(connection=connection)
    deadline = time.monotonic() + 5
    while any(s.id == int(slow.id) for s in sim.backend.fingerprints.all()):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_netapp_ontap_resource_in_process(sim, conn):
    _resource_roundtrip(sim, conn)


def test_netapp_ontap_resource_over_https(sim):
    connection = HostConnection(sim.host, port=sim.port,
                                username=sim.username,
                                password=sim.password, verify=sim.ca_file)
    _resource_roundtrip(sim, connection)
