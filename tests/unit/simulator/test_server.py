# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The HTTP server: path normalization, auth, JSON errors, no tracebacks."""

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
