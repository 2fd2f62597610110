# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP jobs: queued -> running -> success | failure, kept for a while.

ONTAP deletes a job some time after it ends (300 s by default); GET or
PATCH then answers 404, which :class:`Jobs` reproduces with ``ttl``.
"""

import datetime
import threading
import time
from collections.abc import Callable
import typing
from typing import Any

from netapp_eic.simulator import errors

TERMINAL = ('success', 'failure')


def iso_time(timestamp: float) -> str:
    """ISO-8601 with the local UTC offset, as ONTAP prints times."""
    dt = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return dt.astimezone().isoformat(timespec='seconds')


class _Worker(typing.Protocol):
    stop: threading.Event
    thread: threading.Thread | None


def drop_expired(registry: dict[Any, Any], ttl: float) -> None:
    """Forget the workers of ``registry`` that finished more than ``ttl``
    seconds ago (the caller holds its lock)."""
    now = time.monotonic()
    for key in [k for k, w in registry.items()
                if w.finished is not None and now - w.finished > ttl]:
        del registry[key]


def stop_all(workers: typing.Sequence[_Worker], timeout: float) -> None:
    """Tell every worker (a job, a fingerprint session) to stop, then wait
    for each one's thread."""
    for worker in workers:
        worker.stop.set()
    for worker in workers:
        if worker.thread is not None:
            worker.thread.join(timeout)


class Job:
    """One job; a worker thread (if any) reports through its methods."""

    def __init__(self, job_uuid: str, description: str) -> None:
        self.uuid = job_uuid
        self.description = description
        self.state = 'queued'
        self.message = 'queued'
        self.code = 0
        self.error: dict[str, str] | None = None
        self.start_time = time.time()
        self.end_time: float | None = None
        self.finished: float | None = None
        self.total: int | None = None
        self.done_bytes = 0
        self.stop = threading.Event()
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def href(self) -> str:
        return f'/api/cluster/jobs/{self.uuid}'

    def link(self) -> dict[str, Any]:
        """The ``job`` object of a 202 answer."""
        return {'uuid': self.uuid, '_links': {'self': {'href': self.href()}}}

    def running(self) -> None:
        self.state, self.message = 'running', 'running'

    def advance(self, position: int) -> None:
        """Record that ``position`` bytes are done, in the job's message
        (where ONTAP reports progress; its job has no progress field)."""
        self.done_bytes = max(self.done_bytes, position)
        self.message = (f'copied {self.done_bytes} of {self.total or 0} '
                        f'bytes ({self.percent()}%)')

    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == 'success' else 0
        return min(100, self.done_bytes * 100 // self.total)

    def succeed(self, message: str = 'success') -> None:
        self._end('success', message, 0)

    def fail(self, message: str, code: str | int) -> None:
        self.error = {'message': message, 'code': str(code)}
        self._end('failure', message, int(code))

    def _end(self, state: str, message: str, code: int) -> None:
        self.state, self.message, self.code = state, message, code
        self.end_time = time.time()
        self.finished = time.monotonic()
        self.done.set()

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            'uuid': self.uuid, 'description': self.description,
            'state': self.state, 'message': self.message, 'code': self.code,
            'start_time': iso_time(self.start_time),
            '_links': {'self': {'href': self.href()}}}
        if self.end_time is not None:
            rec['end_time'] = iso_time(self.end_time)
        if self.error:
            rec['error'] = dict(self.error)
        return rec


class Jobs:
    """The job table; finished jobs expire ``ttl`` seconds after they end."""

    def __init__(self, new_uuid: Callable[[], str], ttl: float) -> None:
        self._new_uuid = new_uuid
        self.ttl = float(ttl)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def new(self, description: str) -> Job:
        job = Job(self._new_uuid(), description)
        with self._lock:
            self._jobs[job.uuid] = job
        return job

    def _expire(self) -> None:
        with self._lock:
            drop_expired(self._jobs, self.ttl)

    def get(self, job_uuid: str) -> Job:
        self._expire()
        with self._lock:
            job = self._jobs.get(job_uuid)
        if job is None:
            raise errors.NotFound(f'Job "{job_uuid}" not found.',
                                  target='uuid')
        return job

    def all(self) -> list[Job]:
        self._expire()
        with self._lock:
            return list(self._jobs.values())

    def records(self) -> list[dict[str, Any]]:
        return [j.record() for j in self.all()]

    def cancel(self, job_uuid: str, wait: float = 10.0) -> Job:
        """Stop a queued or running job; it ends in failure "cancelled"."""
        job = self.get(job_uuid)
        if job.state in TERMINAL:
            return job
        job.stop.set()
        if job.thread is not None:
            job.thread.join(wait)
        if job.state not in TERMINAL:
            job.fail('cancelled', 1)
        return job

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every running job and wait for its thread."""
        with self._lock:
            jobs = list(self._jobs.values())
        stop_all(jobs, timeout)

    def clear(self) -> None:
        """Stop every job and forget them all."""
        self.shutdown()
        with self._lock:
            self._jobs.clear()
