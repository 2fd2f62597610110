# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Benchmark the simulator's file clone and file copy (not a test).

Prints the median of ``--runs`` timings of:

* a REST file clone of a ``--size-mib`` file (random data, fsync'd) on a
  reflink data root (XFS loop file; root only) and on a plain directory;
* the REST file copy job (hole-aware physical copy) beside
  ``cp --reflink=never`` of the same file, on the plain directory.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

# Run as ``python benchmarks/bench_simulator.py``, sys.path[0] is
# benchmarks/: put the repository root first so the in-tree netapp_eic is
# imported without installing it (a sys.path call, allowed before imports).
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from netapp_eic_testing import dataroot
from netapp_eic.simulator import Simulator

MIB = 1024 * 1024


def write_random(path, size):
    """Write ``size`` random bytes and fsync them."""
    block = os.urandom(MIB)
    with open(path, 'wb') as f:
        f.writelines(block for _ in range(size // MIB))
        f.flush()
        os.fsync(f.fileno())


def _session(sim):
    s = requests.Session()
    s.auth = (sim.username, sim.password)
    s.verify = sim.ca_file
    s.trust_env = False
    return s


def bench_clone(sim, size, runs):
    """Median seconds of a REST clone (POST with return_timeout)."""
    vol = sim.backend.volume_by_name('vol_cinder_a')
    write_random(os.path.join(vol.path, 'src'), size)
    session, times = _session(sim), []
    for i in range(runs):
        start = time.perf_counter()
        r = session.post(
            sim.url + '/api/storage/file/clone?return_timeout=120',
            json={'volume': {'uuid': vol.uuid},
                  'source_path': 'src',
                  'destination_path': f'dst{i}'})
        times.append(time.perf_counter() - start)
        # A job done within return_timeout answers 200 with the job link.
        assert r.status_code == 200, r.text
        os.unlink(os.path.join(vol.path, f'dst{i}'))
    return statistics.median(times)


def bench_copy(sim, size, runs):
    """Median seconds of a REST copy job and of ``cp --reflink=never``."""
    src_vol = sim.backend.volume_by_name('vol_cinder_a')
    dst_vol = sim.backend.volume_by_name('vol_cinder_b')
    src = os.path.join(src_vol.path, 'copysrc')
    write_random(src, size)
    session, rest, cp = _session(sim), [], []
    for i in range(runs):
        start = time.perf_counter()
        r = session.post(sim.url + '/api/storage/file/copy?return_timeout=120',
                         json={'files_to_copy': [{
                             'source': {'volume': {'uuid': src_vol.uuid},
                                        'path': 'copysrc'},
                             'destination': {'volume': {'uuid': dst_vol.uuid},
                                             'path': f'c{i}'}}]})
        rest.append(time.perf_counter() - start)
        # A job done within return_timeout answers 200 with the job link.
        assert r.status_code == 200, r.text
        os.unlink(os.path.join(dst_vol.path, f'c{i}'))
        target = os.path.join(dst_vol.path, f'cp{i}')
        start = time.perf_counter()
        subprocess.run(['cp', '--reflink=never', src, target], check=True)
        cp.append(time.perf_counter() - start)
        os.unlink(target)
    return statistics.median(rest), statistics.median(cp)


def _reflink_clone(size, runs, tmp):
    why_not = dataroot.why_not_xfs()
    if why_not:
        return None, 'unavailable: %s' % why_not
    with dataroot.DataRoot(tmp, max(4 * size, 1024 * MIB)) as xfs, \
            Simulator(data_root=os.path.join(xfs.path, 'data')) as sim:
        return bench_clone(sim, size, runs), sim.clone_mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args(argv)
    size = args.size_mib * MIB
    tmp = tempfile.mkdtemp(prefix='bench-sim-', dir='/var/tmp')
    try:
        reflink, reflink_mode = _reflink_clone(size, args.runs, tmp)
        plain_root = os.path.join(tmp, 'plain')
        os.makedirs(plain_root)
        with Simulator(data_root=plain_root) as sim:
            plain = bench_clone(sim, size, args.runs)
            plain_mode = sim.clone_mode
            rest, cp = bench_copy(sim, size, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _report(args, reflink, reflink_mode, plain, plain_mode, rest, cp, size)
    return 0


def _report(args, reflink, reflink_mode, plain, plain_mode, rest, cp, size):
    print(f'file size {args.size_mib} MiB, median of {args.runs} runs')
    print(f"{'operation':<36} {'median s':>12} {'MiB/s':>12}")
    rows = [(f'REST clone, reflink root ({reflink_mode})', reflink),
            (f'REST clone, plain root ({plain_mode})', plain),
            ('REST file copy job', rest), ('cp --reflink=never', cp)]
    for name, secs in rows:
        if secs is None:
            print(f"{name:<36} {'n/a':>12} {'n/a':>12}")
        else:
            print(f'{name:<36} {secs:>12.4f} {size / MIB / secs:>12.1f}')
    if reflink:
        print('clone speed-up reflink vs copy: %.1fx' % (plain / reflink))
    print('REST copy time / cp time: %.2f' % (rest / cp))


if __name__ == '__main__':
    sys.exit(main())
