# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The per-FlexVol image cache.

Entries keep the upstream driver's names, ``img-cache-<image_id>`` in the
FlexVol root, so a backend switched to this driver keeps its cache (and the
parent's cleanup task, which deletes ``img-cache*`` files by age, still
works). Each entry has a hidden sidecar record,
``.img-cache-<image_id>.eic.json``, saying which image content it holds
(Glance's ``os_hash_value`` or ``checksum``) and when it was last used.

Entries are never visible half-written: they are built under a temporary
name (:func:`temp_name`) and renamed into place. An entry whose record names
other content than Glance reports is stale and is not used. An entry with no
record was built by the upstream driver; Glance never changes the data of an
active image, so such an entry is adopted and given a record.

This module does local file operations on the pool's mount only; ONTAP
operations (clone, copy) are :mod:`netapp_eic.core.steps`'s.
"""

import collections.abc
import dataclasses
import json
import os
import time
import typing
import uuid

from oslo_log import log as logging

from netapp_eic.core.types import CacheState

LOG = logging.getLogger(__name__)

ENTRY_PREFIX = 'img-cache-'
TEMP_PREFIX = '.eic-tmp-'


def entry_name(image_id: str) -> str:
    return ENTRY_PREFIX + image_id


def record_name(image_id: str) -> str:
    return '.%s%s.eic.json' % (ENTRY_PREFIX, image_id)


def temp_name(purpose: str) -> str:
    """A hidden, unique name in the FlexVol root for a file being built."""
    return '%s%s-%s' % (TEMP_PREFIX, purpose, uuid.uuid4().hex)


def content_id(image_meta: collections.abc.Mapping[str, typing.Any]
               ) -> str | None:
    """Glance's identification of the image's bytes, or None."""
    value = image_meta.get('os_hash_value')
    if value:
        return '%s:%s' % (image_meta.get('os_hash_algo') or 'sha512', value)
    if image_meta.get('checksum'):
        return 'md5:%s' % image_meta['checksum']
    return None


@dataclasses.dataclass
class Record:
    image_id: str
    content: str
    source_format: str
    virtual_size: int
    created_at: float
    last_used: float
    built_by: str


@dataclasses.dataclass(frozen=True)
class Lookup:
    """Result of looking for an entry: ``state`` and a human reason."""

    state: CacheState
    reason: str
    virtual_size: int = 0
    legacy: bool = False


class ImageCache:
    """The cache entries in one FlexVol, seen through its local mount."""

    def __init__(self, mount_dir: str, flexvol: str):
        self.mount_dir = mount_dir
        self.flexvol = flexvol

    def path(self, name: str) -> str:
        return os.path.join(self.mount_dir, name)

    def lookup(self, image_id: str, content: str | None) -> Lookup:
        entry = self.path(entry_name(image_id))
        try:
            size = os.stat(entry).st_size
        except FileNotFoundError:
            return Lookup(CacheState.MISSING, 'no cache entry in FlexVol %s'
                          % self.flexvol)
        if content is None:
            return Lookup(CacheState.STALE, 'Glance reports no checksum for '
                          'the image, cache entry cannot be verified')
        record = self.read_record(image_id)
        if record is None:
            return Lookup(CacheState.FRESH, 'entry without a record (upstream '
                          'driver)', size, legacy=True)
        if record.content != content:
            return Lookup(CacheState.STALE, 'cache entry in FlexVol %s holds '
                          '%s, Glance reports %s' % (self.flexvol,
                                                     record.content, content))
        return Lookup(CacheState.FRESH, '', record.virtual_size)

    def adopt(self, image_id: str, content: str) -> None:
        """Give an upstream-built entry (no record) a record."""
        LOG.info('Adopting cache entry %(entry)s in FlexVol %(vol)s built '
                 'without a record (upstream driver).',
                 {'entry': entry_name(image_id), 'vol': self.flexvol})
        size = os.stat(self.path(entry_name(image_id))).st_size
        now = time.time()
        self.write_record(Record(image_id, content, 'raw', size, now, now,
                                 'adopted'))

    def read_record(self, image_id: str) -> Record | None:
        try:
            with open(self.path(record_name(image_id))) as f:
                return Record(**json.load(f))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as e:
            LOG.warning('Ignoring unreadable cache record for image '
                        '%(image)s in FlexVol %(vol)s: %(err)s',
                        {'image': image_id, 'vol': self.flexvol, 'err': e})
            return None

    def write_record(self, record: Record) -> None:
        """Write the record atomically (temporary file, then rename)."""
        final = self.path(record_name(record.image_id))
        tmp = self.path(temp_name('record'))
        try:
            with open(tmp, 'w') as f:
                json.dump(dataclasses.asdict(record), f)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def publish(self, tmp: str, record: Record) -> bool:
        """Rename the finished file ``tmp`` (a name in the FlexVol root) into
        the entry for ``record.image_id``.

        Returns False, and removes ``tmp``, when a fresh entry appeared
        meanwhile (another host built it); the existing entry is kept.
        """
        entry = self.path(entry_name(record.image_id))
        self.write_record(record)
        if os.path.exists(entry):
            LOG.info('Cache entry %(entry)s in FlexVol %(vol)s appeared '
                     'while building it; keeping the existing one.',
                     {'entry': entry_name(record.image_id),
                      'vol': self.flexvol})
            os.unlink(self.path(tmp))
            return False
        os.rename(self.path(tmp), entry)
        return True

    def touch(self, image_id: str) -> None:
        """Mark a hit: explicit last-used time in the record and the atime
        the parent's cleanup task reads, without relying on reads to
        update atime."""
        now = time.time()
        entry = self.path(entry_name(image_id))
        st = os.stat(entry)
        os.utime(entry, (now, st.st_mtime))
        record = self.read_record(image_id)
        if record is not None:
            record.last_used = now
            self.write_record(record)

    def remove(self, image_id: str) -> None:
        """Delete an entry and its record (a stale entry)."""
        for name in (entry_name(image_id), record_name(image_id)):
            try:
                os.unlink(self.path(name))
            except FileNotFoundError:
                pass
