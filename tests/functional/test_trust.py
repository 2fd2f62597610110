# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Attacks and faults through the real driver (Cinder's NetApp parent,
netapp_ontap, the simulator over HTTPS, real files and qemu-img).

Each test plants something hostile or breaks something, calls
``clone_image`` as Cinder does, and checks what the volume holds (or that
there is none), what the hostile file pointed at still holds, and every
file left in every FlexVol.
"""

import logging
import os
import stat
import subprocess
import time

import fixtures
from cinder.volume import volume_utils
from netapp_eic.core.types import Route
from netapp_eic_testing import images
from netapp_eic_testing import outcomes as outcomes_mod
from tests.functional.test_driver import POOL_A, POOL_B, SIZE, EicTestCase

SECRET = b'host secret, never in a volume\n' * 512
TENANT = b'another tenant\'s data\n' * 512


class TrustTestCase(EicTestCase):

    def setUp(self):
        super().setUp()
        self.secret = os.path.join(self.work, 'host-secret')
        with open(self.secret, 'wb') as f:
            f.write(SECRET)

    def tree(self):
        """Every file and link under every FlexVol, without following."""
        out = set()
        for share, directory in self.sim.shares.items():
            for dirpath, dirnames, filenames in os.walk(directory):
                for name in filenames + [d for d in dirnames if os.path.islink(
                        os.path.join(dirpath, d))]:
                    out.add('%s:%s' % (share, os.path.relpath(
                        os.path.join(dirpath, name), directory)))
        return out

    def read(self, path):
        with open(path, 'rb') as f:
            return f.read()

    def assert_declined(self, result, outcome, before, fragment):
        self.assertEqual((None, False), result)
        self.assertEqual(Route.DOWNLOAD, outcome.path)
        text = ' '.join(outcome.skipped + tuple(
            r for _p, r in outcome.failures))
        self.assertIn(fragment, text)
        self.assertEqual(set(), self.tree() - before)

    def link(self, service, image_id, target):
        path = service.image_path(image_id)
        os.unlink(path)
        os.symlink(target, path)


class LinkAttackTestCase(TrustTestCase):

    def test_driver_declines_direct_clone_of_link_to_host_file(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool)
        self.link(self.glance_in_pool, image_id, self.secret)
        before = self.tree()
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assert_declined(result, outcome, before, 'symlink')
        self.assertEqual(SECRET, self.read(self.secret))
        self.assertEqual([], self.posts('/storage/file/clone'))

    def test_driver_declines_file_copy_of_link_to_tenant_volume(self):
        drv = self.driver()
        tenant = self.local(POOL_B, 'volume-0tenant')
        with open(tenant, 'wb') as f:
            f.write(TENANT)
        image_id, _ = self.image(self.glance)
        self.link(self.glance, image_id, '../../vol_cinder_b/volume-0tenant')
        before = self.tree()
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assert_declined(result, outcome, before, 'symlink')
        self.assertEqual(TENANT, self.read(tenant))
        self.assertEqual([], self.posts('/storage/file/copy'))

    def test_cache_entry_link_is_never_served(self):
        drv = self.driver()
        tenant = self.local(POOL_A, 'volume-0tenant')
        with open(tenant, 'wb') as f:
            f.write(TENANT)
        image_id, digest = self.image(self.glance)
        os.symlink('volume-0tenant', self.entry_path(POOL_A, image_id))
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assertTrue(result[1])
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assert_volume_data(POOL_A, volume, digest)
        entry = self.entry_path(POOL_A, image_id)
        self.assertFalse(os.path.islink(entry))
        self.assertEqual(TENANT, self.read(tenant))
        self.assert_no_leftovers()

    def test_driver_declines_volume_name_existing_as_link_is_not_written(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool)
        volume = self.volume(POOL_A)
        os.symlink(self.secret, self.local(POOL_A, volume.name))
        before = self.tree()
        outcomes = outcomes_mod.recorder(drv)
        result = drv.clone_image(
            self.ctx, volume,
            self.glance_in_pool.get_location(self.ctx, image_id),
            self.glance_in_pool.show(self.ctx, image_id), self.glance_in_pool)
        self.assert_declined(result, outcomes.of(volume.id), before,
                             'already exists and is a symbolic link')
        self.assertEqual(SECRET, self.read(self.secret))
        self.assertTrue(os.path.islink(self.local(POOL_A, volume.name)))


class ContentTestCase(TrustTestCase):

    def test_flipped_byte_is_refused_on_every_path(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        self.glance.corrupt_stored_file(image_id, offset=SIZE // 3)
        before = self.tree()
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assert_declined(result, outcome, before, 'does not match Glance')
        self.assertFalse(os.path.exists(self.entry_path(POOL_A, image_id)))

    def test_glance_share_mounted_hashes_during_the_copy(self):
        glance_share = '127.0.0.1:/vol_glance'
        drv = self.driver(netapp_eic_image_shares=glance_share)
        self.assertIn(glance_share, drv._eic.pools.host.mounted_shares())
        image_id, digest = self.image(self.glance, seed=51)
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assertEqual('host sha512 of the Glance file, during the copy',
                         outcome.verified)
        self.assert_volume_data(POOL_B, volume, digest)
        flipped, _ = self.image(self.glance, seed=52)
        self.glance.corrupt_stored_file(flipped, offset=100)
        volume, result, outcome = self.clone(drv, self.glance, flipped,
                                             POOL_B)
        self.assertEqual(Route.DOWNLOAD, outcome.path)
        self.assertIn('sha512', ' '.join(f for _p, f in outcome.failures))
        self.assert_no_leftovers()

    def test_verification_option_off_serves_flipped_bytes(self):
        """The documented unsafe opt-out reaches the core."""
        drv = self.driver(netapp_eic_verify_image_content=False)
        image_id, digest = self.image(self.glance_in_pool)
        self.glance_in_pool.corrupt_stored_file(image_id)
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertTrue(result[1])
        path = self.local(POOL_A, volume.name)
        self.assertNotEqual(digest, images.raw_bytes_digest(path, 'raw',
                                                            length=SIZE))

    def test_petabyte_qcow2_refused_before_any_copy_or_conversion(self):
        drv = self.driver()
        path = os.path.join(self.work, 'pib.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '1P'],
                       check=True, capture_output=True)
        image_id = self.glance_in_pool.add_image(path, 'qcow2')
        before = self.tree()
        start = time.monotonic()
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertLess(time.monotonic() - start, 20)
        self.assert_declined(result, outcome, before, 'exceeds the')
        self.assertEqual([], self.posts('/storage/file/clone'))
        self.assertEqual(0, outcome.host_bytes)

    def test_maximum_virtual_size_option(self):
        drv = self.driver(netapp_eic_max_image_virtual_size_gb=1)
        path = os.path.join(self.work, 'big.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '2G'],
                       check=True, capture_output=True)
        image_id = self.glance.add_image(path, 'qcow2')
        before = self.tree()
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             size=4)
        self.assert_declined(result, outcome, before, 'exceeds the 1 GiB '
                             'maximum')


class FaultTestCase(TrustTestCase):

    def hanging_tool(self):
        pids = os.path.join(self.work, 'tool-pids')
        tool = os.path.join(self.work, 'hanging-tool')
        with open(tool, 'w') as f:
            f.write("#!/bin/sh\ntrap '' TERM\nsleep 300 &\n"
                    "echo $$ $! > %s\nwait\n" % pids)
        os.chmod(tool, os.stat(tool).st_mode | stat.S_IXUSR)
        return tool, pids

    def test_hanging_copy_offload_tool_is_killed(self):
        from tests.unit.test_process import live_members
        tool, pids = self.hanging_tool()
        drv = self.driver(netapp_copyoffload_tool_path=tool,
                          netapp_eic_copyoffload_timeout=1)
        image_id, digest = self.image(self.glance)
        volume, result, outcome = self.clone(drv, self.glance, image_id,
                                             POOL_B)
        self.assertEqual(Route.FILE_COPY, outcome.path)
        self.assertEqual('copy-offload', outcome.failures[0][0])
        self.assertIn('did not finish within 1', outcome.failures[0][1])
        self.assert_volume_data(POOL_B, volume, digest)
        with open(pids) as f:
            leader, helper = (int(p) for p in f.read().split())
        self.assertEqual([], live_members(leader))
        self.assert_no_leftovers()

    def test_delete_failing_during_a_failed_copy(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance)
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           fail_after_percent=50)
        self.sim.add_fault(method='DELETE', path='/api/storage/volumes/*',
                           status=500)
        before = self.tree()
        volume, result, outcome = self.clone(drv, self.glance, image_id)
        self.assert_declined(result, outcome, before, 'Injected failure')

    def test_authentication_failure_is_an_error(self):
        drv = self.driver()
        image_id, _ = self.image(self.glance_in_pool)
        log = self.useFixture(fixtures.FakeLogger(name='netapp_eic',
                                                  level=logging.INFO))
        self.sim.add_fault(method='POST', path='/api/storage/file/clone',
                           status=401, message='User is not authorized')
        volume, result, outcome = self.clone(drv, self.glance_in_pool,
                                             image_id)
        self.assertEqual((None, False), result)
        errors = [line for line in log.output.splitlines()
                  if 'authentication failure' in line]
        self.assertEqual(1, len(errors), log.output)
        self.assertIn('User is not authorized', errors[0])
        self.assertNotIn(self.sim.password, log.output)


class ClientOptionsTestCase(TrustTestCase):

    def test_certificate_options_reach_the_eic_client(self):
        cert = os.path.join(self.work, 'client.pem')
        key = os.path.join(self.work, 'client.key')
        drv = self.driver(setup=False, netapp_certificate_file=cert,
                          netapp_private_key_file=key,
                          netapp_ca_certificate_file=self.sim.ca_file)
        conn = drv._make_ontap_client().connection
        self.assertEqual((cert, key), conn.cert_auth)
        self.assertIsNone(conn.basic_auth)
        self.assertEqual(self.sim.ca_file, conn.verify)

    def test_api_trace_follows_trace_flags_and_pattern(self):
        drv = self.driver(netapp_api_trace_pattern='^/storage/file/')
        image_id, _ = self.image(self.glance_in_pool)
        log = self.useFixture(fixtures.FakeLogger(
            name='netapp_eic.ontap.trace', level=logging.DEBUG))
        self.addCleanup(volume_utils.setup_tracing, [])
        volume_utils.setup_tracing(['api'])
        self.clone(drv, self.glance_in_pool, image_id)
        lines = log.output.splitlines()
        self.assertEqual(2, len(lines), log.output)  # two file clones
        for line in lines:
            self.assertIn('ONTAP API POST /storage/file/clone', line)
        self.assertNotIn(self.sim.password, log.output)
