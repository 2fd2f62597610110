# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File operations on the data root.

* :func:`reflink` clones a file with the FICLONE ioctl (copy-on-write).
* :func:`sparse_copy` is the *physical* copy: it walks the source's data
  runs with ``SEEK_DATA``/``SEEK_HOLE`` and copies them with
  ``pread``/``pwrite``, so holes stay holes. ``copy_file_range`` is never
  used: on XFS and btrfs it silently reflinks, which would hide the cost of
  a real copy.
"""

import errno
import fcntl
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from oslo_utils import units

FICLONE = 0x40049409
CHUNK = units.Mi
#: Never write through a symbolic link.
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
Progress = Callable[[int], None]


class CopyStopped(Exception):
    """The copy was cancelled through its stop event."""


class CopyFault(Exception):
    """An injected failure fired part-way through a copy."""


def probe_reflink(directory: str) -> bool:
    """Return True when FICLONE works between two files in ``directory``."""
    tag = uuid.uuid4().hex
    src = os.path.join(directory, f'.sim-probe-{tag}-src')
    dst = os.path.join(directory, f'.sim-probe-{tag}-dst')
    try:
        with open(src, 'wb') as f:
            f.write(b'\0' * 4096)
        reflink(src, dst)
        return True
    except OSError:
        return False
    finally:
        for path in (src, dst):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def reflink(src: str, dst: str) -> None:
    """Make ``dst`` a copy-on-write clone of ``src`` (FICLONE); neither
    side is followed through a symbolic link."""
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fd_out = os.open(dst, _WRITE_FLAGS, 0o644)
        try:
            fcntl.ioctl(fd_out, FICLONE, fd_in)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def data_runs(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each data run of an open file."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # only a hole remains
                return
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if end <= start:
            return
        yield start, end
        offset = end


class _Pacer:
    """Sleeps so that the data written stays under ``bps`` bytes/s."""

    def __init__(self, bps: float | None,
                 stop: threading.Event | None) -> None:
        self.bps = bps
        self.stop = stop
        self.start = time.monotonic()
        self.written = 0

    def chunk(self) -> int:
        if not self.bps:
            return CHUNK
        return max(4096, min(CHUNK, int(self.bps) // 20))

    def account(self, nbytes: int) -> None:
        self.written += nbytes
        if not self.bps:
            return
        delay = self.written / self.bps - (time.monotonic() - self.start)
        if delay > 0 and self.stop is not None and self.stop.wait(delay):
            raise CopyStopped()
        if delay > 0 and self.stop is None:
            time.sleep(delay)


def sparse_copy(src: str, dst: str, *, progress: Progress | None = None,
                throttle_bps: float | None = None,
                stop: threading.Event | None = None,
                fail_at: int | None = None) -> None:
    """Copy ``src`` to ``dst`` progressively, preserving holes.

    ``dst`` is written under its own name (a failure leaves a partial
    file). ``progress(position)`` is called as the copy advances (holes
    count as done), ``throttle_bps`` caps the data rate, ``stop`` (an
    Event) aborts with :class:`CopyStopped`, ``fail_at`` (a byte offset) raises
    :class:`CopyFault` once the copy reaches it.
    """
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd_in).st_size
        fd_out = os.open(dst, _WRITE_FLAGS, 0o644)
        try:
            _copy_runs(fd_in, fd_out, size, progress,
                       _Pacer(throttle_bps, stop), stop, fail_at)
            os.ftruncate(fd_out, size)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)
    if progress is not None:
        progress(size)


def _check(position: int, stop: threading.Event | None,
           fail_at: int | None) -> None:
    if stop is not None and stop.is_set():
        raise CopyStopped()
    if fail_at is not None and position >= fail_at:
        raise CopyFault(position)


def _copy_runs(fd_in: int, fd_out: int, size: int, progress: Progress | None,
               pacer: _Pacer, stop: threading.Event | None,
               fail_at: int | None) -> None:
    _check(0, stop, fail_at)
    for start, end in data_runs(fd_in, size):
        pos = start
        while pos < end:
            count = min(pacer.chunk(), end - pos)
            if fail_at is not None and pos < fail_at:
                count = min(count, fail_at - pos)
            _check(pos, stop, fail_at)
            data = os.pread(fd_in, count, pos)
            if not data:
                return
            _write_all(fd_out, data, pos)
            pos += len(data)
            if progress is not None:
                progress(pos)
            pacer.account(len(data))
    _check(size, stop, fail_at)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def clone_file(src: str, dst: str, mode: str) -> None:
    """Atomically make ``dst`` a clone of ``src``.

    ``mode`` is ``'reflink'`` (FICLONE) or ``'copy'`` (hole-preserving
    physical copy). The clone is built under a hidden temporary name in the
    destination directory and then renamed over ``dst``, so a reader never
    sees a half-made file.
    """
    directory, name = os.path.split(dst)
    tmp = os.path.join(directory, f'.{name}.sim-clone-{uuid.uuid4().hex}')
    try:
        if mode == 'reflink':
            reflink(src, tmp)
        else:
            sparse_copy(src, tmp)
        os.chmod(tmp, os.lstat(src).st_mode & 0o7777)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def allocated_bytes(path: str) -> int:
    """Bytes allocated on disk under ``path`` (st_blocks * 512), recursive.

    ``.snapshot`` directories are not counted.
    """
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != '.snapshot']
        for name in files + dirs:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def file_allocated(path: str) -> int:
    """Bytes allocated on disk by one file (a link is not followed)."""
    return os.lstat(path).st_blocks * 512
