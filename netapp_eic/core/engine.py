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
import os
import time

from oslo_log import log as logging

from netapp_eic import ontap
from netapp_eic.core import cache
from netapp_eic.core.context import Context
from netapp_eic.core import facts
from netapp_eic.core import failure
from netapp_eic.core import host as host_mod
from netapp_eic.core import materialize
from netapp_eic.core import planner
from netapp_eic.core import steps
from netapp_eic.core.pools import Pool, Pools
from netapp_eic.core.types import (CreateRequest, ImageMeta, Outcome, Path,
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
        ctx = Context(client, host, self.pools, settings)
        self._facts = facts.FactGatherer(ctx)
        self._steps = steps.StepRunner(ctx)

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
            return Outcome(Path.DOWNLOAD, time.monotonic() - start,
                           failures=[('plan', failure.reason_of(e))])
        the_plan = planner.plan(found)
        if dest is None:
            outcome = Outcome(Path.DOWNLOAD, skipped=[
                '%s: %s' % pair for pair in the_plan.skipped])
        else:
            outcome = self._steps.run(the_plan, request, dest)
        outcome.seconds = time.monotonic() - start
        return outcome

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

    def register(self, volume_name: str, pool: str,
                 image_meta: ImageMeta) -> tuple[Registration, str]:
        """Publish a downloaded volume's image as the pool's cache entry.

        :returns: what was done, and why when nothing was.
        """
        if not self.settings.cache_enabled:
            return Registration.SKIPPED, 'netapp_eic_cache_enabled is False'
        return self._steps.register(volume_name, self.pools.get(pool),
                                    image_meta)

    def sweep_temporaries(self, max_age: float) -> list[str]:
        """Remove what interrupted creates left: cancel the File Copy jobs
        whose cancellation failed, and remove ``.eic-tmp-*`` files older
        than ``max_age`` seconds (the longest a copy may run) from every
        mounted pool, unless the image lock they were made under is held
        now (on this host, or on any host with a distributed lock
        manager): a conversion may outlast the copy that fed it.

        :returns: the names removed.
        """
        self._steps.make.jobs.cancel_orphans()
        removed = []
        cutoff = time.time() - max_age
        for pool in self.pools.mounted():
            for name in os.listdir(pool.mount_dir):
                if not name.startswith(cache.TEMP_PREFIX):
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
        lock = (self.host.try_lock(steps.lock_name(image_id, pool))
                if image_id else contextlib.nullcontext(True))
        with lock as free:
            if not free:
                LOG.debug('Keeping %(name)s: the lock of image %(image)s '
                          'is held.', {'name': name, 'image': image_id})
                return False
            LOG.info('Removing stale temporary file %(name)s from FlexVol '
                     '%(vol)s.', {'name': name, 'vol': pool.flexvol.name})
            self._steps.make.delete(pool, name)
        return True
