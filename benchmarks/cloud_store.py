# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cloud replay's in-memory pools: what the cache manager sees of a
FlexVol, without files or ONTAP.

:class:`MemoryCache` answers the calls :class:`netapp_eic.core.cachemanager.
CacheManager` makes of :class:`netapp_eic.core.cache.ImageCache` (lookup,
publish, leases, records, listing, the root's stamp) with the same
meaning: a publish that finds an entry loses, a record rewrite (a use) or
a lease moves the root's stamp as a rename or a new file moves a
directory's modification time. :class:`World` holds the pools, the clock,
the live volumes' space (for the FlexVol's free space) and the ONTAP
client's one call the manager makes here (``flexvol_space``).
"""

import contextlib
import dataclasses
import itertools

from netapp_eic.core import cache
from netapp_eic.core import records
from netapp_eic.core.types import CacheState
from netapp_eic import ontap


_BOTH = frozenset(('entry', 'record'))


class Clock:
    """The simulated time, seconds; the replay moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class MemoryCache:
    """One FlexVol's cache entries, records and leases, in memory."""

    def __init__(self, name, clock):
        self.flexvol = name
        self.clock = clock
        self.records = {}     # image id -> records.Record
        self.leases = {}      # image id -> {lease name: expiry}
        self.names = {}       # image id -> {'entry', 'record'}
        self.allocated = 0
        #: Moves when an entry comes or goes (the replay's scheduler view
        #: is rebuilt only then, or when the pool's pressure changes).
        self.members = 0
        self._stamp = 0
        self._tmp = itertools.count()

    # -- what the manager reads ----------------------------------------------

    def stamp(self):
        return self._stamp

    def listing(self):
        leases = {i: list(found.items()) for i, found in self.leases.items()
                  if found}
        return cache.Listing(self.names, leases)

    def lookup(self, image_id, content, require_verified=False):
        record = self.records.get(image_id)
        if record is None:
            return cache.Lookup(CacheState.MISSING, 'no cache entry')
        if record.content != content:
            return cache.Lookup(CacheState.STALE, 'other content', record,
                                record.size)
        if require_verified and content is not None and not record.verified:
            return cache.Lookup(CacheState.STALE, 'never verified', record,
                                record.size)
        return cache.Lookup(CacheState.FRESH, '', record, record.size)

    def entry(self, image_id):
        record = self.records.get(image_id)
        if record is None:
            return None
        return cache.Entry(image_id, record.size, record.size,
                           record.last_used, record, None)

    def entries(self):
        return [self.entry(i) for i in self.records]

    def orphans(self):
        return []

    def live_leases(self, image_id, now):
        return [name for name, expiry in self.leases.get(image_id, {}).items()
                if expiry > now]

    # -- changes ------------------------------------------------------------

    def temp(self):
        """A name for a file being built (the replay's "copy")."""
        return '%s%d' % (records.TEMP_PREFIX, next(self._tmp))

    def publish(self, tmp, record):
        if record.image_id in self.records:
            return False
        self.records[record.image_id] = record
        self.names[record.image_id] = _BOTH
        self.allocated += record.size
        self.members += 1
        self._stamp += 1
        return True

    def write_record(self, record):
        self.records[record.image_id] = record
        self._stamp += 1

    def mark_used(self, record, now):
        current = self.records.get(record.image_id)
        if current is not None and current.content == record.content:
            self.records[record.image_id] = dataclasses.replace(
                current, last_used=max(now, current.last_used))
            self._stamp += 1

    def remove(self, image_id):
        record = self.records.pop(image_id, None)
        if record is not None:
            self.allocated -= record.size
            self.members += 1
            del self.names[image_id]
        self.leases.pop(image_id, None)
        self._stamp += 1

    def remove_record(self, name):
        pass

    def add_lease(self, image_id, ttl):
        name = '%s%d-%d' % (records.lease_prefix(image_id),
                            self.clock() + ttl, next(self._tmp))
        self.leases.setdefault(image_id, {})[name] = self.clock() + ttl
        self._stamp += 1
        return name

    def drop_lease(self, name):
        image_id = name[len('.' + records.ENTRY_PREFIX):name.rindex(
            records.LEASE_MARK)]
        found = self.leases.get(image_id, {})
        if found.pop(name, None) is not None:
            self._stamp += 1
        if not found:
            self.leases.pop(image_id, None)

    def expire_leases(self, image_id, now, leases=None):
        found = self.leases.get(image_id, {})
        gone = [name for name, expiry in found.items() if expiry <= now]
        for name in gone:
            del found[name]
        return gone


@dataclasses.dataclass(frozen=True)
class MemoryPool:
    """What the manager asks of a pool: its share, FlexVol and cache."""

    share: str
    flexvol: ontap.FlexVol
    cache: MemoryCache


class MemoryHost:
    """The host interface the manager uses here: locks (the replay runs
    one create at a time, so single-flight is a plain lock)."""

    def lock(self, name):
        return contextlib.nullcontext()

    def forget_lock(self, name):
        pass


class World:
    """The pools, their sizes and live volumes, and the clock."""

    def __init__(self, names, pool_bytes):
        self.clock = Clock()
        self.pool_bytes = pool_bytes
        self.pools = {}
        self.volume_bytes = {}
        self._by_uuid = {}
        for n, name in enumerate(names):
            vol = ontap.FlexVol(name, 'uuid-%04d' % n, 'svm', '/' + name)
            pool = MemoryPool('10.0.0.1:/' + name, vol,
                              MemoryCache(name, self.clock))
            self.pools[name] = pool
            self.volume_bytes[name] = 0
            self._by_uuid[vol.uuid] = name

    def free(self, name):
        """The FlexVol's free bytes: its size less cache and volumes."""
        return (self.pool_bytes - self.pools[name].cache.allocated -
                self.volume_bytes[name])

    def flexvol_space(self, vol):
        """``OntapClient.flexvol_space``: (usable size, free bytes)."""
        return self.pool_bytes, max(0, self.free(self._by_uuid[vol.uuid]))
