# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Entries the in-tree NetApp driver built: check before adopting.

The in-tree driver registers a *downloaded volume* as ``img-cache-<id>``,
so its entries are as large as the first requester's volume (a 2 GiB file
holding a 32 MiB image) and carry no record. Such an entry is adopted only
when its bytes prove to be the image: for a raw image, Glance's ``size``
bytes hash to Glance's hash and every byte after them is zero; it is then
cut to the image's size and given a record. A qcow2 image's entry holds the
converted bytes, which no Glance hash describes: it is replaced, as is any
entry that fails the check.
"""

import errno
import hashlib
import os
import time

from netapp_eic.core import cache
from netapp_eic.core import native
from netapp_eic.core import records
from netapp_eic.core.types import ImageMeta, image_id_of

_CHUNK = 4 * 1024 * 1024


def check(image_cache: cache.ImageCache, image_meta: ImageMeta
          ) -> tuple[records.Record | None, str]:
    """A record for the legacy entry when its bytes are the image's, cut
    to size; else ``(None, why not)``."""
    image_id = image_id_of(image_meta)
    path = image_cache.path(records.entry_name(image_id))
    if image_meta.get('disk_format') != 'raw':
        return None, ('a %s image\'s entry cannot be checked against '
                      'Glance\'s hash' % image_meta.get('disk_format'))
    size = image_meta.get('size')
    if not isinstance(size, int) or size <= 0:
        return None, 'Glance reports no size'
    content = records.content_id(image_meta)
    try:
        # Reads the whole entry: off eventlet's hub (see native).
        problem = native.call(_bytes_problem, path, size, content)
    except OSError as e:
        return None, 'cannot read the entry: %s' % (e.strerror or e)
    if problem:
        return None, problem
    os.truncate(path, size)
    now = time.time()
    return records.Record(image_id, content, 'raw', size, now, now,
                          'adopted', verified=content is not None), ''


def _bytes_problem(path: str, size: int, content: str | None) -> str | None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        actual = os.fstat(fd).st_size
        if actual < size:
            return 'entry is %d bytes, the image %d' % (actual, size)
        if content is not None:
            algo, _sep, expected = content.partition(':')
            if algo not in hashlib.algorithms_available:
                return 'unknown hash algorithm %s' % algo
            if _digest(fd, size, algo) != expected:
                return 'entry bytes do not match Glance\'s %s' % algo
        if not _zeros_after(fd, size, actual):
            return 'entry has data after the image\'s %d bytes' % size
    finally:
        os.close(fd)
    return None


def _digest(fd: int, length: int, algo: str) -> str:
    digest = hashlib.new(algo)
    offset = 0
    while offset < length:
        chunk = os.pread(fd, min(_CHUNK, length - offset), offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def _zeros_after(fd: int, start: int, end: int) -> bool:
    """True when bytes ``start``..``end`` are holes or zeros."""
    offset = start
    while offset < end:
        try:
            data_at = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                return True
            raise
        if data_at >= end:
            return True
        chunk = os.pread(fd, min(_CHUNK, end - data_at), data_at)
        if not chunk or chunk.count(0) != len(chunk):
            return not chunk
        offset = data_at + len(chunk)
    return True
