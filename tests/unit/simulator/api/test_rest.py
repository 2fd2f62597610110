# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST record endpoints as Cinder's REST client calls them."""

from tests.unit.simulator.helpers import vol_uuid, write_file

VOLUME_FILTERS = ('type=rw&style=flex*&is_svm_root=false&'
                  'error_state.is_inconsistent=false&state=online')


def test_cinder_volume_lookup(sim, api):
    r = api.get(sim.url + '/api//storage/volumes/?' + VOLUME_FILTERS +
                '&fields=name,style&name=vol_cinder_a&max_records=10000')
    records = r.json()['records']
    assert r.json()['num_records'] == 1
    uuid = vol_uuid(sim, 'vol_cinder_a')
    assert records[0] == {
        'uuid': uuid, 'name': 'vol_cinder_a', 'style': 'flexvol',
        '_links': {'self': {'href': f'/api/storage/volumes/{uuid}'}}}


def test_counter_tables(sim, api):
    base = sim.url + '/api//cluster/counter/tables/system:constituent'
    schema = api.get(base + '?counter_schemas.name=average_processor_'
                            'busy_percent&fields=counter_schemas.*').json()
    assert schema['counter_schemas'][0]['denominator']['name'] == (
        'cpu_elapsed_time')
    rows = api.get(base + '/rows?id=node1:*&max_records=10000').json()
    assert rows['records'] == [] and rows['num_records'] == 0


def test_split_status(sim, api):
    write_file(sim, 'vol_cinder_a', 'img-cache-1', 8192)
    split = api.get(sim.url + '/api//storage/file/clone/split-status?'
                    'volume.name=vol_cinder_a&svm.name=vs0').json()
    assert split['num_records'] == 1
    assert split['records'][0]['unsplit_size'] == 0


def test_permission_probes_and_empty_tables(sim, api):
    for path in ('storage/aggregates', 'storage/disks',
                 'snapmirror/relationships', 'storage/volumes'):
        r = api.get(f'{sim.url}/api//{path}'
                    '?return_records=false?max_records=10000')
        assert r.status_code == 200 and 'num_records' in r.json()
    assert api.get(sim.url + '/api/svm/peers').json()['num_records'] == 0
    aggr = api.get(sim.url + '/api//storage/aggregates?name=aggr1&fields='
                   'block_storage.primary.raid_type,home_node.name'
                   ).json()['records'][0]
    assert aggr['home_node']['name'] == 'node1'
    assert aggr['block_storage']['primary']['raid_type'] == 'raid_dp'


def test_ems_and_qos_lifecycle(sim, api):
    url = sim.url + '/api//storage/qos/policies/'
    assert api.post(sim.url + '/api//support/ems/application-logs',
                    json={'event_id': '0'}).status_code == 201
    assert sim.backend.qos.ems_events == [{'event_id': '0'}]
    api.post(url, json={'name': 'p1', 'svm': {'name': 'vs0'},
                        'fixed': {'max_throughput_iops': 1000}})
    api.patch(url + '?name=p1', json={'name': 'deleted_cinder_p1'})
    listed = api.get(url + '?name=deleted_cinder_*').json()
    assert listed['num_records'] == 1
    r = api.delete(sim.url + '/api//storage/qos/policies?'
                             'name=deleted_cinder_*')
    assert r.json() == {'num_records': 1}
    assert api.get(url).json()['num_records'] == 0


def test_nfs_vstorage_patch(sim, api):
    svm_uuid = sim.backend.svm('vs1').uuid
    url = f'{sim.url}/api/protocols/nfs/services/{svm_uuid}'
    assert api.patch(url, json={'vstorage_enabled': True}).ok
    assert sim.backend.svm('vs1').vstorage_enabled is True
    assert api.get(url).json()['vstorage_enabled'] is True
