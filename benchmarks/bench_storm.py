# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Boot storm: N parallel creates of one cold image on one pool (not a
test).

Each run removes the pool's cache entry, then releases N threads at once,
each calling the real driver's ``clone_image`` for its own volume; one of
them copies the image from the Glance FlexVol (File Copy) and publishes the
entry, the others wait for it and clone from it in parallel. The wall time
of the storm is printed against the reference measured in the same run:
one bare REST File Copy plus one bare REST file clone. The simulator's
request log must show exactly one File Copy per storm, and every volume's
size is checked.

    python benchmarks/bench_storm.py [--creates 20] [--size-mib 256]
        [--runs 3] [--throttle-mibps 0]
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings

from oslo_utils import units

# Run as ``python benchmarks/bench_storm.py``: bench_eic is next to it, the
# repository root (harness) is put first on the path by bench_eic.
import bench_eic  # noqa: E402  (sys.path[0] is benchmarks/)

from netapp_eic_testing import cinder as cinder_mod  # noqa: E402
from netapp_eic_testing import images  # noqa: E402
from netapp_eic_testing import stack as stack_mod  # noqa: E402


def storm(bench, image_id, creates):
    """One storm; returns (wall seconds, File Copy POSTs)."""
    bench.make_cold(image_id)
    sim = bench.stack.sim
    before = _copies(sim)
    volumes = [bench.volume(1) for _ in range(creates)]
    meta = bench.glance.show(bench.ctx, image_id)
    location = bench.glance.get_location(bench.ctx, image_id)
    gate = threading.Barrier(creates + 1)
    failures = []

    def create(volume):
        gate.wait()
        _model, cloned = bench.driver.clone_image(bench.ctx, volume,
                                                  location, meta, None)
        if not cloned:
            failures.append(volume.name)
    threads = [threading.Thread(target=create, args=(v,)) for v in volumes]
    for thread in threads:
        thread.start()
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    for volume in volumes:
        path = os.path.join(bench.mount, volume.name)
        if failures or os.path.getsize(path) != units.Gi:
            raise bench_eic.BenchError('storm create failed: %s' % failures)
        bench._unlink(volume.name)
        volume.destroy()
    return seconds, _copies(sim) - before


def _copies(sim):
    return len([r for r in sim.request_log() if r['method'] == 'POST' and
                r['path'] == '/api/storage/file/copy'])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--creates', type=int, default=20)
    parser.add_argument('--size-mib', type=int, default=256)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--throttle-mibps', type=int, default=0,
                        help='cap the simulator\'s copies (an array\'s '
                             'bandwidth); 0 = as fast as the disk')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    with tempfile.TemporaryDirectory(prefix='bench-storm-',
                                     dir='/var/tmp') as workdir:
        for sub in ('conversion', 'locks', 'stack'):
            os.makedirs(os.path.join(workdir, sub))
        cinder = cinder_mod.setup_cinder_process(workdir)
        logging.getLogger().setLevel(logging.ERROR)
        with stack_mod.Stack(base_dir=os.path.join(workdir, 'stack'),
                             size_bytes=16 * units.Gi) as stack:
            if args.throttle_mibps:
                stack.sim.add_fault(method='POST',
                                    path='/api/storage/file/copy',
                                    throttle_bps=args.throttle_mibps *
                                    units.Mi)
            bench = bench_eic.Bench(stack, workdir, cinder)
            src = os.path.join(workdir, 'src.raw')
            images.make_image(src, 'raw', args.size_mib * units.Mi, seed=3,
                              sparse=False)
            image_id = bench.glance.add_image(src, 'raw')
            in_pool = bench.glance_in_pool.add_image(src, 'raw')
            os.unlink(src)
            walls, copies, references = [], [], []
            for _ in range(args.runs):
                wall, made = storm(bench, image_id, args.creates)
                walls.append(wall)
                copies.append(made)
                references.append(bench.bare_copy(image_id, 1)[0] +
                                  bench.bare_clone(in_pool, 1)[0])
            print('netapp-eic boot storm: %s' % stack.describe())
            print('%d parallel creates, raw image %d MiB, copies %s, %d '
                  'runs' % (args.creates, args.size_mib,
                            '%d MiB/s' % args.throttle_mibps
                            if args.throttle_mibps else 'unthrottled',
                            args.runs))
            wall, ref = statistics.median(walls), statistics.median(
                references)
            print('storm wall time      median %.3f s (min %.3f, max %.3f)'
                  % (wall, min(walls), max(walls)))
            print('bare copy + clone    median %.3f s' % ref)
            print('storm - reference    %+.3f s (%.2fx)' % (wall - ref,
                                                            wall / ref))
            print('File Copies per storm: %s' % copies)
            if set(copies) != {1}:
                print('FAILED: expected exactly one File Copy per storm',
                      file=sys.stderr)
                return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

