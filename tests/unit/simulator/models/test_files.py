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
    write_file(sim, 'vol_glance', 'images/a.img', data=b'1')
    write_file(sim, 'vol_glance', 'top', data=b'22')
    uuid = vol_uuid(sim, 'vol_glance')
    nested = FileInfo(uuid, 'images/a.img')
    nested.get(return_metadata=True, fields='size')
    assert nested.size == 1
    files = FileInfo.get_collection(uuid, connection=conn, type='file',
                                    fields='size,name')
    assert {f.name: f.size for f in files} == {'top': 2}
    listing = FileInfo.get_collection(uuid, 'images', connection=conn)
    assert [(f.path, f.name) for f in listing] == [
        ('images', '.'), ('images', '..'), ('images', 'a.img')]


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


def test_listing_splits_path_and_name_with_dot_entries(sim, api):
    os.makedirs(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'd', 'sub'))
    write_file(sim, 'vol_cinder_a', 'd/f', data=b'abc')
    uuid = vol_uuid(sim, 'vol_cinder_a')
    base = f'/api/storage/volumes/{uuid}/files/'
    body = api.get(sim.url + base + 'd').json()
    assert [(r['path'], r['name'], r['type']) for r in body['records']] == [
        ('d', '.', 'directory'), ('d', '..', 'directory'),
        ('d', 'f', 'file'), ('d', 'sub', 'directory')]
    assert set(body['records'][2]) == {'path', 'name', 'type', '_links'}
    assert body['records'][2]['_links'] == {
        'metadata': {'href': base + 'd%2Ff?return_metadata=true'}}
    assert body['records'][0]['_links']['self'] == {'href': base + 'd%2F%2E'}
    sized = api.get(sim.url + base + 'd?fields=size&type=file').json()
    assert [(r['name'], r['size']) for r in sized['records']] == [('f', 3)]


def test_metadata_only_with_return_metadata(sim, api):
    write_file(sim, 'vol_cinder_a', 'f', data=b'abc')
    url = f"{sim.url}/api/storage/volumes/{vol_uuid(sim, 'vol_cinder_a')}" \
        '/files/f'
    entry = api.get(url).json()['records']
    assert [(r['path'], r['name'], r['type']) for r in entry] == [
        ('.', 'f', 'file')]
    assert 'size' not in entry[0]
    meta = api.get(url + '?return_metadata=true').json()['records'][0]
    assert (meta['path'], meta['name'], meta['size']) == ('f', '', 3)
    assert 'volume' not in meta
    assert api.get(url + '?return_metadata=true&fields=volume').json()[
        'records'][0]['volume']['name'] == 'vol_cinder_a'


class TestSymlinks:
    def test_reported_as_symlink_with_target(self, sim, api):
        base = vol_dir(sim, 'vol_cinder_a')
        os.symlink('/etc/hostname', os.path.join(base, 'ln'))
        url = f"{sim.url}/api/storage/volumes/" \
            f"{vol_uuid(sim, 'vol_cinder_a')}/files/"
        meta = api.get(url + 'ln?return_metadata=true&fields=target,type')
        record = meta.json()['records'][0]
        assert (record['type'], record['target']) == ('symlink',
                                                     '/etc/hostname')
        listed = api.get(url + '?fields=target').json()['records']
        assert [(r['name'], r['type'], r.get('target')) for r in listed
                if r['name'] == 'ln'] == [('ln', 'symlink', '/etc/hostname')]

    def test_paths_through_a_linked_directory_do_not_resolve(self, sim, api):
        base = vol_dir(sim, 'vol_cinder_a')
        os.symlink('/etc', os.path.join(base, 'ln_dir'))
        os.makedirs(os.path.join(base, 'real'))
        os.symlink('real', os.path.join(base, 'inner'))
        write_file(sim, 'vol_cinder_a', 'real/f', data=b'x')
        url = f"{sim.url}/api/storage/volumes/" \
            f"{vol_uuid(sim, 'vol_cinder_a')}/files/"
        for path in ('ln_dir%2Fhostname', 'inner%2Ff'):
            r = api.get(url + path + '?return_metadata=true')
            assert (r.status_code, r.json()['error']['code']) == (
                404, '6684674')
        assert api.delete(url + 'inner%2Ff').status_code == 404
        assert api.patch(url + 'real%2Ff', json={
            'path': 'ln_dir/f'}).status_code == 404
        assert os.path.exists(os.path.join(base, 'real', 'f'))

    def test_create_and_delete_a_link_through_the_api(self, sim, api):
        base = vol_dir(sim, 'vol_cinder_a')
        write_file(sim, 'vol_cinder_a', 'f', data=b'keep')
        url = f"{sim.url}/api/storage/volumes/" \
            f"{vol_uuid(sim, 'vol_cinder_a')}/files/ln"
        assert api.post(url, json={'target': 'f'}).status_code == 201
        assert os.readlink(os.path.join(base, 'ln')) == 'f'
        assert api.delete(url).status_code == 200
        assert os.listdir(base) == ['f'] and read(os.path.join(
            base, 'f')) == b'keep'
