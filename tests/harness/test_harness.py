# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Unit tests of the harness modules: data root, NFS mounts, images, Glance."""

import errno
import hashlib
import os
import shutil
import subprocess

import fixtures
import testtools

from netapp_eic.simulator import fsops
from netapp_eic_testing import dataroot, glance, images, nfs

IS_ROOT = os.geteuid() == 0
HAS_MKFS_XFS = shutil.which('mkfs.xfs') is not None
SHARE = '127.0.0.1:/vol_a'
MiB = 1024 ** 2


def _mount_points():
    return nfs.read_mount_points()


def _loop_devices_of(image_file):
    """Lines of ``losetup -a`` that name ``image_file``."""
    out = subprocess.run(['losetup', '-a'], check=True, capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if image_file in line]


class DataRootTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.base = self.useFixture(fixtures.TempDir()).path

    @testtools.skipUnless(IS_ROOT and HAS_MKFS_XFS, 'needs root and mkfs.xfs')
    def test_xfs_reflink_mode_and_cleanup(self):
        root = dataroot.DataRoot(self.base, size_bytes=1024 * MiB)
        self.addCleanup(root.stop)
        with root:
            mount_dir, image_file = root.path, root.image_file
            self.assertEqual('xfs-reflink', root.mode)
            self.assertIsNone(root.reason)
            self.assertIn(mount_dir, _mount_points())
            self.assertTrue(fsops.probe_reflink(mount_dir))
            self.assertEqual(1, len(_loop_devices_of(image_file)))
        self.assertNotIn(mount_dir, _mount_points())
        self.assertEqual([], _loop_devices_of(image_file))
        self.assertFalse(os.path.exists(image_file))

    def test_plain_mode_when_reflink_not_wanted(self):
        with dataroot.DataRoot(self.base, want_reflink=False) as root:
            self.assertEqual('plain', root.mode)
            self.assertEqual('reflink not requested', root.reason)
            self.assertTrue(os.path.isdir(root.path))

    @testtools.skipUnless(IS_ROOT and HAS_MKFS_XFS, 'needs root and mkfs.xfs')
    def test_failed_xfs_setup_is_undone(self):
        # 1 MiB is below XFS's minimum size: mkfs.xfs fails after the loop
        # file was created; the file must be gone and the mode plain.
        with dataroot.DataRoot(self.base, size_bytes=MiB) as root:
            self.assertEqual('plain', root.mode)
            self.assertIn('mkfs.xfs', root.reason)
            self.assertFalse(os.path.exists(
                os.path.join(self.base, 'xfs.img')))

    def test_reflink_probe_leaves_nothing(self):
        fsops.probe_reflink(self.base)
        self.assertEqual([], os.listdir(self.base))


class NfsMountsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.export = os.path.join(tmp, 'vol_a')
        os.mkdir(self.export)
        with open(os.path.join(self.export, 'marker'), 'w') as marker:
            marker.write('on the share')
        self.base = os.path.join(tmp, 'mnt')

    def _mounts(self, use_bind_mounts=None):
        mounts = nfs.NfsMounts({SHARE: self.export}, self.base,
                               use_bind_mounts)
        self.addCleanup(mounts.stop)
        return mounts

    def _brick_client(self, mounts):
        from os_brick.remotefs import remotefs
        return remotefs.RemoteFsClient('nfs', root_helper='x',
                                       execute=mounts.execute,
                                       nfs_mount_point_base=self.base)

    def test_mount_point_is_md5_of_share(self):
        mounts = self._mounts()
        digest = hashlib.md5(SHARE.encode()).hexdigest()
        self.assertEqual(os.path.join(os.path.realpath(self.base), digest),
                         mounts.mount_point(SHARE))

    @testtools.skipUnless(IS_ROOT, 'bind mounts need root')
    def test_bind_mount_visible_then_gone(self):
        mounts = self._mounts()
        mounts.start()
        point = mounts.mount_point(SHARE)
        self.assertIn(point, _mount_points())
        self.assertTrue(os.path.exists(os.path.join(point, 'marker')))
        self._brick_client(mounts).mount(SHARE)
        self.assertEqual([], mounts.commands)  # "already mounted"
        mounts.stop()
        self.assertNotIn(point, _mount_points())

    @testtools.skipUnless(IS_ROOT, 'bind mounts need root')
    def test_brick_mount_becomes_bind_mount(self):
        mounts = self._mounts()
        self._brick_client(mounts).mount(SHARE)
        point = mounts.mount_point(SHARE)
        self.assertIn(point, _mount_points())
        self.assertEqual('mount', mounts.intercepted[0][0])
        self.assertIn('nfs', mounts.intercepted[0])
        executed = [c for c in mounts.commands if c not in
                    mounts.intercepted]
        self.assertEqual([['mkdir', '-p', point]], executed)
        mounts.stop()
        self.assertNotIn(point, _mount_points())

    def test_symlink_mode(self):
        mounts = self._mounts(use_bind_mounts=False)
        mounts.start()
        point = mounts.mount_point(SHARE)
        self.assertEqual('symlink', mounts.mode)
        self.assertTrue(os.path.islink(point))
        self._brick_client(mounts).mount(SHARE)
        self.assertTrue(os.path.exists(os.path.join(point, 'marker')))
        mounts.stop()
        self.assertFalse(os.path.lexists(point))

    def test_execute_drops_root_helper(self):
        mounts = self._mounts()
        out, _err = mounts.execute('echo', 'hi', run_as_root=True,
                                   root_helper='/nonexistent/helper')
        self.assertEqual('hi\n', out)

    def test_mount_nfs_probe_and_unknown_share(self):
        from oslo_concurrency import processutils
        mounts = self._mounts()
        self.assertEqual(('', ''), mounts.execute(
            'mount.nfs', check_exit_code=False, run_as_root=True))
        self.assertRaises(processutils.ProcessExecutionError,
                          mounts.execute, 'mount', '-t', 'nfs',
                          '10.0.0.9:/other', self.base, run_as_root=True)

    def test_mount_nfs_standin(self):
        bin_dir = self.useFixture(fixtures.TempDir()).path
        path = nfs.install_mount_nfs_standin(bin_dir)
        probe = subprocess.run([path], check=False, capture_output=True)
        self.assertEqual(0, probe.returncode)
        refused = subprocess.run([path, SHARE, self.base], check=False,
                                 capture_output=True, text=True)
        self.assertEqual(32, refused.returncode)
        self.assertIn('refusing to mount', refused.stderr)


class ImagesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def _path(self, name):
        return os.path.join(self.dir, name)

    def test_formats_and_content(self):
        raw = images.make_image(self._path('a.raw'), 'raw', 4 * MiB, seed=3)
        qcow = images.make_image(self._path('a.qcow2'), 'qcow2', 4 * MiB,
                                 seed=3)
        self.assertEqual('raw', images.qemu_img_info(raw.path)['format'])
        self.assertEqual('qcow2', images.qemu_img_info(qcow.path)['format'])
        self.assertEqual(4 * MiB, raw.virtual_size)
        self.assertEqual(4 * MiB, qcow.virtual_size)
        self.assertEqual(images.raw_bytes_digest(raw.path),
                         images.raw_bytes_digest(qcow.path, 'qcow2'))
        self.assertEqual(raw.sha512, images.raw_bytes_digest(raw.path))
        other = images.make_image(self._path('b.raw'), 'raw', 4 * MiB,
                                  seed=4)
        self.assertNotEqual(raw.sha512, other.sha512)

    def test_sparse_and_dense_hold_the_same_bytes(self):
        sparse = images.make_image(self._path('s.raw'), size_bytes=4 * MiB)
        dense = images.make_image(self._path('d.raw'), size_bytes=4 * MiB,
                                  sparse=False)
        self.assertEqual(sparse.sha512, dense.sha512)
        self.assertLess(os.stat(sparse.path).st_blocks,
                        os.stat(dense.path).st_blocks)

    def test_digest_with_length_pads_with_zeros(self):
        raw = images.make_image(self._path('a.raw'), size_bytes=MiB)
        longer = self._path('volume')
        shutil.copyfile(raw.path, longer)
        with open(longer, 'r+b') as volume:
            volume.truncate(3 * MiB)
        self.assertEqual(raw.sha512,
                         images.raw_bytes_digest(longer, length=MiB))
        self.assertEqual(images.raw_bytes_digest(longer),
                         images.raw_bytes_digest(raw.path, length=3 * MiB))

    def test_hostile_backing_file(self):
        info = images.make_qcow2_with_backing_file(
            self._path('h.qcow2'), self._path('backing.raw'))
        details = images.qemu_img_info(info.path)
        self.assertEqual(self._path('backing.raw'),
                         details['backing-filename'])

    def test_hostile_data_file(self):
        info = images.make_qcow2_with_data_file(
            self._path('h.qcow2'), self._path('data.raw'))
        details = images.qemu_img_info(info.path)
        self.assertEqual(self._path('data.raw'),
                         details['format-specific']['data']['data-file'])
        self.assertTrue(os.path.exists(self._path('data.raw')))

    def test_mislabelled_qcow2(self):
        info = images.make_mislabelled_qcow2(self._path('looks-raw'))
        self.assertEqual('qcow2', info.format)
        self.assertEqual('qcow2', images.qemu_img_info(info.path)['format'])


class FakeImageServiceTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.glance_dir = os.path.join(tmp, 'vol_glance')
        self.service = glance.FakeImageService(
            os.path.join(self.glance_dir, 'images'),
            'nfs://127.0.0.1/vol_glance', self.glance_dir)
        self.image = images.make_image(os.path.join(tmp, 'src.qcow2'),
                                       'qcow2', 2 * MiB)
        self.image_id = self.service.add_image(self.image.path, 'qcow2',
                                               hw_disk_bus='scsi')
        self.dst = os.path.join(tmp, 'downloaded')

    def test_show_shape(self):
        meta = self.service.show(None, self.image_id)
        self.assertEqual(self.image_id, meta['id'])
        self.assertEqual('active', meta['status'])
        self.assertEqual(self.image.size, meta['size'])
        self.assertEqual(2 * MiB, meta['virtual_size'])
        self.assertEqual(self.image.md5, meta['checksum'])
        self.assertEqual('sha512', meta['os_hash_algo'])
        self.assertEqual(self.image.sha512, meta['os_hash_value'])
        self.assertEqual({'hw_disk_bus': 'scsi'}, meta['properties'])
        self.assertIsNotNone(meta['created_at'].tzinfo)

    def test_file_locations(self):
        direct_url, locations = self.service.get_location(None,
                                                          self.image_id)
        path = os.path.join(self.glance_dir, 'images', self.image_id)
        self.assertIsNone(direct_url)
        self.assertEqual([{'url': 'file://' + path, 'metadata': {
            'id': 'netapp-glance', 'mountpoint': self.glance_dir,
            'type': 'nfs', 'share_location': 'nfs://127.0.0.1/vol_glance'}}],
            locations)

    def test_nfs_locations_and_override(self):
        self.service.location_style = glance.LOCATION_NFS
        url = f'nfs://127.0.0.1/vol_glance/images/{self.image_id}'
        self.assertEqual((url, [{'url': url, 'metadata': {}}]),
                         self.service.get_location(None, self.image_id))
        self.service.set_locations(self.image_id, None, [])
        self.assertEqual((None, []),
                         self.service.get_location(None, self.image_id))

    def test_download_verifies_and_counts(self):
        self.service.download(None, self.image_id, dst_path=self.dst)
        self.assertEqual(self.image.sha512, images.file_digests(self.dst)[0])
        self.assertEqual(self.image.size, self.service.bytes_downloaded)

    def test_corrupted_download_fails(self):
        self.service.corrupt_stored_file(self.image_id, offset=100)
        exc = self.assertRaises(IOError, self.service.download, None,
                                self.image_id, dst_path=self.dst)
        self.assertEqual(errno.EPIPE, exc.errno)
        self.assertIn('Corrupt image download', str(exc))

    def test_update_content_and_delete(self):
        from cinder import exception
        before = self.service.show(None, self.image_id)
        other = images.make_image(self.dst, 'qcow2', 2 * MiB, seed=9)
        self.service.update_image_content(self.image_id, other.path)
        after = self.service.show(None, self.image_id)
        self.assertEqual(other.sha512, after['os_hash_value'])
        self.assertGreater(after['updated_at'], before['updated_at'])
        self.service.delete(None, self.image_id)
        self.assertRaises(exception.ImageNotFound, self.service.show, None,
                          self.image_id)
        self.assertFalse(os.path.exists(self.service.image_path(
            self.image_id)))

    def test_cinder_fetch_uses_it(self):
        from cinder import context
        from cinder.image import image_utils
        ctx = context.get_admin_context()
        image_utils.fetch(ctx, self.service, self.image_id, self.dst,
                          None, None)
        self.assertEqual(self.image.sha512, images.file_digests(self.dst)[0])
