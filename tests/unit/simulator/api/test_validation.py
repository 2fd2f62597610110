# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Strict requests: what ONTAP refuses, the simulator refuses the same way.

Codes: 262197 ``The value "x" is invalid for field "f"`` (observed on ONTAP
for ``fields``), 262179 ``Unexpected argument "x".`` (observed on ONTAP).
"""

import os

import pytest

from netapp_eic.simulator.api import validation
from netapp_eic.simulator import errors
from tests.unit.simulator.helpers import (
    copy_body,
    vol_dir,
    vol_uuid,
    write_file,
)

INVALID, UNEXPECTED = '262197', '262179'


def _error(r):
    return r.status_code, r.json()['error']['code'], r.json()['error'].get(
        'target')


@pytest.mark.parametrize('query,code,target', [
    ('fields=bogus', INVALID, 'fields'),
    ('fields=name,space.bogus', INVALID, 'fields'),
    ('bogus=1', UNEXPECTED, None),
    ('space.bogus=1', UNEXPECTED, None),
    ('max_records=abc', INVALID, 'max_records'),
    ('return_records=yes', INVALID, 'return_records'),
    ('return_timeout=500', INVALID, 'return_timeout'),
    ('return_timeout=abc', INVALID, 'return_timeout'),
    ('order_by=bogus', INVALID, 'order_by'),
    ('order_by=name%20sideways', INVALID, 'order_by'),
])
def test_invalid_queries(sim, api, query, code, target):
    r = api.get(f'{sim.url}/api/storage/volumes?{query}')
    assert _error(r) == (400, code, target)


def test_unexpected_argument_message_is_ontaps(sim, api):
    r = api.get(sim.url + '/api/cluster?bogus=1')
    assert r.json() == {'error': {'message': 'Unexpected argument "bogus".',
                                  'code': UNEXPECTED}}


def test_invalid_fields_message_is_ontaps(sim, api):
    r = api.get(sim.url + '/api/cluster?fields=bogus')
    assert r.json()['error']['message'] == (
        'The value "bogus" is invalid for field "fields" (<field,...>)')


@pytest.mark.parametrize('body,code', [
    ({'bogus_field': 1}, UNEXPECTED),
    ({'overwrite': True}, UNEXPECTED),
    ({'volume': {'bogus': 'x'}}, UNEXPECTED),
    ({'overwrite_destination': 'yes'}, INVALID),
    ({'source_path': 5}, INVALID),
])
def test_invalid_clone_bodies(sim, api, body, code):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    full = {'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': 'dst'}
    for key, value in body.items():
        if isinstance(value, dict):
            full[key] = dict(full.get(key, {}), **value)
        else:
            full[key] = value
    r = api.post(sim.url + '/api/storage/file/clone', json=full)
    assert (r.status_code, r.json()['error']['code']) == (400, code)
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['src']


def test_invalid_copy_body_nested_key(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    body = copy_body(sim)
    body['files_to_copy'][0]['source']['bogus'] = 1
    r = api.post(sim.url + '/api/storage/file/copy', json=body)
    assert r.json()['error'] == {
        'message': 'Unexpected argument "files_to_copy[0].source.bogus".',
        'code': UNEXPECTED}
    assert os.listdir(vol_dir(sim, 'vol_cinder_b')) == []


def test_body_on_an_operation_without_one(sim, api):
    write_file(sim, 'vol_cinder_a', 'f', data=b'x')
    url = f"{sim.url}/api/storage/volumes/{vol_uuid(sim, 'vol_cinder_a')}"
    r = api.delete(url + '/files/f', json={'recurse': True})
    assert _error(r) == (400, UNEXPECTED, None)
    assert os.path.exists(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'f'))


def test_return_timeout_bounds_on_actions(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    body = {'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': 'dst'}
    for value in ('121', '-1', '1.5'):
        r = api.post(sim.url + f'/api/storage/file/clone?return_timeout='
                     f'{value}', json=body)
        assert _error(r) == (400, INVALID, 'return_timeout')
    r = api.post(sim.url + '/api/storage/file/clone?return_timeout=120',
                 json=body)
    assert r.status_code == 200


#: Every field, filter and body Cinder 29's REST client sends on the NFS
#: path (its client_cmode_rest.py, observed on the wire): all must pass.
CINDER_GETS = [
    '/api/cluster?fields=version&max_records=10000',
    '/api/cluster/nodes?fields=model,name,is_all_flash_optimized,'
    'is_all_flash_select_optimized&max_records=10000',
    '/api/storage/aggregates?return_records=false?max_records=10000',
    '/api/storage/volumes/?type=rw&style=flex*&is_svm_root=false&'
    'error_state.is_inconsistent=false&state=online&fields=aggregates.name,'
    'name,svm.name,nas.path,type,guarantee.honored,guarantee.type,'
    'space.snapshot.reserve_percent,space.size,qos.policy.name,'
    'snapshot_policy,language,style&nas.path=/vol_cinder_a&max_records=10000',
    '/api/storage/volumes?efficiency.volume_path=/vol/vol_cinder_a&fields='
    'efficiency.state,efficiency.compression&max_records=10000',
    '/api/storage/volumes/?encryption.enabled=true&name=vol_cinder_a&'
    'svm.name=vs0&return_records=false&max_records=10000',
    '/api/storage/volumes?fields=snapshot_directory_access_enabled&'
    'name=vol_cinder_a',
    '/api/storage/volumes/?fields=name,space.available,space.afs_total&'
    'nas.path=/vol_cinder_a',
    '/api/snapmirror/relationships/?source.path=vs0:vol_cinder_a&'
    'state=snapmirrored&return_records=false&max_records=10000',
    '/api/storage/aggregates?name=aggr1&fields=name,'
    'block_storage.primary.raid_type,block_storage.storage_type,'
    'home_node.name&max_records=10000',
    '/api/storage/aggregates?name=aggr1&fields=space.block_storage.available,'
    'space.block_storage.size,space.block_storage.used&max_records=10000',
    '/api/storage/disks?aggregates.name=aggr1&fields=effective_type&'
    'max_records=10000',
    '/api/network/ip/interfaces/?state=up&fields=ip.address&'
    'max_records=10000',
    '/api/network/ip/interfaces/?ip.address=127.0.0.1&fields=svm&'
    'max_records=10000',
    '/api/cluster/counter/tables/system:constituent?counter_schemas.name='
    'average_processor_busy_percent&fields=counter_schemas.*&'
    'max_records=10000',
    '/api/cluster/counter/tables/system:constituent/rows?counters.name='
    'average_processor_busy_percent&fields=counters.*&max_records=10000',
    '/api/cluster/counter/tables/wafl/rows?id=node1:*&max_records=10000',
    '/api/cluster/counter/tables/processor/rows?id=a%7Cb&counters.name='
    'a%7Cb&fields=id,counter_table.name,counters.*&max_records=10000',
    '/api/storage/file/clone/split-status?volume.name=vol_cinder_a&'
    'svm.name=vs0&max_records=10000',
    '/api/storage/qos/policies/?name=p&max_records=10000',
    '/api/svm/svms?name=vs0&fields=uuid,name&return_timeout=30',
    '/api/svm/peers?fields=svm.name,state,peer.svm.name,peer.cluster.name,'
    'applications&name=p&svm.name=vs0',
    '/api/application/consistency-groups?volumes.name=vol_cinder_a&'
    'svm.name=vs0&fields=name,uuid',
    '/api/cluster/jobs?fields=*&max_records=10000',
]


@pytest.mark.parametrize('url', CINDER_GETS)
def test_cinder_requests_pass(sim, api, url):
    r = api.get(sim.url + url)
    assert r.status_code == 200, r.text


def test_cinder_volume_file_and_snapshot_requests_pass(sim, api):
    uuid = vol_uuid(sim, 'vol_cinder_a')
    base = f'{sim.url}/api/storage/volumes/{uuid}'
    assert api.get(base + '/files?type=file&fields=size,name&'
                   'max_records=10000').ok
    assert api.get(base + '/snapshots?name=deleted_cinder_*&fields=name,'
                   'uuid,owners&max_records=10000').ok
    assert api.delete(base + '/snapshots?name=s1').ok


def test_cinder_bodies_pass():
    """The bodies Cinder posts and patches, checked as the router does."""
    validation.check_body({
        'computer_name': 'h', 'event_source': 'Cinder driver NetApp_NFS',
        'app_version': '29.0.0', 'category': 'provisioning',
        'severity': 'notice', 'autosupport_required': False,
        'event_id': '0', 'event_description': 'x'},
        'ems_application_log', 'post')
    validation.check_body({'name': 'p', 'svm': {'name': 'vs0'},
                           'fixed': {'max_throughput_iops': 1000,
                                     'min_throughput_iops': 10}},
                          'qos_policy', 'post')
    validation.check_body({'name': 'p', 'adaptive': {
        'absolute_min_iops': 1, 'expected_iops': 2, 'peak_iops': 3,
        'expected_iops_allocation': 'allocated_space',
        'peak_iops_allocation': 'used_space', 'block_size': 'any'}},
        'qos_policy', 'patch')
    validation.check_body({'qos_policy.name': 'p'}, 'file_info', 'patch')
    validation.check_body({'path': 'tmp-volume-1'}, 'file_info', 'patch')
    validation.check_body({'volume': {'uuid': 'u', 'name': 'n'},
                           'source_path': 'a', 'destination_path': 'b',
                           'is_backup': True}, 'file_clone', 'post')
    validation.check_body({'action': 'cancel'}, 'job', 'patch',
                          extra=('action',))
    with pytest.raises(errors.UnexpectedArgument):
        validation.check_body({'action': 'cancel'}, 'job', 'patch')
