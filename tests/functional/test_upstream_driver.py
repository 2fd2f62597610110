# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder's upstream NetApp NFS driver, unchanged, against the simulator.

The driver is built through ``cinder.volume.drivers.netapp.common.
NetAppDriver`` from a real backend configuration, talks REST to the
simulator over HTTPS with certificate verification, and sees the FlexVols
through bind mounts at os-brick's mount points. Nothing is mocked: these
tests pin the behaviour of the code our plugin subclasses, and the
simulator's fidelity to it.
"""

import os
import random
import subprocess
import time

from cinder import context
from cinder.tests.unit import utils as test_utils
from cinder.volume import volume_types
from oslo_utils import units
from testtools import content

from netapp_eic_testing import fixtures as harness
from netapp_eic_testing import images
from netapp_eic_testing import stack as stack_mod
from tests import base

GiB = units.Gi
SHARE_A, SHARE_B = stack_mod.DEFAULT_SHARES
BLOCK = 64 * 1024


def _fill(path, seed):
    """Write random 64 KiB blocks at a few offsets of an existing file."""
    rng = random.Random(seed)
    size = os.path.getsize(path)
    with open(path, 'r+b') as target:
        for offset in (0, size // 3, size - BLOCK):
            target.seek(offset // BLOCK * BLOCK)
            target.write(rng.randbytes(BLOCK))
        target.flush()
        os.fsync(target.fileno())


def _has_shared_extents(path):
    """True if ``filefrag`` reports extents shared with another file."""
    out = subprocess.run(['filefrag', '-v', path], check=True,
                         capture_output=True, text=True).stdout
    return 'shared' in out


class UpstreamDriverTestCase(base.TestCase):
    """Each test gets its own simulator, data root and configured driver."""

    def setUp(self):
        super().setUp()
        self.useFixture(harness.InProcessPrivsepFixture())
        self.storage = self.useFixture(harness.StackFixture()).stack
        self.sim = self.storage.sim
        self.driver = self.storage.driver()
        self.ctx = context.get_admin_context()
        self.volume_type_id = volume_types.get_default_volume_type()['id']

    # -- helpers --------------------------------------------------------------

    def _path(self, share, name):
        """Path of ``name`` on ``share`` as the driver sees it."""
        return os.path.join(self.storage.share_dir(share), name)

    def _backing_path(self, share, name):
        """Path of ``name`` in the simulator's FlexVol directory."""
        return os.path.join(self.sim.shares[share], name)

    def _new_volume(self, share=SHARE_A, size=1):
        """A volume row in Cinder's DB, in pool ``share``."""
        return test_utils.create_volume(
            self.ctx, host=stack_mod.pool_host(share), size=size,
            volume_type_id=self.volume_type_id)

    def _save(self, volume, model_update):
        """Persist the driver's model update as the volume manager does."""
        volume.update(model_update or {})
        volume.save()

    def _create_volume(self, share=SHARE_A, size=1, seed=None):
        """Create a volume through the driver, optionally with data."""
        volume = self._new_volume(share, size)
        self._save(volume, self.driver.create_volume(volume))
        if seed is not None:
            _fill(self._path(share, volume.name), seed)
        return volume

    def _requests(self, method, path_part):
        """Logged simulator requests matching ``method`` and a path part."""
        return [r for r in self.sim.request_log()
                if r['method'] == method and path_part in r['path']]

    # -- tests ----------------------------------------------------------------

    def test_setup_over_verified_https(self):
        self.assertTrue(self.sim.url.startswith('https://'))
        self.assertTrue(self.driver.configuration.netapp_ssl_cert_verify)
        self.assertEqual(self.sim.ca_file,
                         self.driver.configuration.netapp_ssl_cert_path)
        self.assertNotEqual([], self._requests('GET', '/cluster'))

    def test_volume_stats(self):
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual(stack_mod.BACKEND, stats['volume_backend_name'])
        self.assertEqual('nfs', stats['storage_protocol'])
        pools = {pool['pool_name']: pool for pool in stats['pools']}
        self.assertEqual(set(stack_mod.DEFAULT_SHARES), set(pools))
        for share, pool in pools.items():
            flexvol = share.split(':/', 1)[1]
            space = self.sim.backend.volume_by_name(flexvol).space()
            self.assertAlmostEqual(space['afs_total'] / GiB,
                                   pool['total_capacity_gb'], delta=0.01)
            self.assertAlmostEqual(space['available'] / GiB,
                                   pool['free_capacity_gb'], delta=0.01)
            self.assertLessEqual(pool['free_capacity_gb'],
                                 pool['total_capacity_gb'])
            self.assertEqual('aggr1', pool['netapp_aggregate'])

    def test_create_and_delete_volume(self):
        volume = self._create_volume(SHARE_A, size=1)
        self.assertEqual(SHARE_A, volume.provider_location)
        path = self._path(SHARE_A, volume.name)
        self.assertEqual(GiB, os.path.getsize(path))
        self.assertTrue(os.path.exists(
            self._backing_path(SHARE_A, volume.name)))
        self.driver.delete_volume(volume)
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(
            self._backing_path(SHARE_A, volume.name)))
        # Deleted through ONTAP's REST API, not by the "rm" fallback.
        self.assertNotEqual([], self._requests('DELETE', volume.name))
        self.assertNotIn('rm', [cmd[0] for cmd in
                                self.storage.mounts.commands])

    def test_create_and_delete_snapshot(self):
        volume = self._create_volume(SHARE_A, seed=1)
        snapshot = test_utils.create_snapshot(self.ctx, volume.id)
        self.driver.create_snapshot(snapshot)
        source = self._path(SHARE_A, volume.name)
        snap_path = self._path(SHARE_A, snapshot.name)
        self.assertEqual(images.raw_bytes_digest(source),
                         images.raw_bytes_digest(snap_path))
        self._assert_clone_shares_blocks(snap_path)
        self.assertNotEqual([], self._requests('POST', '/storage/file/clone'))
        self.driver.delete_snapshot(snapshot)
        self.assertFalse(os.path.exists(snap_path))
        self.assertTrue(os.path.exists(source))

    def test_create_volume_from_snapshot(self):
        volume = self._create_volume(SHARE_A, seed=2)
        snapshot = test_utils.create_snapshot(self.ctx, volume.id)
        self.driver.create_snapshot(snapshot)
        new = self._new_volume(SHARE_A)
        self._save(new, self.driver.create_volume_from_snapshot(new,
                                                                snapshot))
        self.assertEqual(
            images.raw_bytes_digest(self._path(SHARE_A, volume.name)),
            images.raw_bytes_digest(self._path(SHARE_A, new.name)))

    def test_create_cloned_volume(self):
        source = self._create_volume(SHARE_A, seed=3)
        clone = self._new_volume(SHARE_A)
        self._save(clone, self.driver.create_cloned_volume(clone, source))
        self.assertEqual(SHARE_A, clone.provider_location)
        clone_path = self._path(SHARE_A, clone.name)
        self.assertEqual(
            images.raw_bytes_digest(self._path(SHARE_A, source.name)),
            images.raw_bytes_digest(clone_path))
        self._assert_clone_shares_blocks(clone_path)

    def _assert_clone_shares_blocks(self, path):
        """With reflink the clone must share extents; say which mode ran."""
        self.addDetail('clone_mode', content.text_content(
            self.storage.describe()))
        if self.storage.clone_mode == 'reflink':
            self.assertTrue(_has_shared_extents(path))

    def test_file_copy_between_flexvols_with_client(self):
        volume = self._create_volume(SHARE_A, seed=4)
        client = self.driver.zapi_client
        job_uuid = client.start_file_copy(
            volume.name, 'vol_cinder_b', src_ontap_volume='vol_cinder_a',
            dest_file_name='copied-' + volume.name)
        status = self._wait_for_copy(client, job_uuid)
        self.assertEqual('complete', status['job-status'])
        self.assertEqual(
            images.raw_bytes_digest(self._path(SHARE_A, volume.name)),
            images.raw_bytes_digest(self._path(SHARE_B,
                                               'copied-' + volume.name)))

    @staticmethod
    def _wait_for_copy(client, job_uuid, timeout=30):
        """Poll the copy job (what the driver does every 10 s) quickly."""
        deadline = time.monotonic() + timeout
        while True:
            status = client.get_file_copy_status(job_uuid)
            if status['job-status'] in ('complete', 'destroyed'):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"copy job {job_uuid} still {status['job-status']}")
            time.sleep(0.05)

    def test_driver_copy_file_between_flexvols(self):
        volume = self._create_volume(SHARE_A, seed=5)
        self.driver._copy_file(volume.name, volume.id, 'vol_cinder_a',
                               self.sim.vserver, 'vol_cinder_b',
                               self.sim.vserver)
        self.assertEqual(
            images.raw_bytes_digest(self._path(SHARE_A, volume.name)),
            images.raw_bytes_digest(self._path(SHARE_B, volume.name)))
