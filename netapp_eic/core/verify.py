# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Check an image file's bytes against the hash Glance recorded.

Glance records the hash of the data it stores (``os_hash_algo`` and
``os_hash_value``, sha512 by default, and the legacy md5 ``checksum``), and
a Glance download checks it. The fast paths hand the stored file's bytes to
volumes without a download, so they check it here: a changed or corrupted
file in the Glance store must not become a volume, nor the pool's cache
entry that later volumes are cloned from.

Hashing reads the whole file (sha512 runs at roughly 0.5 GB/s per core
here), so it is done once per image and cluster: a cache entry built from
verified bytes is recorded as such, and an ONTAP copy or clone of it
inherits the verification. It runs in a thread (:class:`Hashing`; a
native one also under eventlet, see :mod:`native`) beside the work that
happens anyway: the ONTAP File Copy of the source when this
host mounts the source's FlexVol, or the conversion of a qcow2. A direct
clone of a raw image has nothing to overlap (the clone is constant-time),
so there the hashing is the whole cost of the first create.
"""

import collections
import dataclasses
import hashlib
import os
import threading

from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.core import nofollow
from netapp_eic.core import native
from netapp_eic.core.types import ImageMeta
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)

#: Bytes read per hashing step.
CHUNK = 4 * 1024 * 1024

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
    copy starts. The thread reads through the open descriptor, so the
    bytes hashed are those of the file that was checked.
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
        except BaseException:
            self._file.close()
            raise
        self.path = path
        self.size = size
        self._stop = threading.Event()
        self._digest: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='eic-hash-%s' % image_id[:8])
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = native.call(self._hash)
        except BaseException as e:  # handed to check(), never lost
            self._error = e
        finally:
            self._file.close()

    def _hash(self) -> str | None:
        """The file's hex digest; None when cancelled. Under eventlet
        this runs in a native thread (see :mod:`native`)."""
        hasher = self.want.new()
        buf = memoryview(bytearray(CHUNK))
        while not self._stop.is_set():
            n = self._file.readinto(buf)
            if not n:
                return hasher.hexdigest()
            hasher.update(buf[:n])
        return None

    def check(self) -> None:
        """Wait for the hash and compare it with Glance's.

        :raises ContentMismatch: the bytes differ.
        :raises OSError: the file could not be read.
        """
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._digest is None:
            raise exception.EicError(reason=_('hashing of %s was '
                                              'cancelled') % self.path)
        if self._digest != self.want.value:
            raise exception.ContentMismatch(
                image_id=self.image_id, reason=_(
                    '%(algo)s of %(path)s is %(got)s, Glance recorded '
                    '%(want)s') % {'algo': self.want.algo,
                                   'path': self.path, 'got': self._digest,
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
        the thread, so no descriptor outlives the step."""
        self._stop.set()
        self._thread.join()


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns)


def check_file(path: str, root: str, want: Expected, image_id: str) -> None:
    """Hash ``path`` now (nothing to overlap with) and compare."""
    Hashing(path, root, want, image_id).check()
