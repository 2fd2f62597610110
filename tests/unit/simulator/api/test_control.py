# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ``/_sim`` control API."""

import os

import requests
from netapp_ontap.resources import FileClone

from tests.unit.simulator.helpers import vol_dir, vol_uuid, write_file


def test_request_log_and_reset(sim, api, conn):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    FileClone(volume={'uuid': vol_uuid(sim, 'vol_cinder_a')},
              source_path='src', destination_path='dst').post(
        poll=True, poll_interval=0.05)
    log = api.get(sim.control_url + '/requests').json()['records']
    assert [(r['method'], r['path'], r['status']) for r in log[:2]] == [
        ('POST', '/api/storage/file/clone', 202),
        ('GET', '/api/cluster/jobs/' + sim.backend.jobs.records()[0]['uuid'],
         200)]
    assert log[1]['query'] == 'fields=message%2Cstate'
    api.delete(sim.control_url + '/requests')
    assert sim.request_log() == []
    sim.add_fault(path='/x', status=500)
    assert api.post(sim.control_url + '/reset').status_code == 200
    assert sim.faults.records() == [] and sim.backend.jobs.all() == []
    assert os.path.exists(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'dst'))


def test_info(sim, api):
    info = api.get(sim.control_url + '/info').json()
    assert info == sim.info()


def test_delete_one_fault(sim, api):
    first = api.post(sim.control_url + '/faults', json={'path': '/a'}).json()
    api.post(sim.control_url + '/faults', json={'path': '/b'})
    assert api.delete(f"{sim.control_url}/faults/{first['id']}").ok
    assert [f['path'] for f in sim.faults.records()] == ['/b']
    assert api.delete(sim.control_url + '/faults/x').status_code == 400


def test_control_api_needs_auth(sim):
    r = requests.get(sim.control_url + '/info', verify=sim.ca_file,
                     auth=(sim.username, 'nope'))
    assert r.status_code == 401
