# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Links, ``order_by`` and the SVM scope of ``X-Dot-SVM-Name``."""

import os

from netapp_ontap import HostConnection
from netapp_ontap.resources import Volume

from tests.unit.simulator.helpers import (
    copy_body,
    vol_dir,
    vol_uuid,
    write_file,
)

VS1 = {'X-Dot-SVM-Name': 'vs1'}


def test_records_and_collections_link_themselves(sim, api):
    body = api.get(sim.url + '/api/storage/volumes?name=vol_glance').json()
    uuid = vol_uuid(sim, 'vol_glance')
    assert body['_links'] == {
        'self': {'href': '/api/storage/volumes?name=vol_glance'}}
    assert body['records'][0]['_links'] == {
        'self': {'href': f'/api/storage/volumes/{uuid}'}}
    one = api.get(sim.url + body['records'][0]['_links']['self']['href'])
    assert one.json()['name'] == 'vol_glance'


def test_plain_json_keeps_only_next_and_job_links(sim, api):
    plain = {'Accept': 'application/json'}
    r = api.get(sim.url + '/api/storage/volumes?max_records=1', headers=plain)
    assert r.headers['Content-Type'] == 'application/json'
    assert set(r.json()['_links']) == {'next'}
    assert '_links' not in r.json()['records'][0]
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone', headers=plain, json={
        'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
        'source_path': 'src', 'destination_path': 'dst'})
    assert r.json()['job']['_links']['self']['href'].startswith('/api/')
    hal = api.get(sim.url + '/api/cluster')
    assert hal.headers['Content-Type'] == 'application/hal+json'


def test_order_by(sim, api):
    def names(order):
        r = api.get(f'{sim.url}/api/storage/volumes?order_by={order}')
        return [rec['name'] for rec in r.json()['records']]
    assert names('name') == sorted(names('name desc'), reverse=False)
    assert names('name desc') == ['vol_vs1', 'vol_glance', 'vol_cinder_b',
                                  'vol_cinder_a']
    assert names('svm.name desc,name')[:1] == ['vol_vs1']


class TestSvmScope:
    def test_collections_show_only_that_svm(self, sim, api):
        for path, key in (('/api/storage/volumes', 'name'),
                          ('/api/network/ip/interfaces', 'name'),
                          ('/api/svm/svms', 'name')):
            records = api.get(sim.url + path, headers=VS1).json()['records']
            assert [r[key] for r in records] == {
                '/api/storage/volumes': ['vol_vs1'],
                '/api/network/ip/interfaces': ['vs1_data1'],
                '/api/svm/svms': ['vs1']}[path]
        everything = api.get(sim.url + '/api/storage/volumes').json()
        assert everything['num_records'] == 4

    def test_netapp_ontap_with_the_header(self, sim):
        with HostConnection(sim.host, sim.username, sim.password,
                            verify=sim.ca_file, port=sim.port,
                            headers=VS1) as conn:
            assert [v.name for v in Volume.get_collection(
                connection=conn)] == ['vol_vs1']

    def test_another_svms_objects_do_not_exist(self, sim, api):
        uuid = vol_uuid(sim, 'vol_cinder_a')
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        r = api.get(f'{sim.url}/api/storage/volumes/{uuid}', headers=VS1)
        assert (r.status_code, r.json()['error']['code']) == (404, '4')
        r = api.get(f'{sim.url}/api/storage/volumes/{uuid}/files/src',
                    headers=VS1)
        assert r.status_code == 404
        r = api.post(sim.url + '/api/storage/file/clone', headers=VS1, json={
            'volume': {'uuid': uuid}, 'source_path': 'src',
            'destination_path': 'dst'})
        assert r.status_code == 404
        r = api.post(sim.url + '/api/storage/file/copy', headers=VS1,
                     json=copy_body(sim))
        assert r.status_code == 404
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['src']
        assert os.listdir(vol_dir(sim, 'vol_cinder_b')) == []

    def test_unknown_svm_is_an_error(self, sim, api):
        r = api.get(sim.url + '/api/storage/volumes',
                    headers={'X-Dot-SVM-Name': 'nope'})
        assert r.status_code == 404
        assert r.json()['error']['message'] == 'SVM "nope" does not exist.'

    def test_cluster_wide_objects_stay_visible(self, sim, api):
        assert api.get(sim.url + '/api/cluster', headers=VS1).ok
        nodes = api.get(sim.url + '/api/cluster/nodes', headers=VS1).json()
        assert nodes['num_records'] == 1
