# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cloud replay: a trace through the shipped cache manager, eviction
policy and scheduler weigher, on in-memory pools and a simulated clock.

Each cinder-volume host is a :class:`netapp_eic.core.cachemanager.
CacheManager` (its own index, the shipped class) over its backend's pools
(:mod:`cloud_store`, shared by the backend's hosts as FlexVols are). A
boot is placed as Cinder's scheduler places it: among its candidate pools
(the filters' survivors), by ``CapacityWeigher`` (free bytes) and, when on,
``netapp_eic.scheduler.ImageCacheWeigher`` (the shipped ``_weigh_object``)
reading each pool's last report, each weigher's weights normalized by
Cinder's own ``normalize`` and multiplied. A pool's report is what
``CacheManager.report`` returns through one of its backend's hosts, rebuilt
at most once per stats period. Then a random host of the pool's backend
runs the create's cache steps in the order ``StepRunner`` runs them: a
lookup, and on a miss the build lock, a recheck, one File Copy and the
publish (which evicts to the budget), then the reader's lease and the
clone. Each volume occupies the pool's space while it lives; the periodic
cache task (evict, clean, and the index's rescan when due) runs on one host
of each backend in turn.
"""

import dataclasses
import heapq
import json
import random
import time

from cinder.scheduler import base_weight

from netapp_eic.core import cachemanager
from netapp_eic.core.context import Context
from netapp_eic.core import eviction
from netapp_eic.core import records
from netapp_eic.core.types import CacheState, Settings
from netapp_eic import scheduler

import cloud_store
import cloud_trace

GIB = cloud_trace.GIB
TIB = 1024 * GIB
DAY = cloud_trace.DAY


@dataclasses.dataclass(frozen=True)
class Config:
    """One replay's settings (defaults: the README's)."""

    policy: str = 'gdsf'
    budget_percent: int = 20
    half_life_uses: int = 250
    weigher: bool = True
    multiplier: float = 2.0
    prewarm: bool = False
    #: Pools each upload is warmed into, per group of candidates (zone),
    #: those with the most free space.
    prewarm_pools: int = 1
    max_images: int = 100
    pool_tib: float = 4.0
    hosts: int = 100
    pools_per_backend: int = 2
    stats_seconds: float = 60.0
    maintain_hours: float = 24.0
    volume_gib: float = 10.0
    volume_days: float = 2.0
    space_start_percent: int = 20
    space_stop_percent: int = 60
    seed: int = 7

    def settings(self):
        return Settings(cache_max_percent=self.budget_percent,
                        cache_eviction_policy=self.policy,
                        cache_half_life_uses=self.half_life_uses,
                        space_start_percent=self.space_start_percent,
                        space_stop_percent=self.space_stop_percent)


@dataclasses.dataclass
class Result:
    """What one replay measured."""

    config: Config
    days: int
    pools: int
    boots: int = 0
    hits: int = 0
    copies: int = 0
    copied: int = 0
    warm_copies: int = 0
    warm_copied: int = 0
    #: Daily snapshots of each pool's cache bytes, and of the bytes of
    #: each pool's report (its cache capabilities as JSON).
    cache_bytes: list = dataclasses.field(default_factory=list)
    report_bytes: list = dataclasses.field(default_factory=list)
    daily_copied: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def hit_ratio(self):
        return self.hits / self.boots if self.boots else 0.0

    def per_day(self, value):
        return value / max(self.days, 1)


class _State:
    """What a weigher reads of a pool (Cinder's ``PoolState``)."""

    __slots__ = ('capabilities',)

    def __init__(self, capabilities):
        self.capabilities = capabilities


class _Host:
    """A cinder-volume host: the shipped cache manager on its clock."""

    def __init__(self, world, settings):
        ctx = Context(world, cloud_store.MemoryHost(), None, settings, None)
        self.manager = cachemanager.CacheManager(ctx, clock=world.clock)


class Replay:
    """One run of a trace under one :class:`Config`."""

    def __init__(self, config, events, pool_names):
        self.config = config
        self.events = events
        self.rng = random.Random(config.seed)
        self.world = cloud_store.World(pool_names,
                                       int(config.pool_tib * TIB))
        self.settings = settings = config.settings()
        backends = [pool_names[i:i + config.pools_per_backend] for i in
                    range(0, len(pool_names), config.pools_per_backend)]
        per_backend = max(1, config.hosts // len(backends))
        self.hosts_of = {}
        self.backends = []
        for names in backends:
            hosts = [_Host(self.world, settings) for _ in range(per_backend)]
            self.backends.append((names, hosts))
            for name in names:
                self.hosts_of[name] = hosts
        self.reporters = per_backend
        self.all_pools = tuple(pool_names)
        self.groups = _groups(events, self.all_pools)
        self.reports = {}
        self.pressures = {}
        self.weigher = scheduler.ImageCacheWeigher()
        self.volumes = []
        self.metas = {}
        self.result = Result(config, days=_days(events),
                             pools=len(pool_names))

    # -- the run --------------------------------------------------------------

    def run(self):
        started = time.perf_counter()
        clock = self.world.clock
        maintain_every = self.config.maintain_hours * 3600.0
        next_maintain = maintain_every
        next_day = DAY
        turn = 0
        copied_before = 0
        for event in self.events:
            while event.time >= min(next_day, next_maintain):
                if next_day <= next_maintain:
                    clock.now = next_day
                    self._snapshot(copied_before)
                    copied_before = self._copied()
                    next_day += DAY
                else:
                    clock.now = next_maintain
                    self._maintain(turn)
                    turn += 1
                    next_maintain += maintain_every
            clock.now = event.time
            self._expire_volumes()
            if event.kind == cloud_trace.BOOT:
                self._boot(event)
            elif event.kind == cloud_trace.UPLOAD:
                self._upload(event)
            else:
                self._delete(event)
        self._snapshot(copied_before)
        self.result.seconds = time.perf_counter() - started
        return self.result

    def _copied(self):
        return self.result.copied + self.result.warm_copied

    def _boot(self, event):
        pool = self.world.pools[self._place(event)]
        hit = self._create(pool, event.image_id, event.size)
        result = self.result
        result.boots += 1
        result.hits += hit
        lifetime = self.rng.expovariate(1.0 / (self.config.volume_days *
                                               DAY))
        size = int(self.config.volume_gib * GIB)
        heapq.heappush(self.volumes, (event.time + lifetime, pool.flexvol.name,
                                      size))
        self.world.volume_bytes[pool.flexvol.name] += size

    def _create(self, pool, image_id, size):
        """A create's cache steps (see ``StepRunner._run_step``); True
        when it cloned an entry it did not build."""
        manager = self._host(pool).manager
        meta = self._meta(image_id)
        if manager.lookup(pool, meta).state is CacheState.FRESH:
            with manager.reading(pool, meta):
                return True
        with manager.building(pool, image_id):
            built = manager.lookup(pool, meta).state is not CacheState.FRESH
            if built:
                self.result.copies += 1
                self.result.copied += size
                self._publish(manager, pool, meta, size)
        with manager.reading(pool, meta):
            return not built

    def _publish(self, manager, pool, meta, size):
        now = self.world.clock.now
        record = records.Record(meta['id'], records.content_id(meta), 'raw',
                                size, now, now, 'file-copy', True, 'replay')
        manager.publish(pool, pool.cache.temp(), record)

    def _upload(self, event):
        """Pre-warm (the agent): the image copied into the pools with the
        most free space of each group of candidates."""
        if not self.config.prewarm:
            return
        for group in self.groups:
            for name in sorted(group, key=self.world.free,
                               reverse=True)[:self.config.prewarm_pools]:
                pool = self.world.pools[name]
                manager = self._host(pool).manager
                meta = self._meta(event.image_id)
                with manager.building(pool, event.image_id):
                    if manager.lookup(pool, meta).state is CacheState.FRESH:
                        continue
                    self.result.warm_copies += 1
                    self.result.warm_copied += event.size
                    self._publish(manager, pool, meta, event.size)

    def _delete(self, event):
        """The agent removes a deleted image's entries (without it they
        stay until evicted)."""
        self.metas.pop(event.image_id, None)
        if not self.config.prewarm:
            return
        for pool in self.world.pools.values():
            if event.image_id in pool.cache.records:
                self._host(pool).manager.evict_images(pool,
                                                      [event.image_id])

    def _maintain(self, turn):
        """The periodic cache task, on one host of each backend."""
        for names, hosts in self.backends:
            manager = hosts[turn % len(hosts)].manager
            for name in names:
                pool = self.world.pools[name]
                manager.evict(pool)
                manager.clean(pool)

    def _expire_volumes(self):
        now = self.world.clock.now
        while self.volumes and self.volumes[0][0] <= now:
            _end, name, size = heapq.heappop(self.volumes)
            self.world.volume_bytes[name] -= size

    def _snapshot(self, copied_before):
        """A day's end: each pool's cache bytes and report size."""
        result = self.result
        result.daily_copied.append(self._copied() - copied_before)
        for name, pool in self.world.pools.items():
            result.cache_bytes.append(pool.cache.allocated)
            result.report_bytes.append(len(json.dumps(self._report(name))))

    # -- placement ------------------------------------------------------------

    def _place(self, event):
        candidates = event.candidates or self.all_pools
        free = [self.world.free(name) for name in candidates]
        total = list(base_weight.normalize(free))
        if self.config.weigher and self.config.multiplier:
            props = {'request_spec': {'image_id': event.image_id}}
            cached = [self.weigher._weigh_object(
                _State(self._report(name)), props) for name in candidates]
            for i, weight in enumerate(base_weight.normalize(cached)):
                total[i] += self.config.multiplier * weight
        best = max(range(len(candidates)), key=total.__getitem__)
        return candidates[best]

    def _report(self, name):
        """The pool's capabilities as the scheduler last received them:
        ``CacheManager.report`` through a host of its backend, once a
        stats period. (A period in which no entry came or went, the report
        left none out and the pool's pressure stayed the same would report
        the same: the previous one is kept, to save the replay's time.)"""
        now = self.world.clock.now
        found = self.reports.get(name)
        if found is not None and now - found[0] < self.config.stats_seconds:
            return found[1]
        pool = self.world.pools[name]
        pressure = self._pressure(pool)
        if found is None or found[2] != pool.cache.members or (
                found[1]['netapp_eic_cached_image_count'] >
                self.config.max_images) or (
                found[1]['netapp_eic_cache_pressure'] != pressure):
            report = self._host(pool).manager.report(pool,
                                                     self.config.max_images)
            report['netapp_eic_version'] = '1'
            found = (now, report, pool.cache.members)
        self.reports[name] = (now,) + found[1:]
        return found[1]

    def _pressure(self, pool):
        name = pool.flexvol.name
        state = (pool.cache.members, pool.cache.allocated,
                 self.world.volume_bytes[name])
        found = self.pressures.get(name)
        if found is None or found[0] != state:
            space = eviction.Space(*self.world.flexvol_space(pool.flexvol))
            found = self.pressures[name] = (state, eviction.over_budget(
                len(pool.cache.records), pool.cache.allocated,
                self.settings, space))
        return found[1]

    def _host(self, pool):
        return self.rng.choice(self.hosts_of[pool.flexvol.name])

    def _meta(self, image_id):
        meta = self.metas.get(image_id)
        if meta is None:
            meta = self.metas[image_id] = {
                'id': image_id, 'disk_format': 'raw',
                'os_hash_algo': 'sha512', 'os_hash_value': image_id}
        return meta


def replay(config, events, pool_names):
    return Replay(config, events, pool_names).run()


def _days(events):
    return max(1, int(round(events[-1].time / DAY))) if events else 1


def _groups(events, all_pools):
    """The distinct candidate sets of the boots (the zones); every pool as
    one group when there are more than 20."""
    groups = []
    seen = set()
    for event in events:
        if event.kind == cloud_trace.BOOT and event.candidates not in seen:
            seen.add(event.candidates)
            groups.append(event.candidates or all_pools)
            if len(groups) > 20:
                return [all_pools]
    return groups or [all_pools]
