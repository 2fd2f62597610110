# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST record endpoints as Cinder's REST client calls them."""

import pytest

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


class TestSvmPeers:
    """``/api/svm/peers``: Cinder's calls and ONTAP-shaped refusals."""

    URL = '/api/svm/peers'
    CINDER = {'svm.name': 'vs0', 'name': 'vs1', 'applications': ['file_copy']}
    PLAIN = {'Accept': 'application/json'}

    def _post(self, sim, api, body, query=''):
        return api.post(sim.url + self.URL + query, json=body,
                        headers=self.PLAIN)

    def test_cinder_create_then_lookup(self, sim, api):
        r = self._post(sim, api, self.CINDER)
        assert r.status_code == 202, r.text
        job = api.get(sim.url + r.json()['job']['_links']['self']['href'])
        assert job.json()['state'] == 'success'
        uuid = sim.backend.cluster.peers[0].uuids()[0]
        assert r.headers['Location'] == f'{self.URL}/{uuid}'
        # get_vserver_peers(vserver_name='vs0', peer_vserver_name='vs1')
        listed = api.get(sim.url + '/api//svm/peers', headers=self.PLAIN,
                         params={'fields': 'svm.name,state,peer.svm.name,'
                                           'peer.cluster.name,applications',
                                 'name': 'vs1', 'svm.name': 'vs0',
                                 'max_records': 10000}).json()
        assert listed == {'records': [{
            'uuid': uuid, 'name': 'vs1', 'svm': {'name': 'vs0'},
            'peer': {'svm': {'name': 'vs1'},
                     'cluster': {'name': 'cluster1'}},
            'state': 'peered', 'applications': ['file_copy']}],
            'num_records': 1}

    def test_nested_body_within_return_timeout(self, sim, api):
        r = self._post(sim, api, {
            'svm': {'name': 'vs1'}, 'peer': {'svm': {'name': 'vs0'},
                                             'cluster': {'name': 'cluster1'}},
            'applications': ['snapmirror', 'flexcache'], 'force': False},
            '?return_timeout=5&return_records=true')
        assert r.status_code == 200, r.text
        assert set(r.json()) == {'job', 'num_records', 'records'}
        record = r.json()['records'][0]
        assert (record['svm']['name'], record['name']) == ('vs1', 'vs0')
        assert record['applications'] == ['snapmirror', 'flexcache']
        svm_uuid = sim.backend.svm('vs0').uuid
        r = self._post(sim, api, {'svm.uuid': sim.backend.svm('vs1').uuid,
                                  'peer.svm.uuid': svm_uuid,
                                  'applications': ['file_copy']})
        assert r.status_code == 409

    @pytest.mark.parametrize('body,status,code,target', [
        ({'svm.name': 'nope', 'name': 'vs1', 'applications': ['file_copy']},
         404, '4', 'svm.name'),
        ({'svm.name': 'vs0', 'name': 'nope', 'applications': ['file_copy']},
         404, '4', 'peer.svm.name'),
        ({'svm.name': 'vs0', 'name': 'vs0', 'applications': ['file_copy']},
         400, '26345579', 'peer.svm.name'),
        ({'svm.name': 'vs0', 'name': 'vs1', 'applications': ['file-copy']},
         400, '262197', 'applications[0]'),
        ({'svm.name': 'vs0', 'name': 'vs1', 'applications': []},
         400, '262197', 'applications'),
        ({'svm.name': 'vs0', 'name': 'vs1', 'applications': 'file_copy'},
         400, '262197', 'applications'),
        ({'svm.name': 'vs0', 'name': 'vs1'}, 400, '262179', 'applications'),
        ({'name': 'vs1', 'applications': ['file_copy']},
         400, '262179', 'svm.name'),
        ({'svm.name': 'vs0', 'applications': ['file_copy']},
         400, '262179', 'peer.svm.name'),
        ({'svm.name': 'vs0', 'name': 'vs1', 'applications': ['file_copy'],
          'state': 'peered'}, 400, '262179', None),
        ({'svm.name': 'vs0', 'name': 'vs1', 'applications': ['file_copy'],
          'peer.cluster.name': 'cluster2'}, 404, '4', 'peer.cluster.name'),
        ({'svm.name': 'vs0', 'name': 'alias', 'peer.svm.name': 'vs1',
          'applications': ['file_copy']}, 400, '3', None),
    ])
    def test_refused_creations(self, sim, api, body, status, code, target):
        r = self._post(sim, api, body)
        error = r.json()['error']
        assert (r.status_code, error['code'], error.get('target')) == (
            status, code, target), error
        assert sim.backend.cluster.peers == []

    def test_refusal_messages(self, sim, api):
        r = self._post(sim, api, dict(self.CINDER, name='vs0'))
        assert r.json()['error']['message'] == (
            'SVM "vs0" cannot be peered with itself.')
        self._post(sim, api, self.CINDER)
        r = self._post(sim, api, {'svm.name': 'vs1', 'name': 'vs0',
                                  'applications': ['snapmirror']})
        assert r.json()['error']['message'] == (
            'An SVM peer relationship between "vs1" and "vs0" already '
            'exists.')

    def test_patch_and_delete_through_either_side(self, sim, api):
        self._post(sim, api, self.CINDER)
        vs0_side, vs1_side = sim.backend.cluster.peers[0].uuids()
        url = f'{sim.url}{self.URL}/{vs1_side}'
        r = api.patch(url, json={'applications': ['file_copy', 'snapmirror'],
                                 'state': 'peered', 'force': True})
        assert r.status_code == 202, r.text
        vs0_view = api.get(f'{sim.url}{self.URL}/{vs0_side}').json()
        assert vs0_view['applications'] == ['file_copy', 'snapmirror']
        for body, code in (({'name': 'alias'}, '3'),
                           ({'state': 'suspended'}, '3'),
                           ({'state': 'bogus'}, '262197'),
                           ({'applications': ['bogus']}, '262197'),
                           ({'svm': {'name': 'vs1'}}, '262179')):
            r = api.patch(url, json=body)
            assert (r.status_code, r.json()['error']['code']) == (400, code)
        r = api.delete(f'{sim.url}{self.URL}/{vs0_side}', json={'force': 1})
        assert r.json()['error']['code'] == '262197'
        r = api.delete(f'{sim.url}{self.URL}/{vs0_side}?return_timeout=2',
                       json={'force': True})
        assert r.status_code == 200 and set(r.json()) == {'job'}
        assert api.get(sim.url + self.URL).json()['num_records'] == 0
        r = api.delete(url)
        assert (r.status_code, r.json()['error']['code']) == (404, '4')

    def test_svm_scope(self, sim, api):
        vs1 = {'X-Dot-SVM-Name': 'vs1'}
        r = api.post(sim.url + self.URL, json=self.CINDER, headers=vs1)
        assert r.status_code == 404
        r = api.post(sim.url + self.URL, headers=vs1,
                     json={'name': 'vs0', 'applications': ['file_copy']})
        assert r.status_code == 202, r.text
        vs1_side, vs0_side = sim.backend.cluster.peers[0].uuids()
        seen = api.get(sim.url + self.URL, headers=vs1).json()['records']
        assert [rec['uuid'] for rec in seen] == [vs1_side]
        r = api.get(f'{sim.url}{self.URL}/{vs0_side}', headers=vs1)
        assert r.status_code == 404
        r = api.delete(f'{sim.url}{self.URL}/{vs0_side}', headers=vs1)
        assert r.status_code == 404
        assert len(sim.backend.cluster.peers) == 1
