# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What protects the array during an upload burst.

* :class:`CopySlots`: at most N copies at once across every agent of the
  backend: a copy holds one of N named locks, taken through the host (the
  lock store of ``[coordination] backend_url``, shared by the agents of
  every host when it is Redis). A slot is tried, never waited on, and the
  slots are tried again after a short pause, so a stop ends the wait.
* :class:`HourlyBytes`: at most N bytes copied by this agent in any hour;
  an image that would exceed it waits until the hour allows it.
"""

import collections
import collections.abc
import contextlib
import threading
import time
import typing

#: Seconds between two rounds of tries for a free copy slot.
SLOT_POLL = 0.2
HOUR = 3600.0

TryLock = typing.Callable[[str],
                          contextlib.AbstractContextManager[bool]]


class Stopped(BaseException):
    """The agent is stopping: the work in hand ends, cleaned up.

    A ``BaseException`` so that no step of a create takes it for a
    failure to fall back from; every step's scratch files are removed as
    the exception passes."""


def slot_names(backend: str, count: int) -> list[str]:
    return ['netapp-eic-agent-copy-%s-%d' % (backend, i)
            for i in range(count)]


class CopySlots:
    """N copy slots over the host's named locks."""

    def __init__(self, try_lock: TryLock, names: collections.abc.Sequence[
            str], stop: threading.Event, poll: float = SLOT_POLL) -> None:
        self._try_lock = try_lock
        self.names = list(names)
        self._stop = stop
        self._poll = poll
        self._held = 0
        self._count_lock = threading.Lock()

    @property
    def held(self) -> int:
        """Slots this agent holds now."""
        with self._count_lock:
            return self._held

    @contextlib.contextmanager
    def slot(self) -> collections.abc.Iterator[None]:
        """Hold a free slot for the block (waits for one).

        :raises Stopped: the agent stops while waiting.
        """
        while True:
            for name in self.names:
                held = self._try_lock(name)
                if held.__enter__():
                    try:
                        with self._counted():
                            yield
                    finally:
                        held.__exit__(None, None, None)
                    return
                held.__exit__(None, None, None)
            if self._stop.wait(self._poll):
                raise Stopped()

    @contextlib.contextmanager
    def _counted(self) -> collections.abc.Iterator[None]:
        with self._count_lock:
            self._held += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._held -= 1


class HourlyBytes:
    """A sliding hour of bytes copied by this agent; 0 bytes: no bound."""

    def __init__(self, per_hour: int,
                 clock: typing.Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour
        self._clock = clock
        self._spent: collections.deque[tuple[float, int]] = (
            collections.deque())
        self._lock = threading.Lock()

    def too_large(self, size: int) -> str | None:
        """Why an image of ``size`` bytes can never be copied, or None."""
        if self.per_hour and size > self.per_hour:
            return '%d bytes is more than netapp_eic_agent_max_gb_per_hour ' \
                   'allows in an hour (%d)' % (size, self.per_hour)
        return None

    def wait_for(self, size: int) -> float:
        """Seconds until ``size`` more bytes fit in the hour (0: now)."""
        if not self.per_hour:
            return 0.0
        with self._lock:
            now = self._clock()
            self._expire(now)
            spent = sum(n for _at, n in self._spent)
            if spent + size <= self.per_hour:
                return 0.0
            # The oldest spendings must age out until the image fits.
            excess = spent + size - self.per_hour
            for at, n in self._spent:
                excess -= n
                if excess <= 0:
                    return max(0.0, at + HOUR - now)
            return HOUR

    def spend(self, size: int) -> None:
        with self._lock:
            self._spent.append((self._clock(), size))

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - HOUR:
            self._spent.popleft()
