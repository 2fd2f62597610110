# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File clone and file copy through netapp_ontap."""

import os

import pytest
import requests
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import FileClone, FileCopy, SvmPeer

from netapp_eic.simulator import Simulator
from tests.unit.simulator.helpers import (
    MIB,
    copy_body,
    read,
    vol_dir,
    vol_uuid,
    write_file,
)


def _clone(sim, src, dst, vol='vol_cinder_a', **kwargs):
    return FileClone(volume={'uuid': vol_uuid(sim, vol), 'name': vol},
                     source_path=src, destination_path=dst,
                     **kwargs).post(poll=True, poll_interval=0.05)


class TestFileClone:
    def test_clone_success(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'volume-1', MIB)
        response = _clone(sim, 'volume-1', 'volume-2')
        assert response.http_response.json()['state'] == 'success'
        dst = os.path.join(vol_dir(sim, 'vol_cinder_a'), 'volume-2')
        assert read(dst) == read(src)
        assert sim.clone_mode == 'copy'  # tmp_path is not a reflink fs

    def test_clone_overwrite(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'src', data=b'new' * 1000)
        dst = write_file(sim, 'vol_cinder_a', 'dst', data=b'old')
        _clone(sim, 'src', 'dst', overwrite_destination=True)
        assert read(dst) == b'new' * 1000

    def test_clone_destination_exists(self, sim, conn):
        write_file(sim, 'vol_cinder_a', 'src', data=b'new')
        dst = write_file(sim, 'vol_cinder_a', 'dst', data=b'old')
        with pytest.raises(NetAppRestError) as ctx:
            _clone(sim, 'src', 'dst')
        assert ctx.value.status_code == 409
        assert 'already exists' in str(ctx.value)
        assert read(dst) == b'old'

    def test_clone_across_flexvols(self, sim, conn):
        write_file(sim, 'vol_cinder_b', 'src', data=b'x')
        with pytest.raises(NetAppRestError) as ctx:
            _clone(sim, '../vol_cinder_b/src', 'dst')
        assert ctx.value.status_code == 400
        assert 'across FlexVols' in str(ctx.value)
        assert not os.listdir(vol_dir(sim, 'vol_cinder_a'))

    @pytest.mark.parametrize('source,status,code', [
        ('../../etc/passwd', 400, '262179'),
        ('.snapshot/s1/src', 404, '6684674'),
    ])
    def test_clone_rejects_escape_and_missing_snapshot(self, sim, api,
                                                        source, status, code):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        r = api.post(sim.url + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': source, 'destination_path': 'd'})
        assert (r.status_code, r.json()['error']['code']) == (status, code)
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['src']

    def test_real_space_check(self, tmp_path):
        topology = {'svms': [{'name': 'vs0', 'lifs': ['127.0.0.1'],
                              'volumes': [{'name': 'small', 'size': '1MiB',
                                           'snapshot_reserve_percent': 0}]}]}
        with Simulator(topology=topology, data_root=str(tmp_path),
                       tls=False) as sim:
            write_file(sim, 'small', 'src', 600 * 1024)
            r = requests.post(sim.url + '/api/storage/file/clone', json={
                'volume': {'name': 'small'}, 'source_path': 'src',
                'destination_path': 'dst'},
                auth=(sim.username, sim.password))
            assert r.status_code == 400
            assert r.json()['error']['code'] == '13'
            assert not os.path.exists(os.path.join(
                sim.backend.volumes[0].path, 'dst'))


class TestFileCopy:
    def test_copy_with_polling(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'img', 2 * MIB)
        body = copy_body(sim, 'img', 'copy')
        response = FileCopy(**body).post(poll=True, poll_interval=0.05)
        assert response.http_response.json()['state'] == 'success'
        dst = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'copy')
        assert read(dst) == read(src)

    def test_copy_by_volume_name_and_svm(self, sim, api):
        src = write_file(sim, 'vol_glance', 'img', MIB)
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                     json={'files_to_copy': [{
                         'source': {'volume': {'name': 'vol_glance'},
                                    'svm': {'name': 'vs0'}, 'path': 'img'},
                         'destination': {'volume': {'name': 'vol_cinder_a'},
                                         'path': 'img-copy'}}]})
        assert r.status_code == 200, r.text
        assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                                 'img-copy')) == read(src)

    def test_copy_preserves_holes(self, sim, conn):
        src = write_file(sim, 'vol_cinder_a', 'sparse', 256 * 1024,
                         sparse_gap=8 * MIB)
        assert os.stat(src).st_blocks * 512 < MIB
        FileCopy(**copy_body(sim, 'sparse', 'sparse2')).post(
            poll=True, poll_interval=0.05)
        dst = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'sparse2')
        assert os.path.getsize(dst) == os.path.getsize(src)
        assert os.stat(dst).st_blocks * 512 < MIB
        assert read(dst) == read(src)

    def test_copy_missing_source_is_404(self, sim, conn):
        with pytest.raises(NetAppRestError) as ctx:
            FileCopy(**copy_body(sim, 'nope', 'x')).post()
        assert ctx.value.status_code == 404
        assert ctx.value.response_body['error']['code'] == '6684674'

    def test_copy_volume_outside_named_svm(self, sim, api):
        write_file(sim, 'vol_vs1', 'img', data=b'x')
        body = copy_body(sim, 'img', 'c', src_vol='vol_vs1')
        body['files_to_copy'][0]['source']['svm'] = {'name': 'vs0'}
        r = api.post(sim.url + '/api/storage/file/copy', json=body)
        assert r.status_code == 404
        assert os.listdir(vol_dir(sim, 'vol_cinder_b')) == []


class TestCopyAcrossSvms:
    """ONTAP copies a file to another SVM's FlexVol only when the two SVMs
    are peered with the file-copy application (Cinder peers them first)."""

    @staticmethod
    def _peer(applications):
        SvmPeer(svm={'name': 'vs0'}, peer={'svm': {'name': 'vs1'}},
                applications=applications).post(poll_interval=0.05)

    @staticmethod
    def _copy(sim, api, query=''):
        write_file(sim, 'vol_vs1', 'img', data=b'vs1 bytes' * 1000)
        return api.post(sim.url + '/api/storage/file/copy' + query,
                        json=copy_body(sim, 'img', 'img-copy', 'vol_vs1',
                                       'vol_cinder_a'))

    def test_refused_without_a_peer(self, sim, api):
        r = self._copy(sim, api)
        assert r.status_code == 400
        error = r.json()['error']
        assert (error['code'], error['target']) == ('6684679',
                                                    'files_to_copy')
        assert error['message'] == (
            'File copy from SVM "vs1" to SVM "vs0" needs an SVM peer '
            'relationship between them with the file-copy application; '
            'there is none. Create one: "vserver peer create -vserver vs0 '
            '-peer-vserver vs1 -applications file-copy" '
            '(POST /api/svm/peers).')
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []
        assert sim.backend.jobs.all() == []

    def test_refused_when_the_peer_lacks_file_copy(self, sim, api, conn):
        self._peer(['snapmirror'])
        r = self._copy(sim, api)
        assert (r.status_code, r.json()['error']['code']) == (400, '6684679')
        message = r.json()['error']['message']
        assert '"vs1"' in message and '"vs0"' in message
        assert 'theirs is peered with applications snapmirror' in message
        assert ('vserver peer modify -vserver vs0 -peer-vserver vs1 '
                '-applications snapmirror,file-copy') in message
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []

    def test_copies_with_file_copy_in_both_directions(self, sim, api, conn):
        self._peer(['snapmirror', 'file_copy'])
        src = write_file(sim, 'vol_vs1', 'img', 2 * MIB)
        response = FileCopy(**copy_body(sim, 'img', 'img-copy', 'vol_vs1',
                                        'vol_cinder_a')).post(
            poll=True, poll_interval=0.05)
        assert response.http_response.json()['state'] == 'success'
        dst = os.path.join(vol_dir(sim, 'vol_cinder_a'), 'img-copy')
        assert read(dst) == read(src)
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                     json=copy_body(sim, 'img-copy', 'back', 'vol_cinder_a',
                                    'vol_vs1'))
        assert r.status_code == 200, r.text
        assert read(os.path.join(vol_dir(sim, 'vol_vs1'), 'back')) == read(
            src)

    def test_deleting_the_peer_refuses_again(self, sim, api, conn):
        self._peer(['file_copy'])
        uuid = sim.backend.cluster.peers[0].uuids()[1]
        SvmPeer(uuid=uuid).delete(poll_interval=0.05)
        assert self._copy(sim, api).status_code == 400

    def test_deferred_refusal_is_a_failed_job(self, sim, api):
        sim.add_fault(path='/api/storage/file/copy', defer_errors=True)
        r = self._copy(sim, api, '?return_timeout=0')
        assert r.status_code == 202
        job = api.get(sim.url + r.json()['job']['_links']['self']['href'])
        assert job.json()['state'] == 'failure'
        assert job.json()['error']['code'] == '6684679'
        assert 'vserver peer create -vserver vs0' in job.json()['message']
        r = self._copy(sim, api, '?return_timeout=5')
        assert r.status_code == 400 and set(r.json()) == {'error', 'job'}
        assert r.json()['error']['code'] == '6684679'
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []


class TestSymlinkSources:
    """ONTAP's handling of a link as a clone or copy source is not
    documented: the simulator refuses it and never reads through it."""

    @pytest.fixture
    def links(self, sim):
        a = vol_dir(sim, 'vol_cinder_a')
        write_file(sim, 'vol_vs1', 'secret', data=b'vs1 data')
        os.symlink('/etc/hostname', os.path.join(a, 'to_host'))
        os.symlink('../vol_vs1/secret', os.path.join(a, 'to_vs1'))
        return a

    @pytest.mark.parametrize('source', ['to_host', 'to_vs1'])
    def test_clone_refused(self, sim, api, links, source):
        r = api.post(sim.url + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': source, 'destination_path': 'dst'})
        assert r.status_code == 400
        assert r.json()['error']['code'] == '6684677'
        assert r.json()['error']['target'] == 'source_path'
        assert not os.path.lexists(os.path.join(links, 'dst'))

    @pytest.mark.parametrize('source', ['to_host', 'to_vs1'])
    def test_copy_refused(self, sim, api, links, source):
        r = api.post(sim.url + '/api/storage/file/copy',
                     json=copy_body(sim, source, 'dst'))
        assert r.json()['error']['code'] == '6684677'
        assert os.listdir(vol_dir(sim, 'vol_cinder_b')) == []

    def test_copy_never_writes_through_a_destination_link(self, sim, api,
                                                         tmp_path):
        outside = tmp_path / 'outside'
        outside.write_bytes(b'untouched')
        os.symlink(str(outside), os.path.join(vol_dir(sim, 'vol_cinder_b'),
                                              'dst'))
        write_file(sim, 'vol_cinder_a', 'src', data=b'new')
        r = api.post(sim.control_url + '/copyoffload', json={
                         'src_ip': '127.0.0.1', 'dst_ip': '127.0.0.1',
                         'src_path': '/vol_cinder_a/src',
                         'dst_path': '/vol_cinder_b/dst'})
        assert r.json()['error']['code'] == '6684677'
        assert outside.read_bytes() == b'untouched'

    def test_clone_over_a_link_replaces_the_link(self, sim, api, tmp_path):
        outside = tmp_path / 'outside'
        outside.write_bytes(b'untouched')
        dst = os.path.join(vol_dir(sim, 'vol_cinder_a'), 'dst')
        os.symlink(str(outside), dst)
        write_file(sim, 'vol_cinder_a', 'src', data=b'new')
        r = api.post(sim.url + '/api/storage/file/clone', json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'src', 'destination_path': 'dst',
            'overwrite_destination': True})
        assert r.status_code == 202
        assert not os.path.islink(dst) and read(dst) == b'new'
        assert outside.read_bytes() == b'untouched'


class TestDeferredErrors:
    """The ``defer_errors`` fault: request errors become a failed job."""

    def _clone(self, sim, api, query=''):
        return api.post(sim.url + '/api/storage/file/clone' + query, json={
            'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
            'source_path': 'missing', 'destination_path': 'dst'})

    def test_missing_source_polls_as_failed_job(self, sim, api, conn):
        sim.add_fault(path='/api/storage/file/clone', defer_errors=True)
        r = self._clone(sim, api)
        assert r.status_code == 202
        job = api.get(sim.url + r.json()['job']['_links']['self']['href'])
        assert job.json()['state'] == 'failure'
        assert job.json()['error']['code'] == '6684674'
        with pytest.raises(NetAppRestError, match='not found'):
            FileClone(volume={'uuid': vol_uuid(sim, 'vol_cinder_a')},
                      source_path='missing', destination_path='d').post(
                poll=True, poll_interval=0.05)

    def test_failure_within_return_timeout(self, sim, api):
        sim.add_fault(path='/api/storage/file/clone', defer_errors=True)
        r = self._clone(sim, api, '?return_timeout=5')
        assert r.status_code == 400
        assert set(r.json()) == {'error', 'job'}
        assert r.json()['error']['code'] == '6684674'

    def test_full_destination_fails_the_copy_job(self, sim, api):
        write_file(sim, 'vol_cinder_a', 'src', data=b'x')
        sim.add_fault(path='/api/storage/file/copy', no_space=True)
        r = api.post(sim.url + '/api/storage/file/copy?return_timeout=5',
                     json=copy_body(sim))
        assert r.status_code == 400
        assert r.json()['error']['code'] == '13'
        job_uuid = r.json()['job']['uuid']
        assert sim.backend.jobs.get(job_uuid).state == 'failure'
