# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The long-running agent: notifications in, images warmed or removed.

Threads: oslo.messaging's listener hands each notification to
:class:`WorkQueue` (at most one pending action per image: a removal is
never replaced by a late activate, and an image is never worked on by two
threads); ``workers`` threads run :class:`~.warmer.Warmer`; the main
thread reconciles through the Glance API at start and every interval, and
sooner after Glance was unavailable. A stop (SIGTERM) stops the listener,
and a copy in progress is cancelled at its next progress poll: its job
cancelled and its temporary file removed, as any failed copy's.
"""

import collections
import contextlib
import dataclasses
import os
import threading
import time
import typing

from oslo_log import log as logging

from netapp_eic.agent import agentstate
from netapp_eic.agent import bounds
from netapp_eic.agent import events
from netapp_eic.agent import glanceapi
from netapp_eic.agent import provenance
from netapp_eic.agent import reconcile
from netapp_eic.agent import warmer as warmer_mod
from netapp_eic.core import records
from netapp_eic.core import verifications
from netapp_eic.ontap import progress

LOG = logging.getLogger(__name__)

#: Seconds before a removal kept by a clone in progress is tried again.
REMOVE_RETRY = 2.0
#: Seconds before a reconcile after Glance was unavailable.
RECONCILE_AFTER_OUTAGE = 30.0
#: Seconds between two tries to start the listener.
LISTEN_RETRY = 10.0
#: Image ids remembered as announced by a notification.
ANNOUNCED_KEPT = 10000


class WorkQueue:
    """Pending actions, one per image, and the images being worked on."""

    def __init__(self, on_change: typing.Callable[[int], None]) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, events.Event] = {}
        self._later: list[tuple[float, events.Event]] = []
        self._busy: set[str] = set()
        self._on_change = on_change

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._later)

    def put(self, event: events.Event, delay: float = 0.0) -> None:
        with self._cond:
            if delay > 0:
                self._later.append((time.monotonic() + delay, event))
            else:
                self._merge(event)
            self._cond.notify_all()
        self._on_change(len(self))

    def _merge(self, event: events.Event) -> None:
        current = self._pending.get(event.image_id)
        if current is not None and current.kind is events.Kind.REMOVE:
            return  # a late activate never undoes a delete
        self._pending[event.image_id] = event

    def get(self, stop: threading.Event) -> events.Event | None:
        """The next action on an image nobody works on; None on stop."""
        with self._cond:
            while not stop.is_set():
                self._due()
                for image_id, event in self._pending.items():
                    if image_id not in self._busy:
                        del self._pending[image_id]
                        self._busy.add(image_id)
                        return event
                self._cond.wait(0.2)
        return None

    def _due(self) -> None:
        now = time.monotonic()
        due = [e for at, e in self._later if at <= now]
        self._later = [(at, e) for at, e in self._later if at > now]
        for event in due:
            self._merge(event)

    def done(self, image_id: str) -> None:
        with self._cond:
            self._busy.discard(image_id)
            self._cond.notify_all()
        self._on_change(len(self))

    def idle(self) -> bool:
        with self._cond:
            return not (self._pending or self._later or self._busy)


Listen = typing.Callable[[typing.Callable[[str, object], None]],
                         typing.Any]


class Agent:
    """One backend's agent.

    :param listen: builds the notification listener from a callback
        (None: no listener, reconcile only).
    """

    def __init__(self, warmer: warmer_mod.Warmer,
                 state: agentstate.AgentState, listen: Listen | None,
                 reconcile_interval: float, workers: int,
                 max_temp_age: float) -> None:
        self.warmer = warmer
        self.glance = warmer.glance
        self.eic = warmer.eic
        self.state = state
        self.stop = warmer.limits.stop
        self._listen = listen
        self.reconcile_interval = reconcile_interval
        self.workers = workers
        self.max_temp_age = max_temp_age
        self.queue = WorkQueue(lambda n: self.state.update(queue=n))
        self._reconcile_at = 0.0
        self._last_pass = state.snapshot().last_reconcile
        self._listener: typing.Any = None
        #: Image ids notifications announced (the latest ANNOUNCED_KEPT).
        self._announced: collections.OrderedDict[str, None] = (
            collections.OrderedDict())

    # -- notifications ------------------------------------------------------

    def on_notification(self, event_type: str, payload: object) -> None:
        found = events.parse(event_type, payload)
        if isinstance(found, str):
            LOG.info('Notification ignored: %s', found)
            return
        self.state.event(event_type, found.image_id)
        self._announced[found.image_id] = None
        while len(self._announced) > ANNOUNCED_KEPT:
            self._announced.popitem(last=False)
        self.queue.put(found)

    # -- running ------------------------------------------------------------

    def run(self) -> None:
        """Run until :attr:`stop` is set; then stop cleanly."""
        threads = [threading.Thread(target=self._work, daemon=True,
                                    name='netapp-eic-agent-%d' % i)
                   for i in range(self.workers)]
        with progress.observing(self._check_stop):
            for thread in threads:
                thread.start()
            try:
                self._loop()
            finally:
                self.stop.set()
                self._stop_listener()
                for thread in threads:
                    thread.join()
                self.state.update(stopped=time.time(), connected=False,
                                  queue=len(self.queue), copying=0)

    def _loop(self) -> None:
        listen_at = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if self._listener is None and self._listen and now >= listen_at:
                if not self._start_listener():
                    listen_at = now + LISTEN_RETRY
            if now >= self._reconcile_at:
                self.reconcile_once()
            waits = [self._reconcile_at - now, 1.0]
            self.stop.wait(max(0.05, min(waits)))

    def _start_listener(self) -> bool:
        assert self._listen is not None
        try:
            self._listener = self._listen(self.on_notification)
            self._listener.start()
        except Exception as e:
            LOG.error('Cannot listen to Glance\'s notifications (retried in '
                      '%.0f s; the reconcile still runs): %s',
                      LISTEN_RETRY, e)
            self._listener = None
            return False
        self.state.update(connected=True)
        LOG.info('Listening to Glance\'s notifications.')
        return True

    def _stop_listener(self) -> None:
        if self._listener is None:
            return
        with contextlib.suppress(Exception):
            self._listener.stop()
            self._listener.wait()
        self._listener = None

    def _check_stop(self, sample: progress.Sample) -> None:
        """A copy's progress observer: ends the copy when stopping."""
        if self.stop.is_set():
            raise bounds.Stopped()

    def _work(self) -> None:
        while True:
            event = self.queue.get(self.stop)
            if event is None:
                return
            try:
                result = self.warmer.handle(event)
            except bounds.Stopped:
                LOG.info('Image %s (%s): stopped, its copy cancelled and '
                         'cleaned up.', event.image_id, event.cause)
                return
            finally:
                self.queue.done(event.image_id)
            self._account(event, result)

    def _account(self, event: events.Event, result: warmer_mod.Result
                 ) -> None:
        counter = {warmer_mod.WARMED: 'warmed', warmer_mod.REMOVED: 'removed',
                   warmer_mod.SKIPPED: 'skipped',
                   warmer_mod.FAILED: 'failed'}.get(result.verdict)
        if counter:
            self.state.count(counter)
        self.state.update(last_line=result.line(),
                          copying=self.warmer.limits.slots.held)
        if result.verdict == warmer_mod.DEFERRED:
            if event.kind is events.Kind.REMOVE and \
                    'being cloned' in result.reason:
                self.queue.put(event, delay=REMOVE_RETRY)
            elif 'Glance still shows status' in result.reason:
                self.queue.put(dataclasses.replace(
                    event, attempt=event.attempt + 1),
                    delay=warmer_mod.SETTLE_PAUSE)
            else:
                self._reconcile_at = min(
                    self._reconcile_at,
                    time.monotonic() + RECONCILE_AFTER_OUTAGE)
        missed = event.cause == reconcile.CAUSE and result.verdict in (
            warmer_mod.WARMED, warmer_mod.REMOVED) and result.pools and \
            event.image_id not in self._announced
        if missed:
            self.state.count('missed_by_notifications')

    # -- reconcile ----------------------------------------------------------

    def reconcile_once(self) -> reconcile.Plan | None:
        """One pass: queue what Glance's listing says was missed. None
        when Glance could not be listed (tried again later)."""
        started = time.time()
        try:
            updated = list(self.glance.images(reconcile.since(
                self._last_pass)))
            listed = {str(i.get('id')) for i in self.glance.images(
                status=None)}
        except glanceapi.GlanceUnavailable as e:
            LOG.warning('Reconcile through the Glance API failed, tried '
                        'again in %.0f s: %s', RECONCILE_AFTER_OUTAGE, e)
            self.state.update(last_reconcile_result='failed: %s' % e)
            self._reconcile_at = time.monotonic() + RECONCILE_AFTER_OUTAGE
            return None
        found = reconcile.plan(updated, listed, self.held())
        for event in found.events():
            self.queue.put(event)
        self._sweep()
        self._last_pass = started
        self._reconcile_at = (time.monotonic() + self.reconcile_interval
                              if self.reconcile_interval else float('inf'))
        summary = '%d image(s) to warm, %d to remove' % (
            len(found.warm), len(found.remove))
        LOG.info('Reconcile through the Glance API: %s.', summary)
        self.state.update(last_reconcile=started,
                          last_reconcile_result=summary)
        return found

    def held(self) -> set[str]:
        """Image ids the backend's pools hold an entry, a mark or a
        verification record of."""
        found = set()
        for pool in self.eic.pools.backend_pools():
            for name in os.listdir(pool.mount_dir):
                image_id = (records.image_id_of(name) or
                            provenance.image_of(name) or
                            verifications.image_of(name))
                if image_id and records.LEASE_MARK not in name:
                    found.add(image_id)
        return found

    def _sweep(self) -> None:
        """What a killed agent (or create) left: temporaries older than
        the longest copy, marks without an entry."""
        self.eic.maintain(self.max_temp_age)
        for pool in self.eic.pools.backend_pools():
            for image_id in provenance.orphans(pool.mount_dir):
                provenance.remove(pool.mount_dir, image_id)

