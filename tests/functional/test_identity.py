# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What the driver says about itself: version, start line, pool
capabilities, the Cinder release check, the per-create line's details and
progress of long copies. The real driver against the simulator."""

import logging
from unittest import mock

import fixtures
from cinder import interface

import netapp_eic
from netapp_eic.core import cache
from netapp_eic.core.types import Route
from netapp_eic.driver import NetAppEicNfsDriver
from netapp_eic import exception
from netapp_eic.ontap import progress
from netapp_eic import support
from tests.functional.test_driver import POOL_A, POOL_B, SIZE, EicTestCase


class IdentityTestCase(EicTestCase):

    def test_version_and_registration(self):
        drv = self.driver()
        self.assertEqual(netapp_eic.__version__, drv.get_version())
        self.assertIn(NetAppEicNfsDriver, interface._volume_register)

    def test_start_line_replaces_the_not_recommended_warning(self):
        log = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.driver()
        self.assertNotIn('not the recommended way', log.output)
        [line] = [line for line in log.output.splitlines()
                  if 'NetAppEicNfsDriver (Cinder' in line]
        self.assertIn('netapp-eic %s' % netapp_eic.__version__, line)
        self.assertIn('for backend %s' % 'netapp_eic', line)

    def test_pool_stats_carry_eic_and_cache_usage(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance, seed=21)
        self.clone(drv, self.glance, image_id, POOL_B)
        drv._update_volume_stats()
        stats = drv._stats
        self.assertEqual(netapp_eic.__version__, stats['driver_version'])
        pools = {p['pool_name']: p for p in stats['pools']}
        eic = {k: v for k, v in pools[POOL_B].items()
               if k.startswith('netapp_eic_')}
        self.assertGreater(eic.pop('netapp_eic_cache_bytes'), 0)
        self.assertEqual({'netapp_eic_version': netapp_eic.__version__,
                          'netapp_eic_active': True,
                          'netapp_eic_cached_images': [image_id],
                          'netapp_eic_cached_image_count': 1,
                          'netapp_eic_cache_pressure': False,
                          'netapp_eic_direct_clone_images': []}, eic)
        self.assertEqual(0, pools[POOL_A]['netapp_eic_cached_image_count'])
        self.assertEqual(0, pools[POOL_A]['netapp_eic_cache_bytes'])


class CinderReleaseTestCase(EicTestCase):
    # Another Cinder release cannot be installed beside the tested one in
    # this environment: the installed version is what is replaced.

    def test_untested_cinder_refused_with_the_option_named(self):
        drv = self.storage.driver(NetAppEicNfsDriver, setup=False)
        with mock.patch.object(support, 'cinder_version',
                               return_value='30.0.0'):
            err = self.assertRaises(exception.EicError, drv.do_setup,
                                    self.ctx)
        self.assertIn('this is Cinder 30.0.0', str(err))
        self.assertIn('netapp_eic_allow_untested_cinder = True', str(err))
        self.assertIsNone(drv._eic)

    def test_untested_cinder_allowed_by_option(self):
        drv = self.storage.driver(NetAppEicNfsDriver, setup=False,
                                  netapp_eic_allow_untested_cinder=True)
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.driver', level=logging.WARNING))
        with mock.patch.object(support, 'cinder_version',
                               return_value='30.0.0'):
            drv.do_setup(self.ctx)
        self.assertIsNotNone(drv._eic)
        self.assertIn('untested Cinder release', log.output)


class CreateLineTestCase(EicTestCase):

    def _lines(self, log):
        return [line for line in log.output.splitlines()
                if line.startswith('EIC image')]

    def test_conversion_source_and_cache_entry_named(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance, 'qcow2', seed=22)
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.driver', level=logging.INFO))
        _vol, _result, first = self.clone(drv, self.glance, image_id)
        _vol, _result, second = self.clone(drv, self.glance, image_id)
        self.assertEqual((Route.FILE_COPY, Route.CACHE_CLONE),
                         (first.path, second.path))
        copied, cloned = self._lines(log)
        self.assertIn('(from Glance file images/%s in FlexVol vol_glance)'
                      % image_id, copied)
        self.assertIn('(converted from qcow2 on this host, %d host bytes)'
                      % first.host_bytes, copied)
        self.assertGreater(first.host_bytes, 0)
        self.assertIn('(from cache entry %s in FlexVol vol_cinder_a)'
                      % cache.entry_name(image_id), cloned)
        self.assertNotIn('converted', cloned)
        self.assertNotIn('waited', copied + cloned)


class ProgressTestCase(EicTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'netapp_eic.ontap.progress.INTERVAL', 0.2))
        self.log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.ontap.progress', level=logging.INFO))

    def test_long_file_copy_logs_progress(self):
        drv = self.driver(netapp_eic_poll_max_interval=0.1,
                          netapp_eic_file_copy_return_timeout=0)
        image_id, digest = self.image(self.glance, seed=23)
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           throttle_bps=SIZE, count=1)
        volume, _result, outcome = self.clone(drv, self.glance, image_id,
                                              POOL_B)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assert_volume_data(POOL_B, volume, digest)
        lines = self.log.output.splitlines()
        self.assertGreaterEqual(len(lines), 2, lines)
        prefix = ('File Copy of Glance file images/%s in FlexVol vol_glance '
                  'to FlexVol vol_cinder_b: ' % image_id)
        self.assertTrue(all(line.startswith(prefix) for line in lines),
                        lines)
        self.assertRegex(lines[-1], r'\d+% \([\d.]+ MiB of 8\.0 MiB\) at '
                                    r'[\d.]+ [KM]iB/s, \d+ s so far')

    def test_long_copy_offload_logs_progress(self):
        tool = self.sim.write_copyoffload_tool(self.work)
        drv = self.driver(netapp_copyoffload_tool_path=tool)
        image_id, digest = self.image(self.glance, seed=24)
        self.sim.add_fault(method='POST', path='/_sim/copyoffload',
                           throttle_bps=SIZE, count=1)
        samples = []
        with progress.observing(samples.append):
            volume, _result, outcome = self.clone(drv, self.glance,
                                                  image_id, POOL_B)
        self.assertEqual(Route.COPY_OFFLOAD, outcome.path)
        self.assert_volume_data(POOL_B, volume, digest)
        self.assertIn('Copy offload of Glance file images/%s' % image_id,
                      self.log.output)
        self.assertEqual({SIZE}, {s.total for s in samples})
        self.assertGreater(max(s.done or 0 for s in samples), 0)
