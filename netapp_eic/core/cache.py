# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The image cache of one FlexVol, seen through its local mount.

Entries are ``img-cache-<image_id>`` files in the FlexVol root with a
record each (:mod:`netapp_eic.core.records`). This module only looks at and
changes those files; it takes no lock. Who may do what when (single-flight
builds, readers cloning in parallel, eviction never removing an entry being
cloned) is :mod:`netapp_eic.core.cachemanager`'s.

* An entry is **fresh** when it is a regular file whose valid record names
  the image's current content (or no content, for an image Glance gives no
  hash for) at the entry's size, and, when verification is required, says
  its bytes were verified.
* An entry without a record was built by the in-tree driver: **legacy**. It
  is adopted only after its bytes are checked (see the manager).
* Anything else is **stale**: removed and rebuilt.

Entries are published with no-replace semantics: a finished temporary file
is hard-linked to the entry's name, which fails when the name exists, so a
second publisher (another host without a shared lock) never replaces the
first one's entry. Readers announce themselves with lease files
(``.img-cache-<id>.eic-lease-<expiry>-<uuid>``) that eviction respects.
"""

import dataclasses
import os
import stat
import time
import uuid

from oslo_log import log as logging

from netapp_eic.core import records
from netapp_eic.core.types import CacheState

LOG = logging.getLogger(__name__)

# The names modules and tests use with the cache; defined in records.
entry_name = records.entry_name
record_name = records.record_name
temp_name = records.temp_name
content_id = records.content_id
TEMP_PREFIX = records.TEMP_PREFIX


@dataclasses.dataclass(frozen=True)
class Lookup:
    """What a lookup found: ``state``, a human reason and the record."""

    state: CacheState
    reason: str
    record: records.Record | None = None
    size: int = 0


#: The names of an image in a listing, by bits (1: entry, 2: record).
_KINDS = {1: frozenset(('entry',)), 2: frozenset(('record',)),
          3: frozenset(('entry', 'record'))}


@dataclasses.dataclass(frozen=True)
class Listing:
    """The cache's names in a FlexVol root, from one listing."""

    #: ``{image id: {'entry', 'record'}}`` (see :func:`records.names`).
    names: dict[str, frozenset[str]]
    #: ``{image id: [(lease name, expiry)]}``.
    leases: dict[str, list[tuple[str, float]]]


@dataclasses.dataclass(frozen=True)
class Entry:
    """An entry as listed, for eviction and ``cache list``."""

    image_id: str
    size: int
    allocated: int
    last_used: float
    record: records.Record | None
    problem: str | None


class ImageCache:
    """The cache entries in one FlexVol, through its local mount."""

    def __init__(self, mount_dir: str, flexvol: str) -> None:
        self.mount_dir = mount_dir
        self.flexvol = flexvol

    def path(self, name: str) -> str:
        return os.path.join(self.mount_dir, name)

    # -- lookups --------------------------------------------------------------

    def lookup(self, image_id: str, content: str | None,
               require_verified: bool = False) -> Lookup:
        """The state of ``image_id``'s entry for the content Glance names."""
        try:
            st = os.lstat(self.path(records.entry_name(image_id)))
        except FileNotFoundError:
            return Lookup(CacheState.MISSING, 'no cache entry in FlexVol %s'
                          % self.flexvol)
        if not stat.S_ISREG(st.st_mode):
            kind = ('a symbolic link' if stat.S_ISLNK(st.st_mode)
                    else 'not a regular file')
            return Lookup(CacheState.STALE, 'cache entry in FlexVol %s is '
                          '%s' % (self.flexvol, kind))
        try:
            record = records.read(self.path(records.record_name(image_id)),
                                  image_id)
        except records.InvalidRecord as e:
            return Lookup(CacheState.STALE, 'cache entry in FlexVol %s has '
                          'an invalid record: %s' % (self.flexvol, e))
        if record is None:
            return Lookup(CacheState.LEGACY, 'entry without a record (in-tree '
                          'driver) in FlexVol %s' % self.flexvol,
                          size=st.st_size)
        problem = _record_problem(record, content, st.st_size,
                                  require_verified)
        if problem:
            return Lookup(CacheState.STALE, 'cache entry in FlexVol %s %s' %
                          (self.flexvol, problem), record, st.st_size)
        return Lookup(CacheState.FRESH, '', record, st.st_size)

    def stamp(self) -> tuple[int, int]:
        """The FlexVol root's modification time (nanoseconds) and inode:
        it moves whenever a name is added, removed or renamed there."""
        st = os.stat(self.mount_dir)
        return st.st_mtime_ns, st.st_ino

    def listing(self) -> Listing:
        """The entries', records' and leases' names, one listing (one
        pass over the names: at 10,000 entries it is most of the cost of
        a report)."""
        kinds: dict[str, int] = {}
        leases: dict[str, list[tuple[str, float]]] = {}
        hidden = '.' + records.ENTRY_PREFIX
        start = len(hidden)
        for name in os.listdir(self.mount_dir):
            if name.startswith(records.ENTRY_PREFIX):
                image_id = name[len(records.ENTRY_PREFIX):]
                if image_id:
                    kinds[image_id] = kinds.get(image_id, 0) | 1
            elif not name.startswith(hidden):
                continue
            elif name.endswith(records.RECORD_SUFFIX):
                image_id = name[start:-len(records.RECORD_SUFFIX)]
                if image_id and records.LEASE_MARK not in name:
                    kinds[image_id] = kinds.get(image_id, 0) | 2
            else:
                mark = name.rfind(records.LEASE_MARK)
                if mark > start:
                    leases.setdefault(name[start:mark], []).append(
                        (name, _expiry(name[mark + len(records.LEASE_MARK):])))
        return Listing({image_id: _KINDS[bits] for image_id, bits in
                        kinds.items()}, leases)

    def entries(self) -> list[Entry]:
        """Every entry of the FlexVol, records read (nothing changed)."""
        found = []
        for image_id, kinds in records.names(os.listdir(self.mount_dir)
                                             ).items():
            if 'entry' not in kinds:
                continue
            entry = self.entry(image_id)
            if entry is not None:
                found.append(entry)
        return found

    def entry(self, image_id: str) -> Entry | None:
        """The entry of ``image_id`` as listed, None when missing."""
        try:
            st = os.lstat(self.path(records.entry_name(image_id)))
        except FileNotFoundError:
            return None
        record, problem = None, None
        try:
            record = records.read(self.path(records.record_name(image_id)),
                                  image_id)
        except records.InvalidRecord as e:
            problem = str(e)
        if not stat.S_ISREG(st.st_mode):
            problem = 'not a regular file'
        last_used = record.last_used if record else st.st_mtime
        return Entry(image_id, st.st_size, st.st_blocks * 512, last_used,
                     record, problem or (None if record else 'no record'))

    def orphans(self) -> list[str]:
        """Records whose entry is gone (names in the FlexVol root)."""
        return [records.record_name(image_id) for image_id, kinds in
                records.names(os.listdir(self.mount_dir)).items()
                if kinds == {'record'}]

    # -- changes (the caller holds the entry's lock) -------------------------

    def publish(self, tmp: str, record: records.Record) -> bool:
        """Make the finished file ``tmp`` the entry of ``record.image_id``.

        Returns False, and removes ``tmp``, when an entry already exists
        (another publisher won); the existing entry is kept untouched.
        """
        entry = self.path(records.entry_name(record.image_id))
        try:
            os.link(self.path(tmp), entry)
        except FileExistsError:
            LOG.info('Cache entry %(entry)s in FlexVol %(vol)s was published '
                     'by another request first; keeping it.',
                     {'entry': records.entry_name(record.image_id),
                      'vol': self.flexvol})
            self._unlink(tmp)
            return False
        try:
            records.write(self.mount_dir, record)
        except BaseException:
            self._unlink(records.entry_name(record.image_id))
            raise
        finally:
            self._unlink(tmp)
        return True

    def write_record(self, record: records.Record) -> None:
        records.write(self.mount_dir, record)

    def mark_used(self, record: records.Record, now: float) -> None:
        """Record a hit, if the entry still holds this record."""
        current = self.lookup(record.image_id, record.content)
        if current.record is not None and current.state is CacheState.FRESH:
            records.write(self.mount_dir, dataclasses.replace(
                current.record, last_used=max(now, current.record.last_used)))

    def remove(self, image_id: str) -> None:
        """Delete an entry and its record (and expired leases)."""
        for name in (records.entry_name(image_id),
                     records.record_name(image_id)):
            self._unlink(name)
        self.expire_leases(image_id, float('inf'))

    def remove_record(self, name: str) -> None:
        self._unlink(name)

    def _unlink(self, name: str) -> None:
        try:
            os.unlink(self.path(name))
        except FileNotFoundError:
            pass

    # -- leases ---------------------------------------------------------------

    def add_lease(self, image_id: str, ttl: float) -> str:
        """Announce a reader of the entry until ``ttl`` seconds from now."""
        name = '%s%d-%s' % (records.lease_prefix(image_id),
                            int(time.time() + ttl), uuid.uuid4().hex)
        with open(self.path(name), 'x'):
            pass
        return name

    def drop_lease(self, name: str) -> None:
        self._unlink(name)

    def live_leases(self, image_id: str, now: float) -> list[str]:
        return [name for name, expiry in self._leases(image_id)
                if expiry > now]

    def expire_leases(self, image_id: str, now: float,
                      leases: list[tuple[str, float]] | None = None
                      ) -> list[str]:
        """Remove leases that expired by ``now`` (their reader died);
        ``leases`` as a :meth:`listing` found them, else listed now."""
        listed = self._leases(image_id) if leases is None else leases
        gone = [name for name, expiry in listed if expiry <= now]
        for name in gone:
            self._unlink(name)
        return gone

    def _leases(self, image_id: str) -> list[tuple[str, float]]:
        prefix = records.lease_prefix(image_id)
        leases = []
        for name in os.listdir(self.mount_dir):
            if name.startswith(prefix):
                leases.append((name, _expiry(name[len(prefix):])))
        return leases


def _expiry(tail: str) -> float:
    """The expiry of a lease from its name's tail (``<expiry>-<uuid>``);
    0 (expired) when unreadable."""
    expiry = tail.split('-', 1)[0]
    return float(expiry) if expiry.isdigit() else 0.0


def _record_problem(record: records.Record, content: str | None, size: int,
                    require_verified: bool) -> str | None:
    """Why a valid record does not make its entry fresh, or None."""
    if record.content != content:
        return 'holds %s, Glance reports %s' % (record.content, content)
    if record.size != size:
        return 'is %d bytes, its record says %d' % (size, record.size)
    if require_verified and content is not None and not record.verified:
        return 'was never verified against Glance\'s hash'
    return None

