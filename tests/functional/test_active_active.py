# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Active/active: two cinder-volume processes with different host names,
each running the real driver, fire creates of one cold image at once
against the same simulator and FlexVols.

With a lock store they share (Redis through tooz, or a ``file://``
directory both use), exactly one File Copy is made; with Cinder's default
(a ``file://`` directory of each host) each host copies once, and the
no-replace publish still leaves one entry. Every volume's bytes are
checked, and nothing else may be left in the FlexVols.
"""

import datetime
import json
import os
import subprocess
import sys

import fixtures
import testtools

from netapp_eic.core import records
from netapp_eic.core import verifications
from netapp_eic_testing import fixtures as hf
from netapp_eic_testing import images
from netapp_eic_testing import redis as redis_mod
from netapp_eic_testing import stack as stack_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
POOL = stack_mod.DEFAULT_SHARES[0]
SIZE = 8 * 1024 * 1024
CREATES_PER_HOST = 25


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(repr(value))


class ActiveActiveTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.EnvironmentVariable('REQUESTS_CA_BUNDLE'))
        self.useFixture(fixtures.EnvironmentVariable('CURL_CA_BUNDLE'))
        self.stack = self.useFixture(hf.StackFixture()).stack
        self.sim = self.stack.sim
        self.work = self.useFixture(fixtures.TempDir()).path
        src = os.path.join(self.work, 'image.raw')
        images.make_image(src, 'raw', SIZE, seed=5)
        self.digest = images.raw_bytes_digest(src)
        glance = self.stack.image_service
        self.image_id = glance.add_image(src, 'raw')
        self.image_meta = glance.show(None, self.image_id)
        self.location = glance.get_location(None, self.image_id)

    def spec(self, n, backend_url, creates=CREATES_PER_HOST, **overrides):
        workdir = os.path.join(self.work, 'host%d' % n)
        os.makedirs(workdir)
        sim = self.sim
        spec = {
            'workdir': workdir, 'hostname': 'host%d' % n,
            'backend': stack_mod.BACKEND, 'backend_url': backend_url,
            'sim': {'host': sim.host, 'port': sim.port,
                    'username': sim.username, 'password': sim.password,
                    'ca_file': sim.ca_file, 'vserver': sim.vserver},
            'shares': sim.shares, 'pools': [POOL],
            'mount_point_base': self.stack.mount_point_base,
            'image_meta': self.image_meta, 'image_location': self.location,
            'creates': creates, 'overrides': overrides,
            'go_file': os.path.join(self.work, 'go'),
            'result_file': os.path.join(workdir, 'results.jsonl'),
        }
        path = os.path.join(workdir, 'spec.json')
        with open(path, 'w') as spec_file:
            json.dump(spec, spec_file, default=_json_default)
        return path, spec

    def start(self, spec_path):
        env = dict(os.environ, PYTHONPATH=ROOT,
                   OS_CINDER_DISABLE_EVENTLET_PATCHING='1')
        log = open(os.path.join(os.path.dirname(spec_path), 'log'), 'wb')
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [sys.executable, '-m', 'netapp_eic_testing.worker', spec_path],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log)
        self.addCleanup(_stop, process)
        return process

    def run_hosts(self, backend_urls):
        return self.run_specs([self.spec(n, url)
                               for n, url in enumerate(backend_urls)])

    def run_specs(self, specs):
        processes = [self.start(path) for path, _spec in specs]
        for process in processes:
            line = process.stdout.readline()
            self.assertEqual(b'ready\n', line, 'a worker did not start')
        open(os.path.join(self.work, 'go'), 'w').close()
        for process in processes:
            self.assertEqual(0, process.wait(300))
        results = []
        for _path, spec in specs:
            with open(spec['result_file']) as lines:
                results += [json.loads(line) for line in lines]
        return results

    def copies(self):
        return [r for r in self.sim.request_log()
                if r['method'] == 'POST' and
                r['path'] == '/api/storage/file/copy']

    def assert_volumes_and_nothing_else(self, results):
        self.assertEqual(2 * CREATES_PER_HOST, len(results))
        self.assertEqual([], [r for r in results if not r.get('cloned')])
        directory = self.stack.share_dir(POOL)
        for result in results:
            self.assertEqual(self.digest, images.raw_bytes_digest(
                os.path.join(directory, result['volume']), length=SIZE))
        volumes = {r['volume'] for r in results}
        others = sorted(n for n in set(os.listdir(directory)) - volumes
                        if verifications.image_of(n) != self.image_id)
        self.assertEqual(sorted([records.entry_name(self.image_id),
                                 records.record_name(self.image_id)]),
                         others)

    @testtools.skipIf(redis_mod.RedisServer.available(),
                      redis_mod.RedisServer.available())
    def test_redis_one_copy_across_hosts(self):
        with redis_mod.RedisServer(os.path.join(self.work, 'redis')) as rs:
            results = self.run_hosts([rs.url, rs.url])
        self.assertEqual(1, len(self.copies()))
        self.assert_volumes_and_nothing_else(results)

    def test_shared_file_lock_store_one_copy_across_hosts(self):
        shared = 'file://%s' % os.path.join(self.work, 'shared-locks')
        results = self.run_hosts([shared, shared])
        self.assertEqual(1, len(self.copies()))
        self.assert_volumes_and_nothing_else(results)

    def test_per_host_lock_stores_copy_once_per_host(self):
        """Documented, not desired: without a shared lock store each host
        builds the entry once; the second publisher loses and clones from
        the first one's entry, so one entry remains. The copy is held one
        second so that both hosts are copying before either publishes."""
        self.sim.add_fault(method='POST', path='/api/storage/file/copy',
                           delay=1.0)
        results = self.run_hosts([
            'file://%s' % os.path.join(self.work, 'locks-%d' % n)
            for n in range(2)])
        self.assertEqual(2, len(self.copies()))
        self.assert_volumes_and_nothing_else(results)


    def test_a_file_verified_on_one_host_is_not_hashed_on_another(self):
        """Two cinder-volume processes, one shared lock store, the cache
        off (so each create checks its source): the first host hashes the
        Glance file in the pool's FlexVol, the second clones it without
        reading it (the first's verification record)."""
        glance = self.stack.glance('vol_cinder_a', 'glance-images')
        src = os.path.join(self.work, 'image.raw')
        self.image_id = glance.add_image(src, 'raw')
        self.image_meta = glance.show(None, self.image_id)
        self.location = glance.get_location(None, self.image_id)
        shared = 'file://%s' % os.path.join(self.work, 'shared-locks')
        results = [self.run_specs([self.spec(
            n, shared, creates=1, netapp_eic_cache_enabled=False)])[0]
            for n in range(2)]
        self.assertEqual(['direct-clone'] * 2, [r['path'] for r in results])
        self.assertEqual([SIZE, 0], [r['host_bytes'] for r in results])
        self.assertEqual('host sha512 of the cloned file',
                         results[0]['verified'])
        self.assertRegex(results[1]['verified'],
                         r'^record of .* by .* \(host sha512\)$')


def _stop(process):
    """Stop a worker by its own PID if it is still running."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()
