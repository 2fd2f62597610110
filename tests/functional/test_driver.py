# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""NetAppEicNfsDriver end to end: the real driver class, Cinder's NetApp
parent, the netapp_ontap library and the simulator over HTTPS, on real files
with real qemu-img. Each test checks the path taken, the volume's bytes and
what is left in the FlexVols."""

import os
import threading
from unittest import mock

from cinder import context
import fixtures
from cinder.tests.unit import utils as test_utils
from oslo_utils import units

import netapp_eic
from netapp_eic.core import cache
from netapp_eic.core import records
from netapp_eic.driver import NetAppEicNfsDriver
from netapp_eic.core.types import Route
from netapp_eic_testing import fixtures as hf
from netapp_eic_testing import glance as glance_mod
from netapp_eic_testing import images
from netapp_eic_testing import outcomes as outcomes_mod
from netapp_eic_testing import stack as stack_mod
from tests import base

POOL_A, POOL_B = stack_mod.DEFAULT_SHARES
SIZE = 8 * units.Mi


class EicTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.ctx = context.get_admin_context()
        self.useFixture(hf.InProcessPrivsepFixture())
        self.storage = self.useFixture(hf.StackFixture()).stack
        self.sim = self.storage.sim
        self.glance = self.storage.image_service
        self.glance_in_pool = self._glance_on('vol_cinder_a', 'glance-images')
        self.overrides = {}
        self.work = self.useFixture(fixtures.TempDir()).path
        self.flags(image_conversion_dir=os.path.join(self.work, 'conv'))

    def driver(self, **overrides):
        return self.storage.driver(NetAppEicNfsDriver, **overrides)

    def _glance_on(self, flexvol, subdir, ip='127.0.0.1'):
        local = self.sim.shares['%s:/%s' % (ip, flexvol)]
        return glance_mod.FakeImageService(
            os.path.join(local, subdir), 'nfs://%s/%s' % (ip, flexvol),
            local)

    def image(self, service, fmt='raw', seed=1, disk_format=None, **kw):
        path = os.path.join(self.work, 'src-%s-%d' % (fmt, seed))
        images.make_image(path, fmt, SIZE, seed=seed)
        image_id = service.add_image(path, disk_format or fmt, **kw)
        return image_id, images.raw_bytes_digest(path, fmt)

    def volume(self, share, size=1):
        return test_utils.create_volume(
            self.ctx, host=stack_mod.pool_host(share), size=size,
            provider_location=None, volume_type_id=self.vt["id"])

    def clone(self, drv, service, image_id, share=POOL_A, size=1):
        volume = self.volume(share, size)
        outcomes = outcomes_mod.recorder(drv)
        result = drv.clone_image(self.ctx, volume,
                                 service.get_location(self.ctx, image_id),
                                 service.show(self.ctx, image_id), service)
        return volume, result, outcomes.of(volume.id)

    def local(self, share, name):
        return os.path.join(self.storage.share_dir(share), name)

    def assert_volume_data(self, share, volume, digest):
        path = self.local(share, volume.name)
        self.assertEqual(volume.size * units.Gi, os.path.getsize(path))
        self.assertEqual(digest, images.raw_bytes_digest(path, 'raw',
                                                         length=SIZE))

    def assert_no_leftovers(self):
        for share in stack_mod.DEFAULT_SHARES + ('127.0.0.1:/vol_glance',):
            names = os.listdir(self.storage.share_dir(share))
            self.assertEqual([], [n for n in names
                                  if n.startswith(cache.TEMP_PREFIX)],
                             'temporary files left in %s' % share)

    def record(self, share, image_id):
        return records.read(self.local(share, records.record_name(image_id)),
                            image_id)

    def entry_path(self, share, image_id):
        return self.local(share, cache.entry_name(image_id))

    def posts(self, path):
        return [r for r in self.sim.request_log()
                if r['method'] == 'POST' and r['path'].rstrip('/').endswith(
                    path)]


class PathsTestCase(EicTestCase):

    def test_direct_clone_from_subdirectory_then_cache_hit(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance_in_pool)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual(({'provider_location': POOL_A, 'bootable': True,
                           'admin_metadata': {'format': 'raw'}}, True),
                         result)
        self.assertEqual(Route.DIRECT_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        entry = self.entry_path(POOL_A, image_id)
        self.assertEqual(SIZE, os.path.getsize(entry))
        record = self.record(POOL_A, image_id)
        self.assertEqual('direct-clone', record.built_by)

        second, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertTrue(result[1])
        self.assertEqual(Route.CACHE_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, second, digest)
        self.assertGreater(self.record(POOL_A, image_id).last_used,
                           record.last_used)
        self.assertEqual(0, outcome.host_bytes)
        self.assertEqual([], self.posts('/storage/file/copy'))
        self.assert_no_leftovers()

    def test_file_copy_from_glance_flexvol_raw(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance)
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B, size=2)
        self.assertTrue(result[1])
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assert_volume_data(POOL_B, volume, digest)
        self.assertEqual(SIZE, os.path.getsize(
            self.entry_path(POOL_B, image_id)))
        copies = self.posts('/storage/file/copy')
        self.assertEqual(1, len(copies))
        self.assertIn('return_timeout', copies[0]['query'])
        self.assert_no_leftovers()

    def test_qcow2_is_converted_once_per_pool(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, 'qcow2', seed=3)
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assertGreater(outcome.host_bytes, 0)
        self.assert_volume_data(POOL_A, volume, digest)
        entry = self.entry_path(POOL_A, image_id)
        self.assertEqual('raw', images.qemu_img_info(entry)['format'])
        self.assertEqual(SIZE, os.path.getsize(entry))

        again, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual(Route.CACHE_CLONE, outcome.path)
        self.assertEqual(0, outcome.host_bytes)
        self.assert_volume_data(POOL_A, again, digest)
        self.assert_no_leftovers()

    def test_other_pools_cache_entry_is_copied_not_the_qcow2(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, 'qcow2', seed=4)
        self.clone(drv, self.glance, image_id, POOL_A)
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assertEqual(0, outcome.host_bytes)  # raw entry, no conversion
        self.assert_volume_data(POOL_B, volume, digest)
        self.assertTrue(os.path.exists(self.entry_path(POOL_B, image_id)))

    def test_qcow2_in_pool_flexvol_converted_directly(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance_in_pool, 'qcow2', seed=5)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual(Route.DIRECT_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        self.assert_no_leftovers()

    def test_copy_offload_tool(self):
        tool = self.sim.write_copyoffload_tool(self.work)
        drv = self.driver(netapp_copyoffload_tool_path=tool)
        image_id, digest = self.image(self.glance)
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual(Route.COPY_OFFLOAD, outcome.path)
        self.assert_volume_data(POOL_B, volume, digest)
        self.assertEqual([], self.posts('/storage/file/copy'))
        self.assert_no_leftovers()

    def test_copy_offload_refused_when_vstorage_disabled(self):
        # Glance on SVM vs1: File Copy needs an SVM peer for file_copy,
        # which the driver creates (netapp_eic_create_svm_peers).
        tool = self.sim.write_copyoffload_tool(self.work)
        drv = self.driver(netapp_copyoffload_tool_path=tool,
                          netapp_eic_create_svm_peers=True)
        vs1 = self._glance_on('vol_vs1', 'images', ip='127.0.0.2')
        image_id, digest = self.image(vs1)
        volume, result, outcome = self.clone(drv, vs1, image_id, POOL_A)
        self.assertIn('copy-offload: vstorage is disabled on SVM vs1',
                      outcome.skipped)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        self.assertEqual(1, len(self.posts('/svm/peers')))

    def test_download_registers_entry_at_image_size_then_clones(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, seed=6)
        self.glance.set_locations(image_id, None, [
            {'url': 'http://glance.example.com/v2/images/x', 'metadata': {}}])
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             size=2)
        self.assertEqual((None, False), result)
        self.assertEqual(Route.DOWNLOAD, outcome.path)
        volume.provider_location = drv.create_volume(
            volume)['provider_location']
        drv.copy_image_to_volume(self.ctx, volume, self.glance, image_id)
        self.assert_volume_data(POOL_A, volume, digest)
        self.assertEqual(SIZE, os.path.getsize(
            self.entry_path(POOL_A, image_id)))

        smaller, result, outcome = self.clone(drv, self.glance, image_id,
                                              size=1)
        self.assertEqual(Route.CACHE_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, smaller, digest)

    def download(self, drv, service, image_id, share=POOL_A, size=1):
        """What Cinder does when clone_image declines."""
        volume = self.volume(share, size)
        volume.provider_location = drv.create_volume(
            volume)['provider_location']
        drv.copy_image_to_volume(self.ctx, volume, service, image_id)
        return volume

    def test_registration_ignores_an_understated_virtual_size(self):
        drv = self.driver()
        for fmt, seed in (('raw', 20), ('qcow2', 21)):
            image_id, digest = self.image(self.glance, fmt, seed=seed)
            self.glance.set_locations(image_id, None, [])
            self.glance.set_fields(image_id, virtual_size=SIZE // 4)
            self.assert_volume_data(POOL_A, self.download(
                drv, self.glance, image_id), digest)
            self.assertEqual(SIZE, os.path.getsize(
                self.entry_path(POOL_A, image_id)), fmt)
            volume, result, outcome = self.clone(drv, self.glance, image_id)
            self.assertEqual(Route.CACHE_CLONE, outcome.path, fmt)
            self.assert_volume_data(POOL_A, volume, digest)

    def test_image_without_checksum_is_cached_by_id(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, seed=22)
        self.glance.set_fields(image_id, checksum=None, os_hash_value=None,
                               os_hash_algo=None)
        first, _result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        second, _result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual(Route.CACHE_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, second, digest)
        self.assertEqual(1, len(self.posts('/storage/file/copy')))
        self.assertIsNone(self.record(POOL_A, image_id).content)

    def test_upstream_cache_entry_is_used_and_adopted(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, seed=7)
        raw = self.glance.image_path(image_id)
        with open(raw, 'rb') as src, open(
                self.entry_path(POOL_A, image_id), 'wb') as dst:
            dst.write(src.read())
        self.glance.set_locations(image_id, None, [])
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual(Route.CACHE_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        self.assertEqual('adopted', self.record(POOL_A, image_id).built_by)

    def test_explain_has_no_side_effects(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        before = len(self.sim.request_log())
        text = drv.explain_clone(self.volume(POOL_A),
                                 self.glance.get_location(self.ctx, image_id),
                                 self.glance.show(self.ctx, image_id))
        self.assertTrue(text.startswith('file-copy from file://'), text)
        writes = [r for r in self.sim.request_log()[before:]
                  if r['method'] != 'GET']
        self.assertEqual([], writes)
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))

    def test_boot_storm_copies_once(self):
        drv = self.driver()
        image_id, digest = self.image(self.glance, seed=8)
        volumes = [self.volume(POOL_B) for _ in range(4)]
        for volume in volumes:
            # Cinder's TestCase database is one in-memory SQLite connection
            # that threads cannot share (cinder-volume has a pool); untyped
            # volume objects keep the driver off it during the storm.
            volume.volume_type_id = None
        location = self.glance.get_location(self.ctx, image_id)
        meta = self.glance.show(self.ctx, image_id)
        start = threading.Barrier(len(volumes))
        results, errors = {}, []

        def create(volume):
            start.wait()
            try:
                results[volume.id] = drv.clone_image(
                    self.ctx, volume, location, meta, self.glance)
            except Exception as e:  # reported below, not swallowed
                errors.append(e)

        threads = [threading.Thread(target=create, args=(v,))
                   for v in volumes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        self.assertEqual(1, len(self.posts('/storage/file/copy')))
        self.assertEqual(len(volumes), len(results))
        for volume in volumes:
            self.assertTrue(results[volume.id][1])
            self.assert_volume_data(POOL_B, volume, digest)
        self.assert_no_leftovers()


class FailureTestCase(EicTestCase):

    def assert_fell_back(self, outcome, path, fragment):
        reasons = ' '.join(r for p, r in outcome.failures if p == path)
        self.assertIn(fragment, reasons)

    def test_file_copy_job_failure_falls_back_and_cleans_up(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           fail_after_percent=50)
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual((None, False), result)
        self.assertEqual(Route.DOWNLOAD, outcome.path)
        self.assertNotEqual([], outcome.failures)
        self.assertFalse(os.path.exists(self.local(POOL_A, volume.name)))
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))
        self.assert_no_leftovers()

    def test_file_copy_timeout_cancels_and_removes_partial(self):
        drv = self.driver(netapp_eic_file_copy_timeout=1,
                          netapp_eic_file_copy_return_timeout=0)
        image_id, _ = self.image(self.glance)
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           throttle_bps=1 * units.Mi)
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual((None, False), result)
        self.assertNotEqual([], outcome.failures)
        patches = [r for r in self.sim.request_log()
                   if r['method'] == 'PATCH' and '/cluster/jobs/' in r['path']]
        self.assertEqual(1, len(patches))
        self.assert_no_leftovers()

    def test_clone_error_falls_through_to_download(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool)
        self.sim.add_fault(method='POST', path='/api/storage/file/clone',
                           status=500)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual((None, False), result)
        self.assertEqual(Route.DIRECT_CLONE, outcome.failures[0][0])
        self.assert_no_leftovers()
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))

    def test_no_space_on_copy(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           no_space=True)
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual((None, False), result)
        self.assertEqual(Route.FILE_COPY, outcome.failures[0][0])
        self.assert_no_leftovers()

    def test_stale_entry_not_used_and_rebuilt(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool, seed=9)
        self.clone(drv, self.glance_in_pool, image_id)
        new_src = os.path.join(self.work, 'new')
        images.make_image(new_src, 'raw', SIZE, seed=10)
        self.glance_in_pool.update_image_content(image_id, new_src)
        digest = images.raw_bytes_digest(new_src, 'raw')
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertIn('holds', ' '.join(outcome.skipped))
        self.assertEqual(Route.DIRECT_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)

    def test_mislabelled_qcow2_refused(self):
        drv = self.driver()
        path = os.path.join(self.work, 'mislabelled')
        images.make_mislabelled_qcow2(path, SIZE)
        image_id = self.glance_in_pool.add_image(path, 'raw')
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual((None, False), result)
        self.assertIn('qcow2', ' '.join(outcome.skipped))
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))

    def test_mislabelled_qcow2_refused_before_file_copy(self):
        # The driver mounts Glance's FlexVol (a pool's SVM serves it) and
        # inspects the file there: refused before anything is copied.
        drv = self.driver()
        path = os.path.join(self.work, 'mislabelled')
        images.make_mislabelled_qcow2(path, SIZE)
        image_id = self.glance.add_image(path, 'raw')
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual((None, False), result)
        self.assertEqual(Route.DOWNLOAD, outcome.path)
        self.assertIn('qcow2', ' '.join(outcome.skipped))
        self.assertEqual([], [r for r in self.sim.request_log()
                              if r['path'] == '/api/storage/file/copy'])
        self.assert_no_leftovers()

    def test_mislabelled_qcow2_refused_after_file_copy(self):
        drv = self.driver(netapp_eic_mount_glance_flexvols=False)
        path = os.path.join(self.work, 'mislabelled')
        images.make_mislabelled_qcow2(path, SIZE)
        image_id = self.glance.add_image(path, 'raw')
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual((None, False), result)
        self.assert_fell_back(outcome, Route.FILE_COPY, 'qcow2')
        self.assert_no_leftovers()

    def test_backing_file_refused(self):
        drv = self.driver()
        backing = os.path.join(self.work, 'backing')
        images.make_image(backing, 'raw', SIZE)
        path = os.path.join(self.work, 'with-backing')
        images.make_qcow2_with_backing_file(path, backing, SIZE)
        image_id = self.glance_in_pool.add_image(path, 'qcow2')
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual((None, False), result)
        self.assertIn('backing', ' '.join(outcome.skipped).lower())

    def test_hostile_locations_skipped_with_reasons(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        self.glance.set_locations(image_id, None, [
            {'url': 'nfs://127.0.0.1/vol_glance/../etc/passwd',
             'metadata': {}},
            {'url': 'nfs://127.0.0.9/vol_glance/images/%s' % image_id,
             'metadata': {}},
            {'url': 'rbd://pool/%s' % image_id, 'metadata': {}}])
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertEqual((None, False), result)
        text = ' '.join(outcome.skipped)
        self.assertIn('..', text)
        self.assertIn('127.0.0.9', text)
        self.assertIn('rbd', text)

    def test_keyboard_interrupt_is_not_swallowed(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool)
        # Mocked: a real Ctrl-C cannot be delivered at this exact point.
        with mock.patch.object(drv._eic.client, 'clone_file',
                               side_effect=KeyboardInterrupt):
            self.assertRaises(KeyboardInterrupt, self.clone, drv,
                              self.glance_in_pool, image_id)


class PolicyTestCase(EicTestCase):

    def test_image_conversion_disable_refuses_qcow2(self):
        self.flags(image_conversion_disable=True)
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool, 'qcow2', seed=11)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual((None, False), result)
        self.assertIn('conversion is disabled', ' '.join(outcome.skipped))
        self.assertEqual([], self.posts('/storage/file/clone'))

    def test_cache_disabled_clones_without_an_entry(self):
        drv = self.driver(netapp_eic_cache_enabled=False)
        image_id, digest = self.image(self.glance_in_pool, seed=12)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual(Route.DIRECT_CLONE, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))
        self.assert_no_leftovers()


class InterfaceTestCase(base.TestCase):

    def test_overrides_keep_cinder_signatures(self):
        import inspect

        from cinder.interface import volume_driver

        def parameters(function):
            # Names, kinds and defaults: Cinder calls by these. Our type
            # annotations are not part of the contract.
            return [(p.name, p.kind, p.default) for p in
                    inspect.signature(function).parameters.values()]
        for name in ('clone_image', 'copy_image_to_volume'):
            self.assertEqual(
                parameters(getattr(volume_driver.VolumeDriverCore, name)),
                parameters(getattr(NetAppEicNfsDriver, name)))

    def test_driver_options_include_eic_and_parent_cache_opts(self):
        names = {opt.name for opt in NetAppEicNfsDriver.get_driver_options()}
        self.assertIn('netapp_eic_file_copy_timeout', names)
        self.assertIn('netapp_copyoffload_tool_path', names)
        self.assertIn('expiry_thres_minutes', names)


class StatsTestCase(EicTestCase):

    def test_pools_report_their_cache_to_the_scheduler(self):
        drv = self.driver()
        local_id, _ = self.image(self.glance_in_pool, seed=30)
        self.clone(drv, self.glance_in_pool, local_id)
        remote_id, _ = self.image(self.glance, seed=31)
        self.clone(drv, self.glance, remote_id)
        pools = {p['pool_name']: p for p in
                 drv.get_volume_stats(refresh=True)['pools']}
        a, b = pools[POOL_A], pools[POOL_B]
        self.assertEqual(netapp_eic.__version__, a['netapp_eic_version'])
        self.assertEqual([remote_id, local_id],
                         a['netapp_eic_cached_images'])
        self.assertEqual(2, a['netapp_eic_cached_image_count'])
        self.assertGreater(a['netapp_eic_cache_bytes'], 0)
        self.assertEqual([local_id], a['netapp_eic_direct_clone_images'])
        self.assertFalse(a['netapp_eic_cache_pressure'])
        self.assertEqual([], b['netapp_eic_cached_images'])
        self.assertEqual([], b['netapp_eic_direct_clone_images'])

    def test_budget_exceeded_is_reported_as_pressure(self):
        drv = self.driver(netapp_eic_cache_max_entries=1)
        first, _ = self.image(self.glance_in_pool, seed=32)
        self.clone(drv, self.glance_in_pool, first)
        pool = self.storage.share_dir(POOL_A)
        with open(os.path.join(pool, records.entry_name('in-tree')),
                  'wb') as f:
            f.write(b'legacy entry without a record')
        pools = {p['pool_name']: p for p in
                 drv.get_volume_stats(refresh=True)['pools']}
        self.assertTrue(pools[POOL_A]['netapp_eic_cache_pressure'])


class LoggingTestCase(EicTestCase):

    def test_setup_warns_when_the_lock_store_is_per_host(self):
        import logging
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.driver', level=logging.WARNING))
        self.driver()
        self.assertIn('[coordination] backend_url is file://', log.output)
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.driver', level=logging.WARNING))
        self.flags(backend_url='redis:///run/redis.sock',
                   group='coordination')
        self.driver(hostname='other')
        self.assertNotIn('backend_url', log.output)

    def test_one_info_line_per_create_explains_the_decision(self):
        import logging
        drv = self.driver()
        image_id, _ = self.image(self.glance, seed=13)
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.driver', level=logging.INFO))
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        lines = [line for line in log.output.splitlines()
                 if line.startswith('EIC image')]
        self.assertEqual(1, len(lines))
        for part in (image_id, volume.id, POOL_B, 'path file-copy',
                     'cache-clone: no cache entry in FlexVol vol_cinder_b',
                     'direct-clone: image file is not in FlexVol'):
            self.assertIn(part, lines[0])
        self.assertRegex(lines[0], r'in \d+\.\d{3} s')
        self.assertNotIn(self.sim.password, log.output)


class SweepTestCase(EicTestCase):

    def test_periodic_cleanup_removes_only_stale_temporaries(self):
        drv = self.driver()
        old = self.local(POOL_A, cache.temp_name('copy'))
        young = self.local(POOL_B, cache.temp_name('copy'))
        for path in (old, young):
            with open(path, 'wb') as f:
                f.write(b'partial')
        os.utime(old, (1000, 1000))
        drv._clean_image_cache()
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(young))
