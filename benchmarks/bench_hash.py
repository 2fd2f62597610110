# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Host hashing of a sparse image file against hashlib (not a test).

Makes, in a temporary directory below ``--dir`` (default: the system's
temporary directory), a file of ``--size-gib`` GiB holding ``--data-gib``
GiB of random data in ``--extents`` extents spread over it, holes
elsewhere (one at the start and one at the end included). Then runs
``--runs`` interleaved repetitions of:

* (a) hashlib: sha512 of the same data in memory, in 8 MiB updates: the
  CPU's hash speed, the reference;
* (b) ``verify.Hashing(...).check()`` of the file (the expected digest is
  computed once, first): the data read ahead on a reader thread, the holes
  hashed as zeros without being read;
* (c) the old way: the whole file read (holes included) and hashed in
  4 MiB steps, one after the other;
* (z) hashlib: sha512 of as many zeros as there is data, in 8 MiB
  updates (what a hole costs: SHA-2 hashes zeros no faster than data).

Printed: the median seconds of each, their rates in data bytes and in file
bytes, the ratio of (b) to (a) in data bytes (the issue's target, 90 %)
and in file bytes, and the bytes (b) read. The page cache is not dropped
unless ``--cold`` (``POSIX_FADV_DONTNEED`` before each run of (b) and (c)):
the file was just written, so the runs are warm-cache; the cached share of
the file is printed when ``fincore`` is there. Exits 1 only when a digest
is wrong.

    python benchmarks/bench_hash.py [--dir /tmp] [--size-gib 4]
        [--data-gib 1] [--extents 4] [--runs 5] [--cold]
"""

import argparse
import hashlib
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

# Run as ``python benchmarks/bench_hash.py``, sys.path[0] is benchmarks/:
# put the repository root first so the in-tree netapp_eic is imported
# without installing it (a sys.path call, allowed before imports).
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# netapp_eic.exception imports Cinder, which imports eventlet (and its
# deprecation warning) without patching anything: the threads are native.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from netapp_eic import exception  # noqa: E402
from netapp_eic.core import verify  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
STEP = 8 * MIB
OLD_CHUNK = 4 * MIB
TARGET = 0.90


class DigestError(Exception):
    """A hash of the file is not the one expected."""


def layout(size, data, extents):
    """``[(offset, length)]`` of ``extents`` data extents of ``data``
    bytes in all, each in the middle of its share of ``size`` (MiB
    aligned)."""
    share, length = size // extents, data // extents
    return [((i * share + (share - length) // 2) // MIB * MIB, length)
            for i in range(extents)]


def make_file(path, size, extents):
    """The sparse file; its data, one bytes object per extent."""
    chunks = []
    with open(path, 'wb') as f:
        f.truncate(size)
        for offset, length in extents:
            chunk = os.urandom(length)
            f.seek(offset)
            f.write(chunk)
            chunks.append(chunk)
        f.flush()
        os.fsync(f.fileno())
    return chunks


def file_digest(size, extents, chunks):
    """sha512 of the file's bytes, from its data in memory."""
    h, zeros, at = hashlib.sha512(), memoryview(bytes(STEP)), 0
    for (offset, length), chunk in zip(extents, chunks, strict=True):
        _update_zeros(h, zeros, offset - at)
        _update(h, chunk)
        at = offset + length
    _update_zeros(h, zeros, size - at)
    return h.hexdigest()


def _update(h, data):
    view = memoryview(data)
    for i in range(0, len(view), STEP):
        h.update(view[i:i + STEP])


def _update_zeros(h, zeros, length):
    while length > 0:
        n = min(length, len(zeros))
        h.update(zeros[:n])
        length -= n


def run_hashlib(chunks):
    """(a) seconds of sha512 of the data in memory."""
    start = time.perf_counter()
    h = hashlib.sha512()
    for chunk in chunks:
        _update(h, chunk)
    h.hexdigest()
    return time.perf_counter() - start


def run_zeros(length):
    """(z) seconds of sha512 of ``length`` zeros."""
    zeros = memoryview(bytes(STEP))
    start = time.perf_counter()
    h = hashlib.sha512()
    _update_zeros(h, zeros, length)
    h.hexdigest()
    return time.perf_counter() - start


def run_hashing(path, root, want):
    """(b) seconds of ``Hashing.check()``, and its bytes read."""
    start = time.perf_counter()
    hashing = verify.Hashing(path, root, want, 'bench-hash')
    try:
        hashing.check()
    except exception.ContentMismatch as e:
        raise DigestError(str(e)) from e
    return time.perf_counter() - start, hashing.bytes_read


def run_old(path, want):
    """(c) seconds of reading the whole file, then hashing each read."""
    start = time.perf_counter()
    h = hashlib.sha512()
    buf = memoryview(bytearray(OLD_CHUNK))
    with open(path, 'rb', buffering=0) as f:
        while n := f.readinto(buf):
            h.update(buf[:n])
    if h.hexdigest() != want.value:
        raise DigestError('the old way hashed %s to %s' % (path,
                                                          h.hexdigest()))
    return time.perf_counter() - start


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached(path):
    """Bytes of ``path`` in the page cache, or None (no ``fincore``)."""
    if not shutil.which('fincore'):
        return None
    out = subprocess.run(['fincore', '-b', '-n', '-o', 'RES', path],
                         capture_output=True, text=True, check=False)
    return int(out.stdout.split()[0]) if out.returncode == 0 else None


def fs_type(path):
    """The type of the file system holding ``path``, from /proc/mounts."""
    best, kind = '', '?'
    path = os.path.realpath(path)
    try:
        with open('/proc/mounts') as f:
            for line in f:
                mount, fstype = line.split()[1:3]
                if (path == mount or path.startswith(mount.rstrip('/') + '/')
                        ) and len(mount) >= len(best):
                    best, kind = mount, fstype
    except OSError:
        pass
    return kind


def measure(args, path, root, want, chunks):
    """The interleaved runs: {name: [seconds]}, and the bytes read."""
    times = {'a': [], 'b': [], 'c': [], 'z': []}
    bytes_read = set()
    for _ in range(args.runs):
        times['a'].append(run_hashlib(chunks))
        if args.cold:
            drop_cache(path)
        seconds, read = run_hashing(path, root, want)
        times['b'].append(seconds)
        bytes_read.add(read)
        times['z'].append(run_zeros(args.data))
        if args.cold:
            drop_cache(path)
        times['c'].append(run_old(path, want))
    return times, bytes_read


def report(args, times, bytes_read, cached_bytes):
    size, data = args.size, args.data
    med = {k: statistics.median(v) for k, v in times.items()}
    print('host hashing: %.2f GiB file, %.2f GiB data in %d extents, '
          'sha512, %d runs, %s on %s, %d CPUs, %s' % (
              size / GIB, data / GIB, args.extents, args.runs,
              'cold (POSIX_FADV_DONTNEED)' if args.cold else 'warm cache',
              fs_type(args.dir), os.cpu_count(), ssl.OPENSSL_VERSION))
    if cached_bytes is not None:
        print('page cache before the runs: %.2f GiB of the file%s' % (
            cached_bytes / GIB, ' (dropped before each file run)'
            if args.cold else ''))

    def line(name, seconds, counted):
        print('%-44s median %7.3f s (min %.3f, max %.3f)  %5.2f GB/s data'
              '%s' % (name, seconds[0], seconds[1], seconds[2],
                      data / seconds[0] / 1e9, counted))
    for key, name, file_bytes in (
            ('a', '(a) hashlib sha512, data in memory', False),
            ('b', '(b) Hashing.check() of the file', True),
            ('c', '(c) read all, then hash (old)', True),
            ('z', '(z) hashlib sha512 of as many zeros', False)):
        v = times[key]
        line(name, (med[key], min(v), max(v)),
             ',  %5.2f GB/s file' % (size / med[key] / 1e9)
             if file_bytes else '')
    by_data = med['a'] / med['b']
    by_file = by_data * size / data
    print('zeros vs data in hashlib: %.3f (1 = as fast)' % (
        med['a'] / med['z']))
    print('(b)/(a) counting data bytes only: %5.1f %%  %s (target %d %%; '
          'ceiling %.1f %%: the %.2f GiB of holes are hashed too)' % (
              100 * by_data, 'PASS' if by_data >= TARGET else 'FAIL',
              100 * TARGET, 100 * med['a'] / (med['a'] + med['z'] *
                                               (size - data) / data),
              (size - data) / GIB))
    print('(b)/(a) counting file bytes:      %5.1f %%  %s' % (
        100 * by_file, 'PASS' if by_file >= TARGET else 'FAIL'))
    print('(b) vs (c) old: %.2fx faster' % (med['c'] / med['b']))
    print('(b) bytes read: %s (data %d, file %d)' % (
        ', '.join(str(n) for n in sorted(bytes_read)), data, size))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dir', default=None,
                        help='where the file is made (a temporary '
                             'directory below it)')
    parser.add_argument('--size-gib', type=float, default=4)
    parser.add_argument('--data-gib', type=float, default=1)
    parser.add_argument('--extents', type=int, default=4)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--cold', action='store_true',
                        help='drop the file from the page cache before '
                             'each file run')
    args = parser.parse_args(argv)
    args.size = int(args.size_gib * GIB)
    args.data = int(args.data_gib * GIB) // args.extents * args.extents
    with tempfile.TemporaryDirectory(prefix='bench-hash-',
                                     dir=args.dir) as root:
        args.dir = root
        path = os.path.join(root, 'image')
        extents = layout(args.size, args.data, args.extents)
        chunks = make_file(path, args.size, extents)
        want = verify.Expected('sha512', file_digest(args.size, extents,
                                                     chunks), args.size)
        cached_bytes = cached(path)
        try:
            times, bytes_read = measure(args, path, root, want, chunks)
        except DigestError as e:
            print('FAILED: %s' % e, file=sys.stderr)
            return 1
        report(args, times, bytes_read, cached_bytes)
    return 0


if __name__ == '__main__':
    sys.exit(main())
