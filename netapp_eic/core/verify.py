# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Check an image file's bytes against the hash Glance recorded.

Glance records the hash of the data it stores (``os_hash_algo`` and
``os_hash_value``, sha512 by default, and the legacy md5 ``checksum``), and
a Glance download checks it. The fast paths hand the stored file's bytes to
volumes without a download, so they check it here: a changed or corrupted
file in the Glance store must not become a volume, nor the pool's cache
entry that later volumes are cloned from.

Hashing costs the CPU time of the whole file (sha512 runs at roughly 0.5
to 1.2 GB/s per core, zeros no faster than data), so it is done once per
image and cluster: a cache entry built from verified bytes is recorded as
such, and an ONTAP copy or clone of it inherits the verification. It runs
in a thread (:class:`Hashing`; a native one also under eventlet, see
:mod:`native`) beside the work that happens anyway: the ONTAP File Copy of
the source when this host mounts the source's FlexVol, or the conversion
of a qcow2. A direct clone of a raw image has nothing to overlap (the
clone is constant-time), so there the hashing is the whole cost of the
first create.

The hash runs at the CPU's speed: a reader thread reads the file ahead of
it in large reads into a few reused buffers, and the holes of a sparse
file (``SEEK_DATA``/``SEEK_HOLE``) are hashed as zeros without being read
through the mount. Only the data is read (:attr:`Hashing.bytes_read`).
"""

import collections
import dataclasses
import errno
import hashlib
import os
import queue
import threading
from collections.abc import Iterator
from concurrent import futures

from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.core import nofollow
from netapp_eic.core import native
from netapp_eic.core.types import ImageMeta
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)

#: Bytes per read of the file, and per hash update.
CHUNK = 8 * 1024 * 1024

#: Buffers of :data:`CHUNK` bytes (read ahead of the hash, or being
#: hashed): the memory of one hashing.
DEPTH = 4

#: Images already logged as served unverified (bounded).
_UNVERIFIED_LOGGED: collections.OrderedDict[str, None] = (
    collections.OrderedDict())
_UNVERIFIED_LOCK = threading.Lock()
_UNVERIFIED_MAX = 4096


@dataclasses.dataclass(frozen=True)
class Expected:
    """The hash (and size) Glance recorded for an image's data."""

    algo: str
    value: str
    size: int | None

    def new(self) -> 'hashlib._Hash':
        return hashlib.new(self.algo, usedforsecurity=False)


def expected(image_meta: ImageMeta) -> Expected | None:
    """Glance's hash of the image data: the multihash when its algorithm
    is known here, else the md5 ``checksum``; None when there is none."""
    size = image_meta.get('size')
    size = size if isinstance(size, int) and size >= 0 else None
    value = image_meta.get('os_hash_value')
    algo = str(image_meta.get('os_hash_algo') or 'sha512').lower()
    if value and algo in hashlib.algorithms_available:
        return Expected(algo, str(value).lower(), size)
    checksum = image_meta.get('checksum')
    if checksum:
        return Expected('md5', str(checksum).lower(), size)
    return None


def note_unverified(image_id: str, why: str) -> None:
    """Log, once per image and process, that its volumes are served
    without a content check."""
    with _UNVERIFIED_LOCK:
        if image_id in _UNVERIFIED_LOGGED:
            return
        _UNVERIFIED_LOGGED[image_id] = None
        if len(_UNVERIFIED_LOGGED) > _UNVERIFIED_MAX:
            _UNVERIFIED_LOGGED.popitem(last=False)
    LOG.warning('Image %(image)s: %(why)s; its fast-path volumes are made '
                'from bytes not checked against Glance (logged once).',
                {'image': image_id, 'why': why})


class Hashing:
    """The hash of one file, computed in a thread and compared with
    Glance's when :meth:`check` is called.

    The file is opened in the constructor, without following links
    (:func:`~netapp_eic.core.nofollow.open_regular`), and its size compared
    with Glance's ``size``: a link or a wrong size is refused before any
    copy starts. The hash then runs in a daemon thread (under eventlet in
    a native one, see :mod:`native`) that delivers it through a
    :class:`~concurrent.futures.Future`, fed by a reader thread that reads
    through the open descriptor, so the bytes hashed are those of the file
    that was checked: its first ``size`` bytes (a file that ends sooner
    while read is refused).
    """

    def __init__(self, path: str, root: str, want: Expected,
                 image_id: str) -> None:
        self.want = want
        self.image_id = image_id
        self._file = nofollow.open_regular(path, root)
        self.root = root
        try:
            st = os.fstat(self._file.fileno())
            self._identity = _identity(st)
            size = st.st_size
            if want.size is not None and size != want.size:
                raise exception.ContentMismatch(
                    image_id=image_id, reason=_(
                        '%(path)s has %(size)d bytes, Glance recorded '
                        '%(want)d') % {'path': path, 'size': size,
                                       'want': want.size})
            self.path = path
            self.size = size
            self._reader = _Reader(self._file.fileno(), path, size)
            self._future: futures.Future[str | None] = futures.Future()
            # A daemon, as a hash left running must not hold up the exit
            # of the process (an executor's threads would).
            self._thread = threading.Thread(
                target=self._run, daemon=True,
                name='eic-hash-%s' % image_id[:8])
            self._thread.start()
        except BaseException:
            self._file.close()
            raise

    @property
    def bytes_read(self) -> int:
        """Bytes read from the file: its data, not its holes (complete
        after :meth:`check`)."""
        return self._reader.bytes_read

    def _run(self) -> None:
        self._future.set_running_or_notify_cancel()
        try:
            try:
                digest = native.call(self._reader.digest, self.want.new())
            finally:
                self._file.close()
        except BaseException as e:  # handed to check(), never lost
            self._future.set_exception(e)
        else:
            self._future.set_result(digest)

    def check(self) -> None:
        """Wait for the hash and compare it with Glance's.

        :raises ContentMismatch: the bytes differ.
        :raises NotRegularFile: the file ended before its size while read.
        :raises OSError: the file could not be read.
        """
        self._thread.join()
        digest = self._future.result()
        if digest is None:
            raise exception.EicError(reason=_('hashing of %s was '
                                              'cancelled') % self.path)
        if digest != self.want.value:
            raise exception.ContentMismatch(
                image_id=self.image_id, reason=_(
                    '%(algo)s of %(path)s is %(got)s, Glance recorded '
                    '%(want)s') % {'algo': self.want.algo,
                                   'path': self.path, 'got': digest,
                                   'want': self.want.value})

    def unchanged(self) -> bool:
        """Whether ``path`` is still the file that was hashed, unwritten
        since: same inode, size, and nanosecond modification and change
        times (a fresh open revalidates them over NFS). Called after a
        copy that read the same file beside the hashing: a write in
        between, which ONTAP's one-second timestamps could miss, shows
        here."""
        try:
            with nofollow.open_regular(self.path, self.root) as again:
                return _identity(os.fstat(again.fileno())) == self._identity
        except (OSError, exception.EicError):
            return False

    def cancel(self) -> None:
        """Stop hashing (the step failed for another reason) and wait for
        its threads, so no thread or descriptor outlives the step."""
        self._reader.stop()
        self._thread.join()


class _Stopped:
    """The reader's last item when it was stopped."""


class _Done:
    """The reader's last item when it read to the end."""


_STOPPED = _Stopped()
_DONE = _Done()

#: What the reader hands the hash: a buffer and the bytes read into it, the
#: length of a hole, or its last item (an exception, _DONE or _STOPPED).
_Item = tuple[memoryview, int] | int | BaseException | _Done | _Stopped


class _Reader:
    """The first ``size`` bytes of an open file, read ahead of the hash.

    :meth:`digest` (the hashing thread) starts a reader thread that walks
    the file's data and holes in order: each data extent is read in reads
    of :data:`CHUNK` bytes into one of :data:`DEPTH` reused buffers, each
    hole is passed on as its length and hashed as zeros, unread. The hash
    of large updates releases the GIL, so reading and hashing overlap.
    """

    def __init__(self, fd: int, path: str, size: int) -> None:
        self.fd = fd
        self.path = path
        self.size = size
        self.bytes_read = 0
        self._stopped = False
        self._free: queue.SimpleQueue[memoryview | None] = native.os_queue()
        self._full: queue.SimpleQueue[_Item] = native.os_queue()

    def stop(self) -> None:
        """Make both threads stop at their next step (callable from any
        thread, green or not: nothing here blocks)."""
        self._stopped = True
        self._free.put(None)

    def digest(self, hasher: 'hashlib._Hash') -> str | None:
        """The hex digest of the file; None when stopped. Runs in a native
        thread and returns once the reader thread has ended."""
        if self._stopped:
            return None
        for _unused in range(DEPTH):
            self._free.put(memoryview(bytearray(CHUNK)))
        reader = native.os_thread(self._read, name='eic-read')
        reader.start()
        try:
            return self._hash(hasher)
        finally:
            self.stop()
            reader.join()

    def _hash(self, hasher: 'hashlib._Hash') -> str | None:
        zeros = memoryview(bytes(CHUNK))  # mapped on demand, never written
        hashed = 0
        while True:
            item = self._full.get()
            if self._stopped or isinstance(item, _Stopped):
                return None
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Done):
                break
            if isinstance(item, int):
                hashed += self._zeros(hasher, zeros, item)
            else:
                buf, n = item
                hasher.update(buf[:n])
                self._free.put(buf)
                hashed += n
        if hashed != self.size:
            raise exception.EicError(reason=_(
                'hashed %(got)d bytes of %(path)s, not %(size)d') % {
                    'got': hashed, 'path': self.path, 'size': self.size})
        return hasher.hexdigest()

    def _zeros(self, hasher: 'hashlib._Hash', zeros: memoryview,
               length: int) -> int:
        """Hash a hole of ``length`` bytes; the bytes hashed."""
        left = length
        while left and not self._stopped:
            n = min(left, len(zeros))
            hasher.update(zeros[:n])
            left -= n
        return length - left

    def _read(self) -> None:
        """The reader thread: the file's extents onto ``_full``, then its
        last item (also when stopped, or on an error)."""
        last: _Item = _DONE
        try:
            _advise_sequential(self.fd)
            for start, end, data in _extents(self.fd, self.size, self.path):
                if self._stopped:
                    break
                if not data:
                    self._full.put(end - start)
                elif not self._read_data(start, end):
                    break
            if self._stopped:
                last = _STOPPED
        except BaseException as e:  # handed to the hash, then to check()
            last = e
        self._full.put(last)

    def _read_data(self, start: int, end: int) -> bool:
        """Read ``[start, end)`` onto ``_full``; False when stopped."""
        while start < end:
            buf = self._free.get()
            if buf is None or self._stopped:
                return False
            n = os.preadv(self.fd, [buf[:min(len(buf), end - start)]],
                          start)
            if not n:
                raise _ended(self.path, start, self.size)
            self.bytes_read += n
            self._full.put((buf, n))
            start += n
        return True


def _advise_sequential(fd: int) -> None:
    """Ask for the kernel's larger read-ahead (the NFS client's too)."""
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    except (AttributeError, OSError):  # not on this system: only slower
        pass


def _extents(fd: int, size: int,
             path: str) -> Iterator[tuple[int, int, bool]]:
    """The extents of the file's first ``size`` bytes, in order, as
    ``(start, end, is_data)``. Where the file system cannot tell data from
    holes, what is left is one data extent."""
    off = 0
    while off < size:
        data = _seek(fd, off, os.SEEK_DATA, size, path)
        if data is None:
            yield off, size, True
            return
        if data > off:
            yield off, data, False
        if data >= size:
            return
        hole = _seek(fd, data, os.SEEK_HOLE, size, path)
        if hole is None or hole <= data:  # no answer, or a hole just made
            yield data, size, True
            return
        yield data, hole, True
        off = hole


def _seek(fd: int, off: int, whence: int, size: int,
          path: str) -> int | None:
    """``lseek(fd, off, whence)``, at most ``size``; None when the file
    system cannot seek data or holes.

    ENXIO means no data at or after ``off`` (``SEEK_DATA``), or ``off`` at
    or past the end of the file: below ``size``, the rest is a hole only
    if the file has not shrunk since it was measured.
    """
    try:
        return min(os.lseek(fd, off, whence), size)
    except OSError as e:
        if e.errno == errno.ENXIO:
            now = os.fstat(fd).st_size
            if now < size:
                raise _ended(path, now, size) from e
            return size
        if e.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise


def _ended(path: str, at: int, size: int) -> exception.NotRegularFile:
    return exception.NotRegularFile(path=path, reason=_(
        'it changed while it was hashed: it ends at byte %(at)d, not '
        '%(size)d') % {'at': at, 'size': size})


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns)


def check_file(path: str, root: str, want: Expected, image_id: str) -> None:
    """Hash ``path`` now (nothing to overlap with) and compare."""
    Hashing(path, root, want, image_id).check()
