# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Benchmark EIC's volume-from-image paths end to end (not a test).

Runs the real ``NetAppEicNfsDriver`` against the embedded ONTAP simulator
(:class:`netapp_eic_testing.stack.Stack`: an XFS reflink loop file when
run as root) and, for each ``--sizes-mib`` raw image (fully allocated),
prints the median of ``--runs`` timings (``time.perf_counter``) of:

* cold direct clone: the Glance file is in the pool FlexVol
  (``vol_cinder_a/glance-images``), no cache entry (the clone is
  constant-time: hashing it against Glance's record is most of the cost),
  and the same with ``netapp_eic_verify_image_content = False``;
* cold File Copy: the Glance file is in ``vol_glance/images``, the pool is
  ``127.0.0.1:/vol_cinder_a``, no cache entry; the copy is hashed against
  Glance's record after it lands (the Glance FlexVol is not mounted);
* the same with ``netapp_eic_verify_image_content = False`` (no hashing:
  the cost of verification is the difference);
* the same with the Glance FlexVol also mounted by the backend, so the
  source is hashed through its mount while ONTAP copies;
* warm cache clone: the pool's cache entry is present;
* download: the image has only an http location, so ``clone_image``
  declines and, as Cinder's create flow does, ``create_volume`` then
  ``copy_image_to_volume`` (Glance download, conversion, cache register);

beside the simulator's bare REST FileClone and FileCopy of the same image
file, through ``OntapClient`` on an explicit ``HostConnection``. Each driver
create is ``clone_image`` (plus the download flow when it declines); before
every cold and download run the pool's cache entry, its record and the
volume file are removed through the driver's mount, and the path taken
(the outcome the driver reports to its observers) is checked.

    python benchmarks/bench_eic.py [--runs N] [--sizes-mib 64,1024]
"""

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings

from netapp_ontap import host_connection
from oslo_utils import units

# Run as ``python benchmarks/bench_eic.py``, sys.path[0] is benchmarks/: put
# the repository root first so the harness (not installed) is importable.
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from netapp_eic.core import cache as eic_cache
from netapp_eic import ontap as eic_client
from netapp_eic.core.types import Route
from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import images
from netapp_eic_testing import outcomes as outcomes_mod
from netapp_eic_testing import stack as stack_mod

POOL = stack_mod.DEFAULT_SHARES[0]  # 127.0.0.1:/vol_cinder_a
MIB = units.Mi

COLD_CLONE = 'cold direct clone'
COLD_CLONE_NOVERIFY = 'cold direct clone, verify off'
COLD_COPY = 'cold File Copy'
COLD_COPY_NOVERIFY = 'cold File Copy, verify off'
COLD_COPY_MOUNTED = 'cold File Copy, Glance mounted'
WARM = 'warm cache clone'
DOWNLOAD = 'download (create + copy_image)'
BARE_CLONE = 'bare REST FileClone'
BARE_COPY = 'bare REST FileCopy'


class BenchError(Exception):
    """A path other than the expected one ran, or a setup step failed."""


class Bench:
    def __init__(self, stack, workdir, cinder):
        self.stack = stack
        self.workdir = workdir
        self.conf, context, self.objects = cinder
        self.ctx = context.get_admin_context()
        from netapp_eic.driver import NetAppEicNfsDriver
        self.driver = stack.driver(NetAppEicNfsDriver)
        # Each variant is its own backend section: values loaded into one
        # section would carry over to the next driver built from it.
        self.unverified = stack.driver(
            NetAppEicNfsDriver, backend='bench-verify-off',
            netapp_eic_verify_image_content=False)
        self.glance_mounted = stack.driver(
            NetAppEicNfsDriver, backend='bench-glance-mounted',
            shares=stack_mod.DEFAULT_SHARES + (
                stack.share_of('vol_glance'),))
        self.mount = self.driver._get_mount_point_for_share(POOL)
        self.glance_in_pool = stack.glance('vol_cinder_a', 'glance-images')
        self.glance = stack.glance('vol_glance', 'images')
        sim = stack.sim
        self.connection = host_connection.HostConnection(
            sim.host, sim.username, sim.password, verify=sim.ca_file,
            port=sim.port)
        self.client = eic_client.OntapClient(self.connection)
        self.dest = self.client.resolve('127.0.0.1', '/vol_cinder_a/x')
        cfg = self.driver.configuration
        self.copy_args = (cfg.netapp_eic_file_copy_return_timeout,
                          cfg.netapp_eic_file_copy_timeout,
                          cfg.netapp_eic_poll_initial_interval,
                          cfg.netapp_eic_poll_max_interval)

    # ------------------------------------------------------------ helpers
    def volume(self, size_gib):
        volume = self.objects.Volume(
            context=self.ctx, size=size_gib,
            host=cinder_mod.pool_host(POOL, stack_mod.BACKEND),
            provider_location=None, status='creating', display_name='bench')
        volume.create()
        return volume

    def _unlink(self, name):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.mount, name))

    def make_cold(self, image_id, volume=None):
        """Remove the pool's cache entry, its record and the volume."""
        self._unlink(eic_cache.entry_name(image_id))
        self._unlink(eic_cache.record_name(image_id))
        if volume is not None:
            self._unlink(volume.name)

    def has_entry(self, image_id):
        return os.path.exists(
            os.path.join(self.mount, eic_cache.entry_name(image_id)))

    # ------------------------------------------------------------ creates
    def create(self, service, image_id, size_gib, expected, driver=None,
               hashed=None):
        """One volume create as Cinder's flow does it; returns seconds.

        ``hashed`` True (False) requires that the create did (did not)
        read the image through this host to check it against Glance.
        """
        driver = driver or self.driver
        volume = self.volume(size_gib)
        meta = service.show(self.ctx, image_id)
        location = service.get_location(self.ctx, image_id)
        outcomes_mod.recorder(driver)
        try:
            start = time.perf_counter()
            model, cloned = driver.clone_image(
                self.ctx, volume, location, meta, service)
            if cloned:
                volume.provider_location = model['provider_location']
            else:
                volume.provider_location = driver.create_volume(
                    volume)['provider_location']
                driver.copy_image_to_volume(self.ctx, volume, service,
                                            image_id)
            seconds = time.perf_counter() - start
            self._check(driver, volume, expected, cloned, hashed)
        finally:
            self._unlink(volume.name)
            volume.destroy()
        return seconds

    def _check(self, driver, volume, expected, cloned, hashed=None):
        outcome = outcomes_mod.recorder(driver).get(volume.id)
        if outcome is None or outcome.path != expected:
            why = outcome and ('; '.join(
                list(outcome.skipped) +
                ['%s failed: %s' % f for f in outcome.failures]) or
                outcome.note)
            raise BenchError('expected path %s, driver took %s (%s)' % (
                expected, outcome and outcome.path, why))
        if cloned != (expected != Route.DOWNLOAD):
            raise BenchError('clone_image returned cloned=%s for path %s'
                             % (cloned, expected))
        if hashed is not None and hashed != (outcome.host_bytes > 0):
            raise BenchError('expected the create %s hash the image, it '
                             'read %d bytes through the host' % (
                                 'to' if hashed else 'not to',
                                 outcome.host_bytes))
        path = os.path.join(self.mount, volume.name)
        if os.path.getsize(path) != volume.size * units.Gi:
            raise BenchError('volume file %s has %d bytes, not %d GiB' % (
                path, os.path.getsize(path), volume.size))

    def cold(self, service, image_id, size_gib, expected, runs,
             driver=None, hashed=True):
        times = []
        for _ in range(runs):
            self.make_cold(image_id)
            times.append(self.create(service, image_id, size_gib, expected,
                                     driver, hashed))
        self.make_cold(image_id)
        return times

    def warm(self, service, image_id, size_gib, runs):
        self.make_cold(image_id)
        self.create(service, image_id, size_gib, Route.FILE_COPY)
        if not self.has_entry(image_id):
            raise BenchError('no cache entry after a File Copy create')
        try:
            return [self.create(service, image_id, size_gib,
                                Route.CACHE_CLONE, hashed=False)
                    for _ in range(runs)]
        finally:
            self.make_cold(image_id)

    def download(self, image_id, size_gib, runs):
        times = []
        try:
            for _ in range(runs):
                self.make_cold(image_id)
                times.append(self.create(self.glance, image_id, size_gib,
                                         Route.DOWNLOAD))
                if not self.has_entry(image_id):
                    raise BenchError('the download did not register the '
                                     'image in the pool cache')
        finally:
            self.make_cold(image_id)
        return times

    # ------------------------------------------------------------ bare ONTAP
    def bare_clone(self, image_id, runs):
        src = 'glance-images/%s' % image_id
        times = []
        for i in range(runs):
            dst = 'bench-bare-clone-%d' % i
            try:
                start = time.perf_counter()
                self.client.clone_file(self.dest.flexvol, src, dst)
                times.append(time.perf_counter() - start)
            finally:
                self._unlink(dst)
        return times

    def bare_copy(self, image_id, runs):
        src = self.client.resolve('127.0.0.1',
                                  '/vol_glance/images/%s' % image_id)
        return_timeout, timeout, first, largest = self.copy_args
        times = []
        for i in range(runs):
            dst = eic_client.ResolvedPath(self.dest.flexvol,
                                          'bench-bare-copy-%d' % i)
            try:
                start = time.perf_counter()
                job = self.client.start_copy(src, dst, return_timeout)
                if job is not None:
                    self.client.wait_job(job, timeout, first, largest)
                times.append(time.perf_counter() - start)
            finally:
                self._unlink(dst.path)
        return times

    # ------------------------------------------------------------ one size
    def run_size(self, size_mib, runs):
        size = size_mib * MIB
        size_gib = max(1, -(-size // units.Gi))
        src = os.path.join(self.workdir, 'src-%d.raw' % size_mib)
        images.make_image(src, 'raw', size, seed=size_mib, sparse=False)
        added = []
        try:
            in_pool = self.glance_in_pool.add_image(src, 'raw')
            added.append((self.glance_in_pool, in_pool))
            remote = self.glance.add_image(src, 'raw')
            added.append((self.glance, remote))
            http = self.glance.add_image(src, 'raw')
            added.append((self.glance, http))
        finally:
            os.unlink(src)
        self.glance.set_locations(http, None, [
            {'url': 'http://glance.example.com/v2/images/%s' % http,
             'metadata': {}}])
        try:
            medians = {
                BARE_CLONE: self.bare_clone(in_pool, runs),
                BARE_COPY: self.bare_copy(remote, runs),
                COLD_CLONE: self.cold(self.glance_in_pool, in_pool, size_gib,
                                      Route.DIRECT_CLONE, runs),
                COLD_CLONE_NOVERIFY: self.cold(
                    self.glance_in_pool, in_pool, size_gib,
                    Route.DIRECT_CLONE, runs, self.unverified, False),
                COLD_COPY: self.cold(self.glance, remote, size_gib,
                                     Route.FILE_COPY, runs),
                COLD_COPY_NOVERIFY: self.cold(self.glance, remote, size_gib,
                                              Route.FILE_COPY, runs,
                                              self.unverified, False),
                COLD_COPY_MOUNTED: self.cold(self.glance, remote, size_gib,
                                             Route.FILE_COPY, runs,
                                             self.glance_mounted),
                WARM: self.warm(self.glance, remote, size_gib, runs),
                DOWNLOAD: self.download(http, size_gib, runs),
            }
        finally:
            for service, image_id in added:
                self.make_cold(image_id)
                with contextlib.suppress(Exception):
                    service.delete(self.ctx, image_id)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(service.image_path(image_id))
        return {k: statistics.median(v) for k, v in medians.items()}


BARE_OF = {COLD_CLONE: BARE_CLONE, COLD_CLONE_NOVERIFY: BARE_CLONE,
           WARM: BARE_CLONE, COLD_COPY: BARE_COPY,
           COLD_COPY_NOVERIFY: BARE_COPY, COLD_COPY_MOUNTED: BARE_COPY,
           DOWNLOAD: BARE_COPY}


def report(size_mib, runs, medians):
    print('\nraw image %d MiB (fully allocated), median of %d runs'
          % (size_mib, runs))
    fmt = '%-32s %10s %12s %22s'
    print(fmt % ('path', 'median s', 'vs download', 'vs bare ONTAP op'))
    download = medians[DOWNLOAD]
    for name in (COLD_CLONE, COLD_CLONE_NOVERIFY, COLD_COPY,
                 COLD_COPY_NOVERIFY, COLD_COPY_MOUNTED, WARM, DOWNLOAD,
                 BARE_CLONE, BARE_COPY):
        secs = medians[name]
        bare = BARE_OF.get(name)
        vs_bare = ('%.2fx %s' % (secs / medians[bare],
                                 'FileClone' if bare == BARE_CLONE
                                 else 'FileCopy') if bare else '-')
        print(fmt % (name, '%.4f' % secs, '%.3fx' % (secs / download),
                     vs_bare))


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(',') if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            'comma-separated MiB sizes') from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError('sizes must be positive')
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=None,
                        help='runs per path (default 5 up to 64 MiB, '
                             '3 above)')
    parser.add_argument('--sizes-mib', type=_sizes, default=[64, 1024],
                        help='comma-separated raw image sizes in MiB '
                             '(default 64,1024)')
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error('--runs must be at least 1')
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='bench-eic-',
                                     dir='/var/tmp') as workdir:
        for sub in ('conversion', 'locks', 'stack'):
            os.makedirs(os.path.join(workdir, sub))
        # Errors only: the per-create INFO lines and the dependencies'
        # deprecation chatter are not the output here.
        warnings.filterwarnings('ignore')
        cinder = cinder_mod.setup_cinder_process(workdir)
        logging.getLogger().setLevel(logging.ERROR)
        conf = cinder[0]
        try:
            with stack_mod.Stack(base_dir=os.path.join(workdir, 'stack'),
                                 size_bytes=16 * units.Gi) as stack:
                print('netapp-eic benchmark: %s' % stack.describe())
                bench = Bench(stack, workdir, cinder)
                for size_mib in args.sizes_mib:
                    runs = args.runs or (5 if size_mib <= 64 else 3)
                    report(size_mib, runs, bench.run_size(size_mib, runs))
        except BenchError as e:
            print('ABORTED: %s' % e, file=sys.stderr)
            return 1
        finally:
            conf.clear_override('image_conversion_dir')
    print('\ntotal %.1f s' % (time.perf_counter() - total))
    return 0


if __name__ == '__main__':
    sys.exit(main())
