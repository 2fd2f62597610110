# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The EIC core's entry point: create, explain, register, sweep.

:class:`Engine` is built by the driver from three things: an ONTAP client,
a :class:`~netapp_eic.core.host.Host` and the backend's
:class:`~netapp_eic.core.types.Settings`. It takes plain values
(:class:`~netapp_eic.core.types.CreateRequest`) and returns plain values
(:class:`~netapp_eic.core.types.Outcome`); it never sees Cinder objects or
the driver. A create is: gather facts (read-only,
:mod:`~netapp_eic.core.facts`), plan (pure, :mod:`~netapp_eic.core.planner`),
run the steps (:mod:`~netapp_eic.core.steps`).
"""

import contextlib
import dataclasses
import os
import time
import typing

from oslo_log import log as logging

from netapp_eic import ontap
from netapp_eic.core import breaker
from netapp_eic.core import cache
from netapp_eic.core import cachemanager
from netapp_eic.core import contentcheck
from netapp_eic.core.context import Context
from netapp_eic.core import facts
from netapp_eic.core import failure
from netapp_eic.core import glancemounts
from netapp_eic.core import host as host_mod
from netapp_eic.core import jobkeeper
from netapp_eic.core import materialize
from netapp_eic.core import planner
from netapp_eic.core import steps
from netapp_eic.core.pools import Pool, Pools
from netapp_eic.core import records
from netapp_eic.core import verifications
from netapp_eic.core.types import (CreateRequest, ImageMeta, Outcome, Route,
                                   Registration, Settings)
from netapp_eic import exception

LOG = logging.getLogger(__name__)


class Engine:
    """EIC operations for one backend."""

    def __init__(self, client: ontap.OntapClient, host: host_mod.Host,
                 settings: Settings) -> None:
        self.client = client
        self.host = host
        self.settings = settings
        self.pools = Pools(client, host)
        self.tool_breaker = breaker.Breaker(
            'copy offload tool', settings.copyoffload_breaker_period,
            settings.copyoffload_breaker_longest,
            store=settings.copyoffload_breaker_file)
        ctx = Context(client, host, self.pools, settings, self.tool_breaker)
        # The one place the engine's parts are built, each once.
        self._cache = cachemanager.CacheManager(ctx)
        self._jobs = jobkeeper.JobKeeper(client)
        self._verifications = verifications.Verifications(self.pools)
        self._checker = contentcheck.ContentChecker(ctx, self._verifications)
        self._glance_mounts = glancemounts.GlanceMounts(ctx)
        self._materializer = materialize.Materializer(ctx, self._jobs,
                                                      self._checker)
        self._facts = facts.FactGatherer(ctx, self._cache,
                                         self._glance_mounts)
        self._steps = steps.StepRunner(ctx, self._cache, self._materializer)

    @property
    def cache_manager(self) -> cachemanager.CacheManager:
        """The pools' image cache (entries, records, locks, budgets)."""
        return self._cache

    @property
    def job_keeper(self) -> jobkeeper.JobKeeper:
        """The ONTAP jobs this backend started and has yet to cancel."""
        return self._jobs

    @property
    def content_checker(self) -> contentcheck.ContentChecker:
        """How bytes are checked: records, the array's digest, the host."""
        return self._checker

    @property
    def verifications(self) -> verifications.Verifications:
        """The backend's verification records of Glance files."""
        return self._verifications

    @property
    def glance_mounts(self) -> glancemounts.GlanceMounts:
        """Glance's FlexVols on this host: mounted or not, and why."""
        return self._glance_mounts

    def probe_fingerprints(self) -> str | None:
        """Whether ONTAP fingerprints files of the first mounted pool (see
        :meth:`ContentChecker.probe`): None when it does, else why not;
        "no pool mounted" leaves the question to the first create."""
        if not (self.settings.verify_content and
                self.settings.array_fingerprints):
            return self._checker.fingerprint_problem() or (
                'netapp_eic_verify_image_content is False')
        pools = self.pools.backend_pools()
        if not pools:
            return 'no pool mounted yet'
        return self._checker.probe(pools[0])

    def plan(self, request: CreateRequest) -> planner.Plan:
        """The plan a create would follow; reads only, changes nothing."""
        return planner.plan(self._facts.gather(request)[0])

    def explain(self, request: CreateRequest) -> str:
        """:meth:`plan` as one line of text."""
        return planner.explain(self.plan(request))

    def create(self, request: CreateRequest) -> Outcome:
        """Make the volume file of ``request`` by the fastest path that
        works; ``Outcome.path`` is ``DOWNLOAD`` when none did (and nothing
        created is left behind)."""
        start = time.monotonic()
        try:
            found, dest = self._facts.gather(request)
        except Exception as e:  # any failure here only means "download"
            failure.log_plan_failure(e, 'could not plan', request.volume_id)
            return Outcome(Route.DOWNLOAD, time.monotonic() - start,
                           failures=(('plan', failure.reason_of(e)),))
        return self._follow(found, dest, request, start, self._steps.run)

    def warm(self, request: CreateRequest) -> Outcome:
        """Build the pool's cache entry of ``request``'s image ahead of
        creates (a boot storm), through the same single-flight, checks and
        verification as a create; no volume is made (``volume_name`` is
        not used). See :meth:`StepRunner.warm` for the outcome."""
        start = time.monotonic()
        found, dest = self._facts.gather(request)
        return self._follow(found, dest, request, start, self._steps.warm)

    @staticmethod
    def _follow(found: planner.Facts, dest: Pool | None,
                request: CreateRequest, start: float,
                follow: typing.Callable[[planner.Plan, CreateRequest, Pool],
                                        Outcome]) -> Outcome:
        """Plan from ``found`` and ``follow`` the plan into ``dest`` (a
        download, with the reasons, when there is no usable ``dest``)."""
        plan = planner.plan(found)
        if dest is None:
            outcome = Outcome(Route.DOWNLOAD, skipped=tuple(
                '%s: %s' % pair for pair in plan.skipped))
        else:
            outcome = follow(plan, request, dest)
        return dataclasses.replace(outcome,
                                   seconds=time.monotonic() - start)

    def discard(self, request: CreateRequest) -> None:
        """Remove the volume file of ``request`` (the driver could not
        finish it); never raises."""
        try:
            dest = self.pools.get(request.pool)
        except exception.EicError as e:
            LOG.warning('Could not resolve pool %(pool)s to remove volume '
                        'file %(name)s: %(err)s', {
                            'pool': request.pool,
                            'name': request.volume_name, 'err': e})
            return
        self._steps.discard(dest, request.volume_name)

    def register(self, volume_name: str, pool: str, image_meta: ImageMeta,
                 image_size: int) -> tuple[Registration, str]:
        """Publish a downloaded volume's first ``image_size`` bytes (the
        image's real virtual size) as the pool's cache entry.

        :returns: what was done, and why when nothing was.
        """
        if not self.settings.cache_enabled:
            return Registration.SKIPPED, 'netapp_eic_cache_enabled is False'
        return self._steps.register(volume_name, self.pools.get(pool),
                                    image_meta, image_size)

    def pool_report(self, share: str, max_images: int) -> dict[str, object]:
        """What the scheduler may know of a pool's cache (see
        :meth:`CacheManager.report <netapp_eic.core.cachemanager.
        CacheManager.report>`: at most ``max_images`` image ids, from the
        pool's index, not a listing), and the images seen with their Glance
        file in its FlexVol (a direct clone of them is possible there),
        most recently seen first."""
        pool = self.pools.get(share)
        report = self._cache.report(pool, max_images)
        report['netapp_eic_direct_clone_images'] = \
            self._facts.local_images.recent(pool.flexvol.uuid, max_images)
        return report

    def cache_entries(self, share: str) -> list[cache.Entry]:
        """The cache entries of a pool, most recently used first."""
        entries = self.pools.get(share).cache.entries()
        return sorted(entries, key=lambda e: e.last_used, reverse=True)

    def evict(self, share: str, image_id: str | None = None,
              older_than: float | None = None) -> list[str]:
        """Evict from a pool: the entry of ``image_id``, the entries
        unused for ``older_than`` seconds, or (neither given) down to the
        budgets. An entry being cloned from stays. Returns the image ids
        evicted."""
        pool = self.pools.get(share)
        manager = self._cache
        if image_id is None and older_than is None:
            return manager.evict(pool)
        cutoff = None if older_than is None else time.time() - older_than
        return manager.evict_images(
            pool, None if image_id is None else [image_id], cutoff)

    def maintain(self, max_temp_age: float) -> dict[str, list[str]]:
        """The periodic cache task of every mounted pool: evict down to
        the budgets (least recently used first), remove records without an
        entry and expired leases, and temporaries older than
        ``max_temp_age``; cancel the File Copy jobs whose cancellation
        failed; remove verification records of files changed or gone.
        Returns what was removed from the caches, by share."""
        removed: dict[str, list[str]] = {}
        self._jobs.cancel_orphans()
        try:
            stale = self._verifications.sweep(self.client)
        except (OSError, exception.EicError) as e:
            failure.log_failure(e, 'Sweep of verification records failed',
                                {})
            stale = []
        if stale:
            LOG.info('Removed %(n)d verification records of files changed '
                     'or gone: %(names)s', {'n': len(stale),
                                            'names': ', '.join(stale)})
        for pool in self.pools.mounted():
            try:
                gone = [records.entry_name(i) for i in
                        self._cache.evict(pool)]
                gone += self._cache.clean(pool)
                gone += self._sweep(pool, max_temp_age)
            except (OSError, exception.EicError) as e:
                failure.log_failure(e, 'Cache maintenance of pool %(pool)s '
                                    'failed', {'pool': pool.share})
                continue
            removed[pool.share] = gone
        return removed

    def _sweep(self, pool: Pool, max_age: float) -> list[str]:
        """Remove what interrupted creates left: ``.eic-tmp-*`` files older
        than ``max_age`` seconds (the longest a copy may run), unless the
        build lock of the image they were made for is held now (on this
        host, or on any host with a distributed lock manager): a
        conversion may outlast the copy that fed it."""
        removed = []
        cutoff = time.time() - max_age
        for name in os.listdir(pool.mount_dir):
            if not name.startswith(records.TEMP_PREFIX):
                continue
            try:
                old = os.lstat(pool.local(name)).st_mtime < cutoff
            except FileNotFoundError:
                continue
            if old and self._sweep_one(pool, name):
                removed.append(name)
        return removed

    def _sweep_one(self, pool: Pool, name: str) -> bool:
        image_id = materialize.image_of_temp(name)
        lock = (self.host.try_lock(cachemanager.build_lock(image_id, pool))
                if image_id else contextlib.nullcontext(True))
        with lock as free:
            if not free:
                LOG.debug('Keeping %(name)s: the build lock of image '
                          '%(image)s is held.', {'name': name,
                                                 'image': image_id})
                return False
            LOG.info('Removing stale temporary file %(name)s from FlexVol '
                     '%(vol)s.', {'name': name, 'vol': pool.flexvol.name})
            self._materializer.delete(pool, name)
        return True
