# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Who may do what to a pool's cache, and when: the locking discipline.

Two named locks per (image, FlexVol), taken through the host (Cinder's
coordinator: with a shared ``[coordination] backend_url`` such as Redis they
hold across cinder-volume hosts):

* the **build** lock is single-flight for building an entry: held from the
  recheck of a miss to the publish, so one copy is made however many
  creates wait; it is never held while cloning from an entry;
* the **entry** lock guards short changes: a reader taking or dropping its
  lease, a publish, an eviction.

Readers (creates cloning from an entry) hold a lease file, not a lock, while
ONTAP clones, so they clone in parallel; eviction, under the entry lock,
rechecks last use and skips an entry with a live lease. A reader's lease
expires (it died) after :data:`LEASE_SECONDS`.

Eviction and the scheduler's report read each pool's
:class:`~netapp_eic.core.cacheindex.CacheIndex`, revalidated by
:meth:`CacheManager.sync`, not a listing with every record read; which
entries go, and in which order, is :mod:`netapp_eic.core.eviction`'s. The
clock is injected (the cloud replay, ``benchmarks/bench_cloud.py``, runs
this class on a simulated one).
"""

import collections.abc
import contextlib
import threading
import time
import typing

from oslo_log import log as logging

from netapp_eic.core import cache
from netapp_eic.core import cacheindex
from netapp_eic.core.context import Context
from netapp_eic.core import eviction
from netapp_eic.core import legacy
from netapp_eic.core.pools import Pool
from netapp_eic.core import records
from netapp_eic.core.types import (CacheState, ImageMeta, Settings,
                                   image_id_of)
from netapp_eic import exception

LOG = logging.getLogger(__name__)

#: How long a reader's lease protects an entry; longer than any clone.
LEASE_SECONDS = 600.0
#: How often the periodic cache task reads every record of a pool again
#: (a record rewritten in place keeps its name: the listing misses it).
RESCAN_SECONDS = 6 * 3600.0
#: How long a FlexVol root's modification time must have been seen before
#: a listing made then is trusted to show every change (see :meth:`sync`).
SETTLE_SECONDS = 2.0


def build_lock(image_id: str, pool: Pool) -> str:
    return 'netapp-eic-build-%s-%s' % (image_id, pool.flexvol.uuid)


def entry_lock(image_id: str, pool: Pool) -> str:
    return 'netapp-eic-entry-%s-%s' % (image_id, pool.flexvol.uuid)


class CacheManager:
    """The cache of every pool of a backend."""

    def __init__(self, ctx: Context,
                 clock: typing.Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.clock = clock
        self._indexes: dict[str, cacheindex.CacheIndex] = {}
        self._indexes_lock = threading.Lock()

    def lookup(self, pool: Pool, image_meta: ImageMeta) -> cache.Lookup:
        """The state of the image's entry in ``pool``; reads only."""
        return pool.cache.lookup(image_id_of(image_meta),
                                 records.content_id(image_meta),
                                 self.settings.verify_content)

    @contextlib.contextmanager
    def building(self, pool: Pool, image_id: str
                 ) -> collections.abc.Iterator[None]:
        """Single-flight: one builder of ``image_id``'s entry in ``pool``."""
        with self.ctx.host.lock(build_lock(image_id, pool)):
            yield

    @contextlib.contextmanager
    def reading(self, pool: Pool, image_meta: ImageMeta
                ) -> collections.abc.Iterator[records.Record]:
        """A lease on a fresh entry while the caller clones from it.

        :raises EicError: the entry is not fresh (missing, stale, legacy).
        """
        image_id = image_id_of(image_meta)
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            found = self.lookup(pool, image_meta)
            if found.state is not CacheState.FRESH or found.record is None:
                raise exception.EicError(reason=found.reason or str(
                    found.state))
            lease = pool.cache.add_lease(image_id, LEASE_SECONDS)
        try:
            yield found.record
        finally:
            with self.ctx.host.lock(entry_lock(image_id, pool)):
                pool.cache.drop_lease(lease)
                now = self.clock()
                pool.cache.mark_used(found.record, now)
                self.index(pool).touch(image_id, now)

    def publish(self, pool: Pool, tmp: str, record: records.Record) -> bool:
        """Publish ``tmp`` as the entry, unless one exists (then ``tmp`` is
        removed and False returned); then keep the pool within budget."""
        with self.ctx.host.lock(entry_lock(record.image_id, pool)):
            won = pool.cache.publish(tmp, record)
            if won:
                self._reread(pool, record.image_id, cacheindex.BOTH)
        if won:
            self.evict(pool, keep=(record.image_id,))
        return won

    def replace(self, pool: Pool, image_id: str, reason: str) -> None:
        """Remove a stale or unusable entry so it can be rebuilt.

        :raises EicError: a reader still clones from it.
        """
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            if pool.cache.live_leases(image_id, self.clock()):
                raise exception.EicError(reason=(
                    'stale cache entry of image %s is being read; not '
                    'replaced now' % image_id))
            LOG.info('Removing cache entry of image %(image)s from FlexVol '
                     '%(vol)s: %(why)s', {'image': image_id,
                                          'vol': pool.flexvol.name,
                                          'why': reason})
            pool.cache.remove(image_id)
            self.index(pool).drop(image_id)

    def adopt(self, pool: Pool, image_meta: ImageMeta) -> str | None:
        """Adopt an entry the in-tree driver built, if its bytes prove to
        be the image's; otherwise remove it and say why (None when the
        entry is now fresh). Call under :meth:`building`."""
        image_id = image_id_of(image_meta)
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            found = self.lookup(pool, image_meta)
            if found.state is not CacheState.LEGACY:
                return None if found.state is CacheState.FRESH else (
                    found.reason or str(found.state))
            record, why = legacy.check(pool.cache, image_meta)
            if record is None:
                LOG.info('Replacing cache entry of image %(image)s in FlexVol '
                         '%(vol)s built by the in-tree driver: %(why)s',
                         {'image': image_id, 'vol': pool.flexvol.name,
                          'why': why})
                if not pool.cache.live_leases(image_id, self.clock()):
                    pool.cache.remove(image_id)
                    self.index(pool).drop(image_id)
                return 'in-tree driver\'s entry replaced: %s' % why
            pool.cache.write_record(record)
            self._reread(pool, image_id, cacheindex.BOTH)
        LOG.info('Adopted cache entry of image %(image)s in FlexVol %(vol)s '
                 'built by the in-tree driver (%(size)d bytes, verified '
                 '%(verified)s).', {'image': image_id,
                                    'vol': pool.flexvol.name,
                                    'size': record.size,
                                    'verified': record.verified})
        return None

    def servable(self, record: records.Record) -> bool:
        """Whether an entry with this (valid) record may be cloned from
        under the settings (verified, or no hash to verify against)."""
        return (record.verified or record.content is None or
                not self.settings.verify_content)

    # -- the index ------------------------------------------------------------

    def index(self, pool: Pool) -> cacheindex.CacheIndex:
        """``pool``'s index, as last revalidated (see :meth:`sync`)."""
        found = self._indexes.get(pool.flexvol.uuid)
        if found is None:
            with self._indexes_lock:
                found = self._indexes.setdefault(
                    pool.flexvol.uuid, cacheindex.CacheIndex(
                        eviction.policy_of(self.settings),
                        self.settings.cache_half_life_uses))
        return found

    def sync(self, pool: Pool, full: bool = False) -> cacheindex.CacheIndex:
        """``pool``'s index, revalidated against its FlexVol root: every
        entry read the first time (or ``full``); later, only when the
        root's modification time moved, its names listed and the entries
        that appeared or changed names read, the gone ones dropped.

        A modification time is coarse (a tick of the file system's clock):
        a change made in the same tick as the one a listing saw leaves it
        unmoved. A listing is trusted to show every change only when its
        time was first seen :data:`SETTLE_SECONDS` before; until then the
        names are listed at every sync."""
        index = self.index(pool)
        with index.syncing:
            stamp = pool.cache.stamp()
            now = self.clock()
            if index.seen[0] != stamp:
                index.seen = (stamp, now)
            if full or index.scanned_at is None:
                names = {image_id: kinds for image_id, kinds in
                         pool.cache.listing().names.items()
                         if 'entry' in kinds}
                index.keep_only(names)
                for image_id, kinds in names.items():
                    self._reread(pool, image_id, kinds)
                index.scanned_at = now
            elif stamp != index.stamp or not index.trusted:
                names = pool.cache.listing().names
                fresh, gone = index.changed(names)
                for image_id in gone:
                    index.drop(image_id)
                for image_id in fresh:
                    self._reread(pool, image_id, names[image_id])
            else:
                return index
            index.stamp = stamp
            index.trusted = now - index.seen[1] >= SETTLE_SECONDS
        return index

    def _reread(self, pool: Pool, image_id: str,
                kinds: cacheindex.Kinds) -> None:
        """Read ``image_id``'s entry into the index (drop it if gone)."""
        index = self.index(pool)
        entry = pool.cache.entry(image_id)
        if entry is None:
            index.drop(image_id)
            return
        index.put(self._indexed(entry, kinds))

    def _indexed(self, entry: cache.Entry,
                 kinds: cacheindex.Kinds = cacheindex.BOTH
                 ) -> cacheindex.Indexed:
        record = entry.record
        return cacheindex.Indexed(
            entry.image_id, entry.size, entry.allocated, entry.last_used,
            1.0, record.created_at if record else 0.0,
            record is not None and entry.problem is None and
            self.servable(record), kinds)

    def report(self, pool: Pool, max_images: int) -> dict[str, typing.Any]:
        """What the scheduler may know of ``pool``'s cache (its
        capabilities): at most ``max_images`` ids of images it holds a
        servable entry for, highest in the eviction policy's order first
        (the likeliest to stay), their count and bytes, and whether the
        pool is over a budget or short of space. Its size is bounded by
        ``max_images`` whatever the cache holds."""
        index = self.sync(pool)
        found = index.report(max_images)
        return {
            'netapp_eic_cached_images': list(found.image_ids),
            'netapp_eic_cached_image_count': found.count,
            'netapp_eic_cache_bytes': found.bytes,
            'netapp_eic_cache_pressure': self._pressure(pool, index),
        }

    def under_pressure(self, pool: Pool) -> bool:
        """Whether ``pool`` is beyond a budget or short of free space."""
        return self._pressure(pool, self.sync(pool))

    def _pressure(self, pool: Pool, index: cacheindex.CacheIndex) -> bool:
        return eviction.over_budget(index.count, index.used, self.settings,
                                    self._space(pool, self.settings))

    # -- eviction -----------------------------------------------------------

    def evict(self, pool: Pool, keep: collections.abc.Container[str] = (),
              budget: Settings | None = None) -> list[str]:
        """Evict entries, in the policy's order, until ``pool`` is within
        budget (the settings' by default); an entry used since it was
        listed or being cloned from stays (and the next one goes).
        Returns the evicted image ids."""
        budget = budget or self.settings
        index = self.sync(pool)
        space = self._space(pool, budget)
        if not eviction.over_budget(index.count, index.used, budget, space):
            return []
        kept: set[str] = set()
        evicted: list[str] = []
        ranked = (eviction.policy_of(budget) is index.policy and
                  budget.cache_half_life_uses == index.half_life)
        while True:
            chosen = eviction.victims(index.entries(), budget, space,
                                      _Either(kept, keep),
                                      _rank if ranked else None)
            if not chosen:
                return evicted
            for victim in chosen:
                if self._evict_one(pool, victim):
                    evicted.append(victim.image_id)
                    if space is not None:
                        space = eviction.Space(
                            space.total, space.available + victim.allocated)
                else:
                    kept.add(victim.image_id)

    def _space(self, pool: Pool, budget: Settings) -> eviction.Space | None:
        if not (budget.space_start_percent or budget.cache_max_percent):
            return None
        try:
            total, available = self.ctx.client.flexvol_space(pool.flexvol)
        except exception.EicError as e:
            LOG.warning('Free space of FlexVol %(vol)s unknown, evicting by '
                        'budget only: %(err)s', {'vol': pool.flexvol.name,
                                                 'err': e})
            return None
        return eviction.Space(total, available)

    def evict_images(self, pool: Pool,
                     image_ids: collections.abc.Iterable[str] | None,
                     used_before: float | None = None) -> list[str]:
        """Evict the entries of ``image_ids`` (every entry: None; an
        operator's request), those last used before ``used_before`` only
        when it is given; an entry being cloned from stays. Returns the
        evicted image ids."""
        if image_ids is None:
            listed = self.sync(pool).entries()
        else:
            found = (pool.cache.entry(i) for i in dict.fromkeys(image_ids))
            listed = [self._indexed(e) for e in found if e is not None]
        evicted = []
        for entry in listed:
            if used_before is not None and entry.last_used >= used_before:
                continue
            if self._evict_one(pool, entry):
                evicted.append(entry.image_id)
        return evicted

    def _evict_one(self, pool: Pool, victim: cacheindex.Indexed) -> bool:
        image_id = victim.image_id
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            now = self.clock()
            current = pool.cache.entry(image_id)
            if current is None:
                self.index(pool).drop(image_id)
                return False
            if current.last_used > victim.last_used:
                LOG.debug('Cache entry %s used since listed; kept', image_id)
                self._reread(pool, image_id, victim.kinds)
                return False
            if pool.cache.live_leases(image_id, now):
                LOG.info('Cache entry of image %(image)s in FlexVol %(vol)s '
                         'is being cloned; not evicted now.',
                         {'image': image_id, 'vol': pool.flexvol.name})
                return False
            pool.cache.remove(image_id)
            self.index(pool).drop(image_id)
        LOG.info('Evicted cache entry of image %(image)s from FlexVol '
                 '%(vol)s (%(bytes)d bytes, last used %(age)d s ago).',
                 {'image': image_id, 'vol': pool.flexvol.name,
                  'bytes': victim.allocated,
                  'age': max(0, now - victim.last_used)})
        self._forget_locks(image_id, pool)
        return True

    def clean(self, pool: Pool) -> list[str]:
        """Remove records without an entry and expired leases (one
        listing); every :data:`RESCAN_SECONDS`, read every record again."""
        removed = []
        listing = pool.cache.listing()
        for image_id, kinds in listing.names.items():
            if kinds != {'record'}:
                continue
            with self.ctx.host.lock(entry_lock(image_id, pool)):
                if pool.cache.entry(image_id) is None:
                    name = records.record_name(image_id)
                    pool.cache.remove_record(name)
                    removed.append(name)
            self._forget_locks(image_id, pool)
        now = self.clock()
        for image_id, leases in listing.leases.items():
            removed += pool.cache.expire_leases(image_id, now, leases)
        scanned = self.index(pool).scanned_at
        self.sync(pool, full=scanned is not None and
                  now - scanned >= RESCAN_SECONDS)
        return removed

    def _forget_locks(self, image_id: str, pool: Pool) -> None:
        for name in (build_lock(image_id, pool), entry_lock(image_id, pool)):
            self.ctx.host.forget_lock(name)


def _rank(entry: cacheindex.Indexed) -> float:
    return entry.rank


class _Either:
    """Names in either of two containers (the caller's ``keep`` may be
    any container; the entries found in use are added to a set)."""

    def __init__(self, first: collections.abc.Container[str],
                 second: collections.abc.Container[str]) -> None:
        self.first = first
        self.second = second

    def __contains__(self, name: object) -> bool:
        return name in self.first or name in self.second
