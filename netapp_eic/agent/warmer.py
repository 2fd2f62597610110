# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""One image warmed into the pools, or removed from them; one INFO line.

Warming asks Glance for the image and its locations (a notification holds
neither, nor Glance's hash), applies the policy, then builds each chosen
pool's entry through :meth:`Engine.warm`: the create's own single-flight
build lock, checks and verification (array fingerprint, shared record or
host hash), so a boot arriving meanwhile waits for the warm and makes no
second copy, and two agents sharing a lock store copy once. Each copy
holds a copy slot (:mod:`.bounds`) and counts against the hour's bytes.

Removing, after Glance confirms the image is gone, evicts the image's
entries from every pool of the backend (an entry a create is cloning from
stays and is retried, as eviction does) and forgets its verification
records.
"""

import dataclasses
import socket
import threading
import time
import typing

from oslo_log import log as logging

from netapp_eic.agent import bounds
from netapp_eic.agent import events
from netapp_eic.agent import glanceapi
from netapp_eic.agent import policy as policy_mod
from netapp_eic.agent import provenance
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import (CacheState, CreateRequest, Outcome,
                                   Route, Settings)
from netapp_eic import exception

LOG = logging.getLogger(__name__)

#: Verdicts of :class:`Result`.
WARMED, PRESENT, SKIPPED, REMOVED, FAILED, DEFERRED = (
    'warmed', 'present', 'skipped', 'removed', 'failed', 'deferred')
GONE_STATUSES = ('deleted', 'pending_delete', 'killed')
#: Statuses Glance still shows for a moment after it sent
#: ``image.activate`` (the notification leaves before the status is
#: committed): the activate is tried again shortly.
SETTLING_STATUSES = ('saving', 'importing', 'uploading', 'queued')
#: Tries of such an activate, and the pause between two.
SETTLE_TRIES = 5
SETTLE_PAUSE = 1.0
#: ``return_timeout`` of the agent's File Copy requests: ONTAP answers
#: within it and the copy is then polled, so a stop cancels the copy at
#: its next poll instead of after a request held until the copy ends.
RETURN_TIMEOUT = 1


def agent_settings(settings: Settings) -> Settings:
    """The backend's settings as the agent's engine uses them."""
    return dataclasses.replace(settings, file_copy_return_timeout=min(
        settings.file_copy_return_timeout, RETURN_TIMEOUT))


@dataclasses.dataclass(frozen=True)
class Result:
    """What became of one image."""

    image_id: str
    cause: str
    verdict: str
    seconds: float
    pools: tuple[str, ...] = ()
    verified: str = ''
    reason: str = ''

    def line(self) -> str:
        text = 'Image %s (%s): %s' % (self.image_id, self.cause,
                                      self.verdict)
        if self.pools:
            text += ' in %s' % ', '.join(self.pools)
        text += ' in %.1f s' % self.seconds
        if self.verified:
            text += '; verified: %s' % self.verified
        if self.reason:
            text += '; %s' % self.reason
        return text


@dataclasses.dataclass
class Bounds:
    slots: bounds.CopySlots
    hourly: bounds.HourlyBytes
    stop: threading.Event
    #: Tries of a Glance request before the image is left to the
    #: reconcile, and the first pause between them (doubling).
    glance_tries: int = 3
    glance_pause: float = 1.0


class Warmer:
    """Warms and removes images for one backend."""

    def __init__(self, eic: engine_mod.Engine, glance: glanceapi.GlanceApi,
                 policy: policy_mod.Policy, limits: Bounds,
                 host: str | None = None) -> None:
        self.eic = eic
        self.glance = glance
        self.policy = policy
        self.limits = limits
        self.host = host or socket.gethostname()

    def handle(self, event: events.Event) -> Result:
        """Act on ``event``; log and return its result. Raises only
        :class:`~.bounds.Stopped`."""
        start = time.monotonic()
        try:
            if event.kind is events.Kind.REMOVE:
                result = self._remove(event, start)
            else:
                result = self._warm(event, start)
        except glanceapi.GlanceUnavailable as e:
            result = self._result(event, start, DEFERRED, reason=(
                '%s; left to the next reconcile' % e))
        except (exception.EicError, OSError) as e:
            result = self._result(event, start, FAILED, reason=str(e))
        (LOG.warning if result.verdict == FAILED else LOG.info)(
            '%s', result.line())
        return result

    @staticmethod
    def _result(event: events.Event, start: float, verdict: str,
                **fields: typing.Any) -> Result:
        return Result(event.image_id, event.cause, verdict,
                      time.monotonic() - start, **fields)

    def _ask(self, what: typing.Callable[[], typing.Any]) -> typing.Any:
        """``what()``, tried again while Glance is unavailable."""
        pause = self.limits.glance_pause
        for attempt in range(self.limits.glance_tries):
            try:
                return what()
            except glanceapi.GlanceUnavailable:
                if attempt + 1 == self.limits.glance_tries:
                    raise
            if self.limits.stop.wait(pause):
                raise bounds.Stopped()
            pause *= 2
        raise AssertionError('unreachable')

    # -- warm ---------------------------------------------------------------

    def _warm(self, event: events.Event, start: float) -> Result:
        meta = self._ask(lambda: self.glance.image(event.image_id))
        if meta is None:
            return self._result(event, start, SKIPPED,
                                reason='Glance does not know the image '
                                       '(deleted, or never was)')
        if event.cause == 'image.activate' and \
                meta.get('status') in SETTLING_STATUSES and \
                event.attempt + 1 < SETTLE_TRIES:
            return self._result(event, start, DEFERRED, reason=(
                'Glance still shows status %s; tried again in %.0f s' % (
                    meta.get('status'), SETTLE_PAUSE)))
        why = policy_mod.why_not(self.policy, meta)
        size = policy_mod.image_size(meta)
        why = why or self.limits.hourly.too_large(size)
        if why:
            return self._result(event, start, SKIPPED, reason=why)
        location = self._ask(lambda: self.glance.location(event.image_id,
                                                          meta))
        shares, left_out = policy_mod.choose_pools(
            self.policy, self._free(), size, self._holding(meta))
        if not shares:
            return self._result(event, start, SKIPPED, reason='; '.join(
                ['no pool to warm into'] + left_out))
        built, present, problems, verified = [], [], list(left_out), set()
        for share in shares:
            outcome = self._warm_pool(share, meta, location, size, event)
            if outcome is None or outcome.path is Route.CACHE_CLONE:
                present.append(share)
            elif outcome.path is Route.DOWNLOAD:
                problems.append('%s: %s' % (share, _why(outcome)))
            else:
                built.append(share)
                verified.add(outcome.verified)
        verdict = WARMED if built else PRESENT if present else FAILED
        if present and built:
            problems.insert(0, 'already there in %s' % ', '.join(present))
        return self._result(event, start, verdict,
                            pools=tuple(built or present),
                            verified='; '.join(sorted(v for v in verified
                                                      if v)),
                            reason='; '.join(problems))

    def _free(self) -> dict[str, int]:
        free = {}
        for pool in self.eic.pools.backend_pools():
            try:
                free[pool.share] = self.eic.client.flexvol_space(
                    pool.flexvol)[1]
            except exception.EicError:
                free[pool.share] = -1
        return free

    def _holding(self, meta: dict[str, typing.Any]) -> set[str]:
        """The pools holding a fresh entry of the image."""
        return {pool.share for pool in self.eic.pools.backend_pools()
                if self.eic.cache_manager.lookup(pool, meta).state is
                CacheState.FRESH}

    def _warm_pool(self, share: str, meta: dict[str, typing.Any],
                   location: glanceapi.Location, size: int,
                   event: events.Event) -> Outcome | None:
        """The outcome of warming ``share``; None when its entry is fresh
        already (no slot, no bytes spent)."""
        pool = self.eic.pools.get(share)
        if self.eic.cache_manager.lookup(pool, meta).state is \
                CacheState.FRESH:
            return None
        self._wait_for_hour(size)
        with self.limits.slots.slot():
            outcome = self.eic.warm(CreateRequest(
                volume_id='agent', volume_name='volume-agent',
                size_bytes=max(size, 1), pool=share, image_meta=meta,
                image_location=location))
        if outcome.path not in (Route.CACHE_CLONE, Route.DOWNLOAD):
            self.limits.hourly.spend(size)
            provenance.write(pool.mount_dir, provenance.Mark(
                event.image_id, self.host, event.cause, time.time()))
        return outcome

    def _wait_for_hour(self, size: int) -> None:
        while True:
            wait = self.limits.hourly.wait_for(size)
            if wait <= 0:
                return
            LOG.info('Image copy waits %.0f s for the hour\'s bytes '
                     '(netapp_eic_agent_max_gb_per_hour).', wait)
            if self.limits.stop.wait(min(wait, 60.0)):
                raise bounds.Stopped()

    # -- remove -------------------------------------------------------------

    def _remove(self, event: events.Event, start: float) -> Result:
        meta = self._ask(lambda: self.glance.image(event.image_id))
        if meta is not None and meta.get('status') not in GONE_STATUSES:
            return self._result(event, start, SKIPPED, reason=(
                'Glance still has the image (status %s): nothing removed'
                % meta.get('status')))
        removed, kept = [], []
        for pool in self.eic.pools.backend_pools():
            if self.eic.evict(pool.share, event.image_id):
                removed.append(pool.share)
            if pool.cache.entry(event.image_id) is not None:
                kept.append(pool.share)
            else:
                provenance.remove(pool.mount_dir, event.image_id)
        records = self.eic.verifications.forget(event.image_id)
        detail = '%d verification record(s) removed' % records
        if kept:
            return self._result(event, start, DEFERRED, pools=tuple(removed),
                                reason='%s; being cloned from in %s, '
                                       'removed after the clone' % (
                                           detail, ', '.join(kept)))
        return self._result(event, start, REMOVED, pools=tuple(removed),
                            reason=detail)


def _why(outcome: Outcome) -> str:
    failures = ['%s failed: %s' % pair for pair in outcome.failures]
    return '; '.join(failures + list(outcome.skipped)) or 'not built'
