# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The simulator through the real netapp_ontap library."""

import os
import time

import pytest
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import (
    Cluster,
    FileClone,
    FileCopy,
    FileInfo,
    IpInterface,
    Job,
    NfsService,
    Volume,
)

from tests.unit.simulator.helpers import (
    MIB,
    read,
    vol_dir,
    vol_uuid,
    write_file,
)


def _clone(sim, conn, src, dst, vol='vol_cinder_a', **kwargs):
    return FileClone(volume={'uuid': vol_uuid(sim, vol), 'name': vol},
                     source_path=src, destination_path=dst,
                     **kwargs).post(poll=True, poll_interval=0.05)


def _copy_spec(sim, src, dst, src_vol='vol_cinder_a', dst_vol='vol_cinder_b'):
    return [{'source': {'volume': {'uuid': vol_uuid(sim, src_vol)},
                        'path': f'{src_vol}/{src}'},
             'destination': {'volume': {'uuid': vol_uuid(sim, dst_vol)},
                             'path': f'{dst_vol}/{dst}'}}]


class TestFileClone:
    def test_clone_success(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'volume-1', MIB)
        response = _clone(sim, conn, 'volume-1', 'volume-2')
        assert response.http_response.json()['state'] == 'success'
        dst = os.path.join(vol_dir(sim, 'vol_cinder_a'), 'volume-2')
        assert read(dst) == read(src)
        assert sim.clone_mode == 'copy'  # tmp_path is not a reflink fs

    def test_clone_overwrite(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'src', data=b'new' * 1000)
        dst = write_file(sim, 'vol_cinder_a', 'dst', data=b'old')
        _clone(sim, conn, 'src', 'dst', overwrite_destination=True)
        assert read(dst) == b'new' * 1000

    def test_clone_destination_exists(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'src', data=b'new')
        dst = write_file(sim, 'vol_cinder_a', 'dst', data=b'old')
        with pytest.raises(NetAppRestError) as ctx:
            _clone(sim, conn, 'src', 'dst')
        assert ctx.value.status_code == 409
        assert 'already exists' in str(ctx.value)
        assert read(dst) == b'old'

    def test_clone_across_flexvols(self, sim, conn):
        write_file(sim, 'vol_cinder_b', 'src', data=b'x')
        with pytest.raises(NetAppRestError) as ctx:
            _clone(sim, conn, '../vol_cinder_b/src', 'dst')
        assert ctx.value.status_code == 400
        assert 'across FlexVols' in str(ctx.value)
        assert not os.listdir(vol_dir(sim, 'vol_cinder_a'))

    def test_clone_rejects_escape_and_snapshot(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        for source in ('../../etc/passwd', '.snapshot/s1/src'):
            r = api.post(sim.url + '/api/storage/file/clone', json={
                'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                'source_path': source, 'destination_path': 'd'})
            assert r.status_code == 400
            assert r.json()['error']['code']
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['src']

    def test_clone_return_timeout_answers_finished_job(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        r = api.post(sim.url + '/api/storage/file/clone?return_timeout=5',
                     json={'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                           'source_path': 'src', 'destination_path': 'd'})
        assert r.status_code == 201
        body = r.json()
        assert body['state'] == 'success'
        assert body['job']['_links']['self']['href'].startswith('/api/')


class TestFileCopy:
    def test_copy_with_polling(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'img', 2 * MIB)
        response = FileCopy(files_to_copy=_copy_spec(sim, 'img', 'copy')).post(
            poll=True, poll_interval=0.05)
        assert response.http_response.json()['state'] == 'success'
        dst = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'copy')
        assert read(dst) == read(src)

    def test_copy_with_return_timeout(self, sim, api):
        src = write_file(sim, 'vol_glance', 'img', MIB)
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                     json={'files_to_copy': [{
                         'source': {'volume': {'name': 'vol_glance'},
                                    'svm': {'name': 'vs0'}, 'path': 'img'},
                         'destination': {'volume': {'name': 'vol_cinder_a'},
                                         'path': 'img-copy'}}]})
        assert r.status_code == 201
        assert r.json()['state'] == 'success'
        assert r.json()['progress']['percent'] == 100
        assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                                 'img-copy')) == read(src)

    def test_copy_preserves_holes(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'sparse', 256 * 1024,
                         sparse_gap=8 * MIB)
        assert os.stat(src).st_blocks * 512 < MIB
        FileCopy(files_to_copy=_copy_spec(sim, 'sparse', 'sparse2')).post(
            poll=True, poll_interval=0.05)
        dst = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'sparse2')
        assert os.path.getsize(dst) == os.path.getsize(src)
        assert os.stat(dst).st_blocks * 512 < MIB
        assert read(dst) == read(src)

    def test_copy_missing_source_is_404(self, sim, conn):
        with pytest.raises(NetAppRestError) as ctx:
            FileCopy(files_to_copy=_copy_spec(sim, 'nope', 'x')).post()
        assert ctx.value.status_code == 404
        assert ctx.value.response_body['error']['code'] == '6684674'


class TestJob:
    def test_get_job_and_collection(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'f', data=b'abc')
        response = FileCopy(files_to_copy=_copy_spec(sim, 'f', 'g')).post(
            poll=False)
        job_uuid = response.http_response.json()['job']['uuid']
        job = Job(uuid=job_uuid)
        for _ in range(100):
            job.get()
            if job.state == 'success':
                break
            time.sleep(0.02)
        assert job.state == 'success'
        uuids = [j.uuid for j in Job.get_collection(connection=conn)]
        assert job_uuid in uuids

    def test_cancel_throttled_copy(self, sim, conn, api):
        write_file(sim, 'vol_cinder_a', 'big', 4 * MIB)
        spec = _copy_spec(sim, 'big', 'partial')
        response = FileCopy(files_to_copy=spec, max_throughput=MIB).post(
            poll=False)
        job_uuid = response.http_response.json()['job']['uuid']
        time.sleep(0.5)
        running = api.get(sim.url + '/api/cluster/jobs/' + job_uuid).json()
        assert running['state'] == 'running'
        assert running['message'].startswith('copied ')
        job = Job(uuid=job_uuid)
        job.patch(action='cancel')
        job.get()
        assert job.state == 'failure'
        assert job.message == 'cancelled'
        partial = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'partial')
        assert 0 < os.path.getsize(partial) < 4 * MIB

    def test_jobs_expire(self, tmp_path, api):
        from netapp_eic.simulator import Simulator
        with Simulator(data_root=str(tmp_path), tls=False,
                       job_ttl=0.2) as sim:
            write_file(sim, 'vol_cinder_a', 'a', data=b'1')
            job = sim.backend.clone(sim.backend.volumes[0], 'a', 'b')
            auth = (sim.username, sim.password)
            url = sim.url + '/api/cluster/jobs/' + job.uuid
            assert api.get(url, auth=auth).status_code == 200
            time.sleep(0.4)
            r = api.get(url, auth=auth)
            assert r.status_code == 404
            assert r.json()['error']['code'] == '4'


class TestVolume:
    def test_collection_filters_and_fields(self, sim, conn):
        vols = list(Volume.get_collection(
            connection=conn, fields='nas.path,space', **{'svm.name': 'vs0'}))
        assert sorted(v.name for v in vols) == [
            'vol_cinder_a', 'vol_cinder_b', 'vol_glance']
        assert all(v.nas.path == '/' + v.name for v in vols)
        by_path = list(Volume.get_collection(
            connection=conn, **{'nas.path': '/vol_vs1'}))
        assert [v.name for v in by_path] == ['vol_vs1']

    def test_space_reflects_files(self, sim, conn):
        vol = Volume(uuid=vol_uuid(sim, 'vol_cinder_a'))
        vol.get(fields='space')
        before = vol.space.available
        write_file(sim, 'vol_cinder_a', 'f', 4 * MIB)
        vol.get(fields='space')
        assert before - vol.space.available >= 4 * MIB
        assert vol.space.used >= 4 * MIB
        assert vol.space.afs_total == vol.space.size * 95 // 100


class TestOtherResources:
    def test_ip_interface(self, sim, conn):
        lifs = list(IpInterface.get_collection(
            connection=conn, fields='svm,ip,state',
            **{'ip.address': '127.0.0.2'}))
        assert len(lifs) == 1
        assert lifs[0].svm.name == 'vs1'
        assert lifs[0].state == 'up'

    def test_nfs_service_vstorage(self, sim, conn):
        services = {s.svm.name: s.vstorage_enabled for s in
                    NfsService.get_collection(
                        connection=conn, fields='vstorage_enabled,svm.name')}
        assert services == {'vs0': True, 'vs1': False}
        one = NfsService(svm={'uuid': sim.backend.svm('vs0').uuid})
        one.get(fields='vstorage_enabled')
        assert one.vstorage_enabled is True

    def test_cluster_version(self, sim, conn):
        cluster = Cluster()
        cluster.get(fields='version')
        assert (cluster.version.generation, cluster.version.major,
                cluster.version.minor) == (9, 14, 1)


class TestFileInfo:
    def test_metadata(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'f', 3 * 4096)
        info = FileInfo(vol_uuid(sim, 'vol_cinder_a'), 'f')
        info.get(return_metadata=True,
                 fields='size,bytes_used,accessed_time,type')
        assert info.size == 3 * 4096
        assert info.bytes_used >= 3 * 4096
        assert info.type == 'file'
        assert info.accessed_time.year >= 2024

    def test_nested_path_listing_and_filter(self, sim, conn):
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

    def test_rename_and_delete(self, sim, conn):
        path = write_file(sim, 'vol_cinder_a', 'clone-x', data=b'x')
        uuid = vol_uuid(sim, 'vol_cinder_a')
        info = FileInfo(uuid, 'clone-x')
        info.path = 'clone-x.renamed'
        info.patch()
        assert not os.path.exists(path)
        assert os.path.exists(path + '.renamed')
        FileInfo(uuid, 'clone-x.renamed').delete()
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []

    def test_rename_decodes_cinder_body(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'a.b', data=b'x')
        url = '{}/api//storage/volumes/{}/files/a%2Eb'.format(
            sim.url, vol_uuid(sim, 'vol_cinder_a'))
        r = api.patch(url, json={'path': 'c%2Ed'})
        assert r.status_code == 200, r.text
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['c.d']

    def test_qos_patch_recorded(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'v', data=b'x')
        url = '{}/api/storage/volumes/{}/files/v'.format(
            sim.url, vol_uuid(sim, 'vol_cinder_a'))
        assert api.patch(url, json={'qos_policy.name': 'p1'}).ok
        body = api.get(url, params={'return_metadata': 'true',
                                    'fields': 'qos_policy'}).json()
        assert body['records'][0]['qos_policy'] == {'name': 'p1'}

    def test_delete_directory_needs_recurse(self, sim, api):
        os.makedirs(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'd'))
        write_file(sim, 'vol_cinder_a', 'd/f', data=b'x')
        url = '{}/api/storage/volumes/{}/files/d'.format(
            sim.url, vol_uuid(sim, 'vol_cinder_a'))
        assert api.delete(url).status_code == 400
        assert api.delete(url + '?recurse=true').status_code == 200
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []

    def test_post_creates_empty_file(self, sim, conn):
        uuid = vol_uuid(sim, 'vol_cinder_a')
        FileInfo(uuid, 'new').post()
        assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'new')) == b''
