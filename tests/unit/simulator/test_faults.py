# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fault injection through the Python API and ``/_sim/faults``."""

import os
import time

import pytest
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import Cluster, FileCopy

from netapp_eic.simulator import errors, faults
from tests.unit.simulator.helpers import (
    MIB,
    copy_body,
    vol_dir,
    vol_uuid,
    wait_job,
    write_file,
)


class TestFaultTable:
    def test_count_glob_and_method(self):
        table = faults.Faults()
        table.add({'method': 'post', 'path': '/api/storage/*', 'count': 2,
                   'throttle_bps': 10})
        assert table.apply('GET', '/api/storage/volumes') == {}
        assert table.apply('POST', '/api/cluster') == {}
        for _ in range(2):
            assert table.apply('POST', '/api/storage/file/copy') == {
                'throttle_bps': 10}
        assert table.records() == []

    def test_status_fault_raises_ontap_error(self):
        table = faults.Faults()
        table.add({'path': '/x', 'status': 503, 'code': '99'})
        with pytest.raises(errors.OntapError) as ctx:
            table.apply('GET', '/x')
        assert (ctx.value.status, ctx.value.code) == (503, '99')

    def test_unknown_key_rejected(self):
        with pytest.raises(errors.BadRequest):
            faults.Faults().add({'bogus': 1})

    def test_clear_one(self):
        table = faults.Faults()
        first = table.add({'path': '/a'})
        table.add({'path': '/b'})
        table.clear(first['id'])
        assert [f['path'] for f in table.records()] == ['/b']


class TestFaultsOnTheWire:
    def test_status_fault_python_api(self, sim, conn):
        sim.add_fault(method='GET', path='/api/cluster', status=503,
                      code='99', message='boom', count=1)
        with pytest.raises(NetAppRestError) as ctx:
            Cluster().get()
        assert ctx.value.status_code == 503
        assert ctx.value.response_body['error'] == {'message': 'boom',
                                                    'code': '99'}
        Cluster().get()  # count=1: the fault fired once
        assert sim.faults.records() == []

    def test_status_fault_http_api(self, sim, api):
        r = api.post(sim.control_url + '/faults', json={
            'method': 'GET', 'path': '/api/storage/*', 'status': 500})
        assert r.status_code == 201
        assert api.get(sim.url + '/api/storage/volumes').status_code == 500
        assert api.get(sim.url + '/api/cluster').status_code == 200
        listed = api.get(sim.control_url + '/faults').json()['records']
        assert [f['path'] for f in listed] == ['/api/storage/*']
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
            FileCopy(files_to_copy=copy_body(sim)['files_to_copy']).post(
                poll=True, poll_interval=0.05)
        assert 'Injected failure after 50%' in str(ctx.value)
        partial = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'dst')
        assert os.path.getsize(partial) == MIB

    def test_fail_after_percent_http_api(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', MIB)
        api.post(sim.control_url + '/faults', json={
            'path': '/api/storage/file/copy', 'fail_after_percent': 25})
        r = api.post(sim.url + '/api/storage/file/copy', json=copy_body(sim))
        job = wait_job(api, sim, r.json()['job']['uuid'])
        assert job['state'] == 'failure'
        assert job['error']['message'] == job['message']
        assert os.path.getsize(os.path.join(
            vol_dir(sim, 'vol_cinder_b'), 'dst')) == MIB // 4

    def test_throttle(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', MIB)
        sim.add_fault(path='/api/storage/file/copy', throttle_bps=2 * MIB)
        start = time.monotonic()
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=30',
                     json=copy_body(sim))
        assert r.status_code == 200
        assert time.monotonic() - start >= 0.4

    def test_no_space_clone_and_copy(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x' * 4096)
        api.post(sim.control_url + '/faults', json={'no_space': True})
        r = api.post(sim.url + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': 'dst'})
        assert r.status_code == 400
        assert r.json()['error']['code'] == '13'
        r = api.post(sim.url + '/api/storage/file/copy', json=copy_body(sim))
        job = wait_job(api, sim, r.json()['job']['uuid'])
        assert job['state'] == 'failure'
        assert job['error']['code'] == '13'
