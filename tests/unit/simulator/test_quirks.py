# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Wire quirks of Cinder's REST client, query syntax, ZAPI, canned tables."""

import pytest

from netapp_eic.simulator import query
from tests.unit.simulator.helpers import vol_uuid, write_file

VOLUME_FILTERS = ('type=rw&style=flex*&is_svm_root=false&'
                  'error_state.is_inconsistent=false&state=online')


class TestWireQuirks:
    def test_double_slash_trailing_slash_and_max_records(self, sim, api):
        r = api.get(sim.url + '/api//cluster/?fields=version'
                              '&max_records=10000')
        assert r.status_code == 200
        assert r.json()['version'] == {
            'full': 'NetApp Release 9.14.1: simulated', 'generation': 9,
            'major': 14, 'minor': 1}

    def test_second_question_mark(self, sim, api):
        r = api.get(sim.url + '/api//storage/volumes?return_records=false'
                              '?max_records=10000')
        assert r.json() == {'num_records': 4}

    def test_alternatives_wildcard_negation_and_list(self, sim, api):
        def names(q):
            r = api.get(sim.url + '/api/storage/volumes?' + q)
            return sorted(rec['name'] for rec in r.json()['records'])
        assert names('name=vol_cinder_a|vol_vs1') == ['vol_cinder_a',
                                                      'vol_vs1']
        assert names('name=vol_cinder_*') == ['vol_cinder_a', 'vol_cinder_b']
        assert names('name=!vol_cinder_*') == ['vol_glance', 'vol_vs1']
        assert names('name=vol_glance,vol_vs1') == ['vol_glance', 'vol_vs1']
        assert names('is_svm_root=FALSE&svm.name=vs1') == ['vol_vs1']

    def test_cinder_volume_lookup(self, sim, api):
        r = api.get(sim.url + '/api//storage/volumes/?' + VOLUME_FILTERS +
                    '&fields=name,style&name=vol_cinder_a&max_records=10000')
        records = r.json()['records']
        assert r.json()['num_records'] == 1
        assert records[0] == {'uuid': vol_uuid(sim, 'vol_cinder_a'),
                              'name': 'vol_cinder_a', 'style': 'flexvol'}

    def test_fields_star_and_subtree(self, sim, api):
        url = sim.url + '/api/storage/volumes?name=vol_glance&fields='
        full = api.get(url + '*').json()['records'][0]
        assert full['space']['snapshot']['reserve_percent'] == 5
        sub = api.get(url + 'space.*').json()['records'][0]
        assert set(sub) == {'uuid', 'name', 'space'}
        dotted = api.get(url + 'space.size,svm.name').json()['records'][0]
        assert dotted['space'] == {'size': 100 * 1024 ** 3}
        assert dotted['svm'] == {'name': 'vs0'}

    def test_pagination(self, sim, api):
        url = sim.url + '/api/storage/volumes?max_records=3&fields=name'
        first = api.get(url).json()
        assert first['num_records'] == 3
        href = first['_links']['next']['href']
        assert href.startswith('/api/')
        second = api.get(sim.url + href).json()
        assert second['num_records'] == 1
        assert '_links' not in second
        names = [r['name'] for r in first['records'] + second['records']]
        assert len(set(names)) == 4

    def test_file_path_encoding(self, sim, api):
        import os
        os.makedirs(os.path.join(sim.shares['127.0.0.1:/vol_glance'], 'd'))
        write_file(sim, 'vol_glance', 'd/a b', data=b'abc')
        url = '{}/api/storage/volumes/{}/files/d%2Fa+b'.format(
            sim.url, vol_uuid(sim, 'vol_glance'))
        body = api.get(url, params={'return_metadata': 'true'}).json()
        assert body['num_records'] == 1
        assert body['records'][0]['size'] == 3
        assert body['records'][0]['path'] == 'd/a b'


class TestCinderEndpoints:
    def test_counter_tables(self, sim, api):
        base = sim.url + '/api//cluster/counter/tables/system:constituent'
        schema = api.get(base + '?counter_schemas.name=average_processor_'
                                'busy_percent&fields=counter_schemas.*').json()
        assert schema['counter_schemas'][0]['denominator']['name'] == (
            'cpu_elapsed_time')
        rows = api.get(base + '/rows?id=node1:*&max_records=10000').json()
        assert rows == {'records': [], 'num_records': 0}

    def test_private_cli_and_split_status(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'img-cache-1', 8192)
        eff = api.get(sim.url + '/api//private/cli/volume/efficiency?volume='
                      'vol_cinder_a&vserver=vs0&fields=logical-data-size,'
                      'logical-data-limit').json()
        assert eff['num_records'] == 1
        assert eff['records'][0]['logical_data_limit'] == 100 * 1024 ** 3
        usage = api.get(sim.url + '/api//private/cli/volume/file/show-disk-'
                        'usage?vserver=vs0&path=/vol/vol_cinder_a/img-cache-1'
                        '&fields=unique_bytes').json()
        assert usage['unique_bytes'] == '8KB'
        missing = api.get(sim.url + '/api//private/cli/volume/file/show-disk-'
                          'usage?vserver=vs0&path=/vol/vol_cinder_a/nope')
        assert missing.json()['error']['code'] == '917806'
        split = api.get(sim.url + '/api//storage/file/clone/split-status?'
                        'volume.name=vol_cinder_a&svm.name=vs0').json()
        assert split['records'][0]['unsplit_size'] == 0

    def test_permission_probes_and_empty_tables(self, sim, api):
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

    def test_ems_and_qos_lifecycle(self, sim, api):
        url = sim.url + '/api//storage/qos/policies/'
        assert api.post(sim.url + '/api//support/ems/application-logs',
                        json={'event_id': '0'}).status_code == 201
        assert sim.backend.ems_events == [{'event_id': '0'}]
        api.post(url, json={'name': 'p1', 'svm': {'name': 'vs0'},
                            'fixed': {'max_throughput_iops': 1000}})
        api.patch(url + '?name=p1', json={'name': 'deleted_cinder_p1'})
        listed = api.get(url + '?name=deleted_cinder_*').json()
        assert listed['num_records'] == 1
        r = api.delete(sim.url + '/api//storage/qos/policies?'
                                 'name=deleted_cinder_*')
        assert r.json() == {'num_records': 1}
        assert api.get(url).json()['num_records'] == 0

    @pytest.mark.parametrize('call,needle', [
        ('<system-get-ontapi-version/>', '<minor-version>251'),
        ('<system-get-version/>', '<major>14</major>'),
        ('<system-node-get-iter/>', '<node>node1</node>'),
        ('<volume-get-iter/>', 'errno="13005"'),
    ])
    def test_zapi(self, sim, api, call, needle):
        body = ('<?xml version="1.0"?><netapp version="1.15" xmlns="http://'
                f'www.netapp.com/filer/admin">{call}</netapp>')
        r = api.post(sim.url + '/servlets/netapp.servlets.admin.'
                     'XMLrequest_filer', data=body,
                     headers={'Content-Type': 'text/xml'})
        assert r.headers['Content-Type'] == 'text/xml'
        assert needle in r.text


class TestQueryModule:
    def test_parse_query_second_question_mark(self):
        assert query.parse_query('a=1?b=x%7Cy') == {'a': '1', 'b': 'x|y'}

    @pytest.mark.parametrize('values,pattern,expected', [
        (['abc'], 'a*', True), (['abc'], '!a*', False),
        ([True], 'TRUE', True), ([5], '>4', True), ([5], '<=4', False),
        (query.MISSING, '!null', False), (query.MISSING, 'null', True),
        (['x'], 'y|x', True), (['x'], 'y,z', False),
    ])
    def test_match_values(self, values, pattern, expected):
        assert query.match_values(values, pattern) is expected

    def test_lookup_fans_out_over_lists(self):
        record = {'aggregates': [{'name': 'a1'}, {'name': 'a2'}]}
        assert query.lookup(record, 'aggregates.name') == ['a1', 'a2']
        assert query.matches(record, {'aggregates.name': 'a2'})
