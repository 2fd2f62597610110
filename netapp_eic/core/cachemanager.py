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
"""

import collections.abc
import contextlib
import time

from oslo_log import log as logging

from netapp_eic.core import cache
from netapp_eic.core.context import Context
from netapp_eic.core import eviction
from netapp_eic.core import legacy
from netapp_eic.core.pools import Pool
from netapp_eic.core import records
from netapp_eic.core.types import CacheState, ImageMeta, Settings
from netapp_eic import exception

LOG = logging.getLogger(__name__)

#: How long a reader's lease protects an entry; longer than any clone.
LEASE_SECONDS = 600.0


def build_lock(image_id: str, pool: Pool) -> str:
    return 'netapp-eic-build-%s-%s' % (image_id, pool.flexvol.uuid)


def entry_lock(image_id: str, pool: Pool) -> str:
    return 'netapp-eic-entry-%s-%s' % (image_id, pool.flexvol.uuid)


class CacheManager:
    """The cache of every pool of a backend."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    def lookup(self, pool: Pool, image_meta: ImageMeta) -> cache.Lookup:
        """The state of the image's entry in ``pool``; reads only."""
        return pool.cache.lookup(str(image_meta['id']),
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
        image_id = str(image_meta['id'])
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
                pool.cache.mark_used(found.record, time.time())

    def publish(self, pool: Pool, tmp: str, record: records.Record) -> bool:
        """Publish ``tmp`` as the entry, unless one exists (then ``tmp`` is
        removed and False returned); then keep the pool within budget."""
        with self.ctx.host.lock(entry_lock(record.image_id, pool)):
            won = pool.cache.publish(tmp, record)
        if won:
            self.evict(pool, keep=(record.image_id,))
        return won

    def replace(self, pool: Pool, image_id: str, reason: str) -> None:
        """Remove a stale or unusable entry so it can be rebuilt.

        :raises EicError: a reader still clones from it.
        """
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            if pool.cache.live_leases(image_id, time.time()):
                raise exception.EicError(reason=(
                    'stale cache entry of image %s is being read; not '
                    'replaced now' % image_id))
            LOG.info('Removing cache entry of image %(image)s from FlexVol '
                     '%(vol)s: %(why)s', {'image': image_id,
                                          'vol': pool.flexvol.name,
                                          'why': reason})
            pool.cache.remove(image_id)

    def adopt(self, pool: Pool, image_meta: ImageMeta) -> str | None:
        """Adopt an entry the in-tree driver built, if its bytes prove to
        be the image's; otherwise remove it and say why (None when the
        entry is now fresh). Call under :meth:`building`."""
        image_id = str(image_meta['id'])
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
                if not pool.cache.live_leases(image_id, time.time()):
                    pool.cache.remove(image_id)
                return 'in-tree driver\'s entry replaced: %s' % why
            pool.cache.write_record(record)
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

    def under_pressure(self, pool: Pool) -> bool:
        """Whether ``pool`` is beyond a budget or short of free space."""
        return bool(eviction.victims(pool.cache.entries(), self.settings,
                                     self._space(pool)))

    # -- eviction -----------------------------------------------------------

    def evict(self, pool: Pool, keep: collections.abc.Container[str] = (),
              budget: Settings | None = None) -> list[str]:
        """Evict least-recently-used entries until ``pool`` is within
        budget (the settings' by default); returns the evicted image ids."""
        chosen = eviction.victims(pool.cache.entries(),
                                  budget or self.settings, self._space(pool),
                                  keep)
        evicted = []
        for victim in chosen:
            if self._evict_one(pool, victim):
                evicted.append(victim.image_id)
        return evicted

    def _space(self, pool: Pool) -> eviction.Space | None:
        if not self.settings.space_start_percent:
            return None
        try:
            total, available = self.ctx.client.flexvol_space(pool.flexvol)
        except exception.EicError as e:
            LOG.warning('Free space of FlexVol %(vol)s unknown, evicting by '
                        'budget only: %(err)s', {'vol': pool.flexvol.name,
                                                 'err': e})
            return None
        return eviction.Space(total, available)

    def evict_images(self, pool: Pool, image_ids: collections.abc.Iterable[
            str], used_before: float | None = None) -> list[str]:
        """Evict the entries of ``image_ids`` (an operator's request),
        those last used before ``used_before`` only when it is given; an
        entry being cloned from stays. Returns the evicted image ids."""
        wanted = set(image_ids)
        evicted = []
        for entry in pool.cache.entries():
            if entry.image_id not in wanted:
                continue
            if used_before is not None and entry.last_used >= used_before:
                continue
            if self._evict_one(pool, entry):
                evicted.append(entry.image_id)
        return evicted

    def _evict_one(self, pool: Pool, victim: cache.Entry) -> bool:
        image_id = victim.image_id
        with self.ctx.host.lock(entry_lock(image_id, pool)):
            now = time.time()
            current = pool.cache.entry(image_id)
            if current is None:
                return False
            if current.last_used > victim.last_used:
                LOG.debug('Cache entry %s used since listed; kept', image_id)
                return False
            if pool.cache.live_leases(image_id, now):
                LOG.info('Cache entry of image %(image)s in FlexVol %(vol)s '
                         'is being cloned; not evicted now.',
                         {'image': image_id, 'vol': pool.flexvol.name})
                return False
            pool.cache.remove(image_id)
        LOG.info('Evicted cache entry of image %(image)s from FlexVol '
                 '%(vol)s (%(bytes)d bytes, last used %(age)d s ago).',
                 {'image': image_id, 'vol': pool.flexvol.name,
                  'bytes': victim.allocated,
                  'age': max(0, now - victim.last_used)})
        self._forget_locks(image_id, pool)
        return True

    def clean(self, pool: Pool) -> list[str]:
        """Remove records without an entry and expired leases."""
        removed = []
        for name in pool.cache.orphans():
            image_id = records.image_id_of(name) or ''
            with self.ctx.host.lock(entry_lock(image_id, pool)):
                if pool.cache.entry(image_id) is None:
                    pool.cache.remove_record(name)
                    removed.append(name)
            self._forget_locks(image_id, pool)
        for entry in pool.cache.entries():
            removed += pool.cache.expire_leases(entry.image_id, time.time())
        return removed

    def _forget_locks(self, image_id: str, pool: Pool) -> None:
        for name in (build_lock(image_id, pool), entry_lock(image_id, pool)):
            self.ctx.host.forget_lock(name)
