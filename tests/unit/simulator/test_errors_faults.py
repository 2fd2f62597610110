# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Error semantics, TLS, fault injection and the request log."""

import os
import time

import pytest
import requests
from netapp_ontap import HostConnection
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import Cluster, FileClone, FileCopy

from tests.unit.simulator.helpers import MIB, vol_dir, vol_uuid, write_file


def _copy_body(sim, src='src', dst='dst'):
    return {'files_to_copy': [{
        'source': {'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                   'path': 'vol_cinder_a/' + src},
        'destination': {'volume': {'uuid': vol_uuid(sim, 'vol_cinder_b')},
                        'path': 'vol_cinder_b/' + dst}}]}


def _wait_job(api, sim, job_uuid, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(sim.url + '/api/cluster/jobs/' + job_uuid).json()
        if job['state'] in ('success', 'failure'):
            return job
        time.sleep(0.02)
    raise AssertionError('job did not finish')


class TestErrors:
    def test_wrong_password_is_401_json(self, sim):
        with HostConnection(sim.host, sim.username, 'wrong',
                            verify=sim.ca_file, port=sim.port), \
                pytest.raises(NetAppRestError) as ctx:
            Cluster().get()
        assert ctx.value.status_code == 401
        assert ctx.value.response_body['error']['code'] == '6'

    @pytest.mark.parametrize('path,code', [
        ('/api/storage/volumes/00000000-0000-4000-8000-000000000000', '4'),
        ('/api/cluster/jobs/00000000-0000-4000-8000-000000000000', '4'),
        ('/api/storage/volumes/{vol}/files/missing', '6684674'),
    ])
    def test_missing_objects_are_404(self, sim, api, path, code):
        r = api.get(sim.url + path.format(vol=vol_uuid(sim, 'vol_cinder_a')))
        assert r.status_code == 404
        assert r.json()['error']['code'] == code
        assert 'Traceback' not in r.text

    def test_unknown_endpoint_is_explicit_and_logged(self, sim, api):
        r = api.get(sim.url + '/api/storage/luns')
        assert r.status_code == 404
        assert r.json()['error']['code'] == '3'
        assert 'not implemented' in r.json()['error']['message']
        log = sim.request_log()
        assert (log[-1]['path'], log[-1]['status']) == ('/api/storage/luns',
                                                        404)

    def test_internal_error_has_no_traceback(self, sim, api, monkeypatch):
        def boom():
            raise RuntimeError('secret detail')
        monkeypatch.setattr(sim.backend, 'cluster_record', boom)
        r = api.get(sim.url + '/api/cluster')
        assert r.status_code == 500
        assert r.json()['error']['message'] == (
            'Internal simulator error: RuntimeError')
        assert 'Traceback' not in r.text and 'secret' not in r.text

    def test_bad_json_is_400(self, sim, api):
        r = api.post(sim.url + '/api/storage/file/clone', data=b'{nope',
                     headers={'Content-Type': 'application/json'})
        assert r.status_code == 400
        assert r.json()['error']['code']


class TestTls:
    def test_client_without_ca_fails(self, sim):
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(sim.url + '/api/cluster', verify=True, timeout=10,
                         auth=(sim.username, sim.password))

    def test_client_with_ca_verifies_ip_and_localhost(self, sim, api):
        assert api.get(sim.url + '/api/cluster').status_code == 200
        url = f'https://localhost:{sim.port}/api/cluster'
        assert api.get(url).json()['name'] == 'cluster1'

    def test_plain_http_on_request(self, tmp_path):
        from netapp_eic.simulator import Simulator
        with Simulator(data_root=str(tmp_path), tls=False) as sim:
            assert sim.url.startswith('http://') and sim.ca_file is None
            r = requests.get(sim.url + '/api/cluster',
                             auth=(sim.username, sim.password))
            assert r.json()['version']['major'] == 14


class TestFaults:
    def test_status_fault_python_api(self, sim, conn):
        sim.add_fault(method='GET', path='/api/cluster', status=503,
                      code='99', message='boom', count=1)
        with pytest.raises(NetAppRestError) as ctx:
            Cluster().get()
        assert ctx.value.status_code == 503
        assert ctx.value.response_body['error'] == {'message': 'boom',
                                                    'code': '99'}
        Cluster().get()  # count=1: the fault fired once
        assert sim.faults.list() == []

    def test_status_fault_http_api(self, sim, api):
        r = api.post(sim.control_url + '/faults', json={
            'method': 'GET', 'path': '/api/storage/*', 'status': 500})
        assert r.status_code == 201
        assert api.get(sim.url + '/api/storage/volumes').status_code == 500
        assert api.get(sim.url + '/api/cluster').status_code == 200
        faults = api.get(sim.control_url + '/faults').json()['records']
        assert [f['path'] for f in faults] == ['/api/storage/*']
        assert api.delete(sim.control_url + '/faults').status_code == 200
        assert api.get(sim.url + '/api/storage/volumes').status_code == 200

    def test_unknown_fault_key_rejected(self, sim, api):
        r = api.post(sim.control_url + '/faults', json={'bogus': 1})
        assert r.status_code == 400

    def test_delay_fault(self, sim, api):
        sim.add_fault(path='/api/cluster', delay=0.3, count=1)
        start = time.monotonic()
        assert api.get(sim.url + '/api/cluster').status_code == 200
        assert time.monotonic() - start >= 0.3

    def test_fail_after_percent(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'src', 2 * MIB)
        sim.add_fault(method='POST', path='/api/storage/file/copy',
                      fail_after_percent=50)
        with pytest.raises(NetAppRestError) as ctx:
            FileCopy(files_to_copy=_copy_body(sim)['files_to_copy']).post(
                poll=True, poll_interval=0.05)
        assert 'Injected failure after 50%' in str(ctx.value)
        partial = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'dst')
        assert os.path.getsize(partial) == MIB

    def test_fail_after_percent_http_api(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', MIB)
        api.post(sim.control_url + '/faults', json={
            'path': '/api/storage/file/copy', 'fail_after_percent': 25})
        r = api.post(sim.url + '/api/storage/file/copy', json=_copy_body(sim))
        job = _wait_job(api, sim, r.json()['job']['uuid'])
        assert job['state'] == 'failure'
        assert job['error']['message'] == job['message']
        assert os.path.getsize(os.path.join(
            vol_dir(sim, 'vol_cinder_b'), 'dst')) == MIB // 4

    def test_throttle(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', MIB)
        sim.add_fault(path='/api/storage/file/copy', throttle_bps=2 * MIB)
        start = time.monotonic()
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=30',
                     json=_copy_body(sim))
        assert r.json()['state'] == 'success'
        assert time.monotonic() - start >= 0.4

    def test_no_space_clone_and_copy(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x' * 4096)
        api.post(sim.control_url + '/faults', json={'no_space': True})
        r = api.post(sim.url + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': 'dst'})
        assert r.status_code == 400
        assert r.json()['error']['code'] == '13'
        r = api.post(sim.url + '/api/storage/file/copy', json=_copy_body(sim))
        job = _wait_job(api, sim, r.json()['job']['uuid'])
        assert job['state'] == 'failure'
        assert job['error']['code'] == '13'

    def test_real_space_check(self, tmp_path, api):
        from netapp_eic.simulator import Simulator
        topology = {'svms': [{'name': 'vs0', 'lifs': ['127.0.0.1'],
                              'volumes': [{'name': 'small', 'size': '1MiB',
                                           'snapshot_reserve_percent': 0}]}]}
        with Simulator(topology=topology, data_root=str(tmp_path),
                       tls=False) as sim:
            write_file(sim, 'small', 'src', 600 * 1024)
            r = requests.post(sim.url + '/api/storage/file/clone', json={
                'volume': {'name': 'small'}, 'source_path': 'src',
                'destination_path': 'dst'},
                auth=(sim.username, sim.password))
            assert r.status_code == 400
            assert r.json()['error']['code'] == '13'
            assert not os.path.exists(os.path.join(
                sim.backend.volumes[0].path, 'dst'))


class TestControlApi:
    def test_request_log_and_reset(self, sim, api, conn):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        FileClone(volume={'uuid': vol_uuid(sim, 'vol_cinder_a')},
                  source_path='src', destination_path='dst').post(
            poll=True, poll_interval=0.05)
        log = api.get(sim.control_url + '/requests').json()['records']
        assert [(r['method'], r['path'], r['status']) for r in log[:2]] == [
            ('POST', '/api/storage/file/clone', 202),
            ('GET',
             '/api/cluster/jobs/' + sim.backend.job_records()[0]['uuid'],
             200)]
        assert log[1]['query'] == 'fields=message%2Cstate'
        api.delete(sim.control_url + '/requests')
        assert sim.request_log() == []
        sim.add_fault(path='/x', status=500)
        assert api.post(sim.control_url + '/reset').status_code == 200
        assert sim.faults.list() == [] and sim.backend.jobs == {}
        assert os.path.exists(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                                           'dst'))

    def test_info(self, sim, api):
        info = api.get(sim.control_url + '/info').json()
        assert info == sim.info()
        assert info['clone_mode'] == 'copy'
        assert info['shares']['127.0.0.2:/vol_vs1'] == vol_dir(sim, 'vol_vs1')

    def test_control_api_needs_auth(self, sim):
        r = requests.get(sim.control_url + '/info', verify=sim.ca_file,
                         auth=(sim.username, 'nope'))
        assert r.status_code == 401
