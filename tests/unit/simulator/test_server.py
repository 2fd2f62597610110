# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The request handling and the HTTP server: path normalization, auth,
JSON errors, no tracebacks."""

import base64
import http.client
import json
import ssl

import pytest
from netapp_ontap import HostConnection
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import Cluster

from netapp_eic.simulator import server


@pytest.mark.parametrize('raw,expected', [
    ('/api//cluster/?fields=version', ('/api/cluster', 'fields=version')),
    ('/api/storage/volumes?a=1?b=2', ('/api/storage/volumes', 'a=1?b=2')),
    ('/', ('/', '')),
])
def test_normalize_path(raw, expected):
    assert server.normalize_path(raw) == expected


def test_double_slash_trailing_slash_and_max_records(sim, api):
    r = api.get(sim.url + '/api//cluster/?fields=version&max_records=10000')
    assert r.status_code == 200
    assert r.json()['version'] == {
        'full': 'NetApp Release 9.14.1: simulated', 'generation': 9,
        'major': 14, 'minor': 1}


def test_second_question_mark(sim, api):
    r = api.get(sim.url + '/api//storage/volumes?return_records=false'
                          '?max_records=10000')
    assert r.json()['num_records'] == 4 and 'records' not in r.json()


def test_wrong_password_is_401_json(sim):
    with HostConnection(sim.host, sim.username, 'wrong',
                        verify=sim.ca_file, port=sim.port), \
            pytest.raises(NetAppRestError) as ctx:
        Cluster().get()
    assert ctx.value.status_code == 401
    assert ctx.value.response_body['error']['code'] == '6'


def test_internal_error_has_no_traceback(sim, api, monkeypatch):
    def boom():
        raise RuntimeError('secret detail')
    monkeypatch.setattr(sim.backend.cluster, 'cluster_record', boom)
    r = api.get(sim.url + '/api/cluster')
    assert r.status_code == 500
    assert r.json()['error']['message'] == (
        'Internal simulator error: RuntimeError')
    assert 'Traceback' not in r.text and 'secret' not in r.text


def test_bad_json_is_400(sim, api):
    r = api.post(sim.url + '/api/storage/file/clone', data=b'{nope',
                 headers={'Content-Type': 'application/json'})
    assert r.status_code == 400
    assert r.json()['error']['message'] == 'Invalid JSON body.'


def test_request_log_records_status_and_query(sim, api):
    api.get(sim.url + '/api/storage/nope?x=1')
    last = sim.request_log()[-1]
    assert (last['method'], last['path'], last['query'], last['status']) == (
        'GET', '/api/storage/nope', 'x=1', 404)


def _basic(sim, password=None):
    token = base64.b64encode(
        f'{sim.username}:{password or sim.password}'.encode()).decode()
    return ('Authorization', f'Basic {token}')


def test_handle_without_a_transport(sim):
    """One request, no socket: the reply the server would send."""
    reply = server.handle(sim, 'GET', '/api//cluster/?fields=version',
                          [_basic(sim), ('accept', 'application/json')], b'')
    assert reply.status == 200
    assert reply.headers == [('Content-Type', 'application/json'),
                             ('Content-Length', str(len(reply.body)))]
    assert json.loads(reply.body)['version']['generation'] == 9
    assert sim.request_log()[-1]['path'] == '/api/cluster'
    refused = server.handle(sim, 'GET', '/api/cluster',
                            [_basic(sim, 'wrong')], b'')
    assert refused.status == 401
    assert ('WWW-Authenticate', 'Basic realm="ontap-sim"') in refused.headers


def test_first_of_repeated_headers_wins(sim):
    reply = server.handle(sim, 'GET', '/api/storage/volumes', [
        _basic(sim), ('X-Dot-SVM-Name', 'vs1'), ('x-dot-svm-name', 'vs0')],
        b'')
    assert [r['name'] for r in json.loads(reply.body)['records']] == [
        'vol_vs1']


def test_unreadable_content_length_is_an_internal_error(sim):
    conn = http.client.HTTPSConnection(
        sim.host, sim.port, timeout=10,
        context=ssl.create_default_context(cafile=sim.ca_file))
    try:
        conn.putrequest('POST', '/api/storage/file/clone')
        conn.putheader(*_basic(sim))
        conn.putheader('Content-Length', 'many')
        conn.endheaders()
        answer = conn.getresponse()
        body = json.loads(answer.read())
    finally:
        conn.close()
    assert answer.status == 500
    assert body['error']['message'] == 'Internal simulator error: ValueError'
    assert sim.request_log()[-1]['status'] == 500
