# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Progress of long copies: an INFO line every few seconds, and watchers.

ONTAP's job record has no progress object: how far a File Copy got is read
from the destination file's size (files API, ``return_metadata``), and,
when that is unavailable, from a ``NN%`` in the job's ``message``. A copy by
the copy offload tool runs as a host command; its destination is watched on
the local mount instead. Either way a copy that ends within
:data:`INTERVAL` seconds logs nothing, and a longer one logs percent, bytes
and rate every :data:`INTERVAL` seconds.

A program that shows progress (``netapp-eic``'s progress bar) registers an
observer with :func:`observing`; observers get every sample, the log only
one per interval.
"""

import collections.abc
import contextlib
import dataclasses
import os
import re
import threading
import time
import typing

from oslo_log import log as logging

from netapp_eic.ontap import calls

LOG = logging.getLogger(__name__)

#: Seconds between two progress lines (and before the first).
INTERVAL = 5.0
#: Seconds of polling before the first size sample (a rate to estimate the
#: end from); a copy that ends sooner costs no extra request.
FIRST_SAMPLE = 1.0
_PERCENT = re.compile(r'(\d{1,3}(?:\.\d+)?)\s*%')


@dataclasses.dataclass(frozen=True)
class Sample:
    """How far a copy is: ``done`` of ``total`` bytes after ``elapsed``
    seconds; either may be unknown."""

    label: str
    done: int | None
    total: int | None
    elapsed: float
    percent_hint: float | None = None

    @property
    def percent(self) -> float | None:
        if self.done is not None and self.total:
            return min(100.0, 100.0 * self.done / self.total)
        return self.percent_hint

    @property
    def rate(self) -> float | None:
        """Bytes per second since the start."""
        if self.done is None or self.elapsed <= 0:
            return None
        return self.done / self.elapsed


Observer = typing.Callable[[Sample], None]
_observers: list[Observer] = []
_observers_lock = threading.Lock()


@contextlib.contextmanager
def observing(observer: Observer) -> collections.abc.Iterator[None]:
    """Send every progress sample to ``observer`` inside the block."""
    with _observers_lock:
        _observers.append(observer)
    try:
        yield
    finally:
        with _observers_lock:
            _observers.remove(observer)


def _observed() -> list[Observer]:
    with _observers_lock:
        return list(_observers)


def percent_in(message: str) -> float | None:
    """A ``NN%`` in a job message, or None."""
    match = _PERCENT.search(message or '')
    return float(match.group(1)) if match else None


def describe(sample: Sample) -> str:
    """``42% (1.2 GiB of 2.9 GiB) at 150.3 MiB/s`` (unknowns left out)."""
    parts = []
    if sample.percent is not None:
        parts.append('%.0f%%' % sample.percent)
    if sample.done is not None:
        total = (' of %s' % human_bytes(sample.total)
                 if sample.total else '')
        parts.append('(%s%s)' % (human_bytes(sample.done), total))
    if sample.rate is not None:
        parts.append('at %s/s' % human_bytes(int(sample.rate)))
    return ' '.join(parts) or 'running'


def human_bytes(count: int | None) -> str:
    """``512 B``, ``1.5 MiB``..."""
    value = float(count or 0)
    if value < 1024:
        return '%d B' % value
    for unit in ('KiB', 'MiB', 'GiB'):
        value /= 1024
        if value < 1024:
            return '%.1f %s' % (value, unit)
    return '%.1f TiB' % (value / 1024)


class _Reporter:
    """Logs one line per interval and feeds the observers."""

    def __init__(self, label: str, total: typing.Callable[[], int | None],
                 interval: float | None,
                 clock: typing.Callable[[], float]) -> None:
        self.label = label
        self._total_of = total
        self._total: int | None = None
        self.interval = INTERVAL if interval is None else interval
        self.clock = clock
        self.start = clock()
        self._next_log = self.start + self.interval

    def due(self) -> bool:
        return self.clock() >= self._next_log or bool(_observed())

    def total(self) -> int | None:
        if self._total is None:
            try:
                self._total = self._total_of()
            except Exception as e:
                LOG.debug('Size of the source of %(label)s unknown: %(err)s',
                          {'label': self.label, 'err': e})
        return self._total

    def report(self, done: int | None, hint: float | None = None) -> None:
        now = self.clock()
        sample = Sample(self.label, done, self.total(), now - self.start,
                        hint)
        if now >= self._next_log:
            self._next_log = now + self.interval
            LOG.info('%(label)s: %(progress)s, %(secs).0f s so far',
                     {'label': self.label, 'progress': describe(sample),
                      'secs': sample.elapsed})
        for observer in _observed():
            observer(sample)


class FileCopyProgress:
    """The ``on_poll`` callback of a File Copy job's wait: samples the
    destination's size (once the copy has run :data:`FIRST_SAMPLE` seconds
    and then every few seconds),
    reports it, and returns an estimate of the seconds left, which the
    wait uses to poll close to the copy's end.

    :param client: the ONTAP client (its :meth:`file_info`).
    :param dest: the destination file.
    :param total: returns the source's size; called once, at the first
        sample.
    :param interval: seconds between log lines (:data:`INTERVAL`).
    """

    def __init__(self, client: typing.Any, dest: calls.ResolvedPath,
                 total: typing.Callable[[], int | None], label: str,
                 interval: float | None = None,
                 clock: typing.Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.dest = dest
        self.clock = clock
        self.reporter = _Reporter(label, total, interval, clock)
        self._sampled = False
        self._first: tuple[float, int] | None = None
        self._estimate: tuple[float, float] | None = None

    def __call__(self, state: str, message: str) -> float | None:
        first = (not self._sampled and
                 self.clock() - self.reporter.start >= FIRST_SAMPLE)
        if first or self.reporter.due():
            self._sampled = True
            self._sample(message)
        if self._estimate is None:
            return None
        at, left = self._estimate
        return max(0.0, left - (self.clock() - at))

    def _sample(self, message: str) -> None:
        try:
            info = self.client.file_info(self.dest.flexvol, self.dest.path)
        except Exception as e:
            LOG.debug('Destination size of %(label)s unknown: %(err)s',
                      {'label': self.reporter.label, 'err': e})
            info = None
        done = None if info is None else info.size
        self.reporter.report(done, percent_in(message))
        if done is None:
            return
        now = self.clock()
        if self._first is None:
            self._first = (now, done)
            return
        start, copied = self._first
        total = self.reporter.total()
        if total and done > copied and now > start:
            rate = (done - copied) / (now - start)
            self._estimate = (now, max(0, total - done) / rate)


@contextlib.contextmanager
def watching_file(path: str, total: typing.Callable[[], int | None],
                  label: str, interval: float | None = None,
                  poll: float = 0.5) -> collections.abc.Iterator[None]:
    """Report the growth of the local file ``path`` while the block runs
    (a copy made by a host command)."""
    reporter = _Reporter(label, total, interval, time.monotonic)
    stop = threading.Event()

    def _watch() -> None:
        while not stop.wait(poll):
            if not reporter.due():
                continue
            try:
                size: int | None = os.stat(path).st_size
            except OSError:
                size = None
            reporter.report(size)

    watcher = threading.Thread(target=_watch, name='eic-copy-progress',
                               daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
