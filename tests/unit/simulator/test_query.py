# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP query syntax: parsing, filters, ``fields``, paging."""

import pytest

from netapp_eic.simulator import query


class TestParsing:
    def test_second_question_mark_and_escapes(self):
        assert query.parse_query('a=1?b=x%7Cy') == {'a': '1', 'b': 'x|y'}

    def test_blank_value_and_plus(self):
        assert query.parse_query('a&b=c+d') == {'a': '', 'b': 'c d'}

    def test_flatten(self):
        assert query.flatten({'a': {'b': 1}, 'c.d': 2}) == {'a.b': 1,
                                                            'c.d': 2}
        assert query.flatten(['not', 'a', 'dict']) == {}


class TestFilters:
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

    def test_over_http(self, sim, api):
        def names(q):
            r = api.get(sim.url + '/api/storage/volumes?' + q)
            return sorted(rec['name'] for rec in r.json()['records'])
        assert names('name=vol_cinder_a|vol_vs1') == ['vol_cinder_a',
                                                      'vol_vs1']
        assert names('name=vol_cinder_*') == ['vol_cinder_a', 'vol_cinder_b']
        assert names('name=!vol_cinder_*') == ['vol_glance', 'vol_vs1']
        assert names('name=vol_glance,vol_vs1') == ['vol_glance', 'vol_vs1']
        assert names('is_svm_root=FALSE&svm.name=vs1') == ['vol_vs1']


class TestProjectionAndPaging:
    def test_project_keeps_identity(self):
        record = {'uuid': 'u', 'name': 'n', 'a': {'b': 1, 'c': 2}, 'd': 3}
        assert query.project(record, 'a.b') == {'uuid': 'u', 'name': 'n',
                                                'a': {'b': 1}}
        assert query.project(record, '*') == record

    def test_fields_star_and_subtree(self, sim, api):
        url = sim.url + '/api/storage/volumes?name=vol_glance&fields='
        full = api.get(url + '*').json()['records'][0]
        assert full['space']['snapshot']['reserve_percent'] == 5
        sub = api.get(url + 'space.*').json()['records'][0]
        assert set(sub) == {'uuid', 'name', 'space', '_links'}
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
        assert set(second['_links']) == {'self'}
        names = [r['name'] for r in first['records'] + second['records']]
        assert len(set(names)) == 4
