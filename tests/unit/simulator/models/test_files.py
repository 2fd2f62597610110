# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Files API records and operations through netapp_ontap."""

import os

from netapp_ontap.resources import FileInfo

from tests.unit.simulator.helpers import read, vol_dir, vol_uuid, write_file


def test_metadata(sim, conn):
    write_file(sim, 'vol_cinder_a', 'f', 3 * 4096)
    info = FileInfo(vol_uuid(sim, 'vol_cinder_a'), 'f')
    info.get(return_metadata=True,
             fields='size,bytes_used,accessed_time,type')
    assert info.size == 3 * 4096
    assert info.bytes_used >= 3 * 4096
    assert info.type == 'file'
    assert info.accessed_time.year >= 2024


def test_nested_path_listing_and_filter(sim, conn):
    os.makedirs(os.path.join(vol_dir(sim, 'vol_glance'), 'images'))
    write_file(sim, 'vol_glance', 'images/a b', data=b'1')
    write_file(sim, 'vol_glance', 'top', data=b'22')
    uuid = vol_uuid(sim, 'vol_glance')
    nested = FileInfo(uuid, 'images/a b')
    nested.get(return_metadata=True, fields='size')
    assert nested.size == 1
    files = FileInfo.get_collection(uuid, connection=conn, type='file',
                                    fields='size,name')
    assert {f.name: f.size for f in files} == {'top': 2}
    listing = FileInfo.get_collection(uuid, 'images', connection=conn)
    assert [f.name for f in listing] == ['a b']


def test_rename_and_delete(sim, conn):
    path = write_file(sim, 'vol_cinder_a', 'clone-x', data=b'x')
    uuid = vol_uuid(sim, 'vol_cinder_a')
    info = FileInfo(uuid, 'clone-x')
    info.path = 'clone-x.renamed'
    info.patch()
    assert not os.path.exists(path)
    assert os.path.exists(path + '.renamed')
    FileInfo(uuid, 'clone-x.renamed').delete()
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []


def test_qos_follows_rename_and_delete(sim, api):
    write_file(sim, 'vol_cinder_a', 'v', data=b'x')
    url = '{}/api/storage/volumes/{}/files/'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    assert api.patch(url + 'v', json={'qos_policy.name': 'p1'}).ok
    body = api.get(url + 'v', params={'return_metadata': 'true',
                                      'fields': 'qos_policy'}).json()
    assert body['records'][0]['qos_policy'] == {'name': 'p1'}
    assert api.patch(url + 'v', json={'path': 'w'}).ok
    vol = sim.backend.volume_by_name('vol_cinder_a')
    assert sim.backend.qos.policy_of((vol.uuid, 'w')) == 'p1'
    assert api.delete(url + 'w').ok
    assert sim.backend.qos.file_policies == {}


def test_delete_directory_needs_recurse(sim, api):
    os.makedirs(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'd'))
    write_file(sim, 'vol_cinder_a', 'd/f', data=b'x')
    url = '{}/api/storage/volumes/{}/files/d'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    assert api.delete(url).status_code == 400
    assert api.delete(url + '?recurse=true').status_code == 200
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []


def test_post_creates_empty_file_and_directory(sim, conn, api):
    uuid = vol_uuid(sim, 'vol_cinder_a')
    FileInfo(uuid, 'new').post()
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'new')) == b''
    url = f'{sim.url}/api/storage/volumes/{uuid}/files/'
    assert api.post(url + 'd', json={'type': 'directory'}).status_code == 201
    assert os.path.isdir(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'd'))
    assert api.post(url + 'new', json={}).status_code == 409
    assert api.post(url + 'no%2Fdir', json={}).status_code == 404
