# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP jobs: state, bounded waiting, cancellation.

Jobs are never polled by ``netapp_ontap`` (its poller sleeps whole seconds
and counts time by adding intervals): :meth:`JobCalls.wait_job` polls with a
growing interval bounded by ``time.monotonic()``.
"""

import time
import typing

from netapp_ontap import host_connection
from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.ontap import calls
from netapp_eic.ontap import rest

LOG = logging.getLogger(__name__)

#: Terminal job states that mean failure (ONTAP reports ``failure``).
FAILED_STATES = ('failure', 'cancelled', 'expired')


class JobCalls:
    """The job calls of :class:`~netapp_eic.ontap.OntapClient`."""

    connection: host_connection.HostConnection
    poll_initial_interval: float
    poll_max_interval: float
    #: Sleep function used between job polls; tests replace it.
    sleep: typing.Callable[[float], None] = staticmethod(time.sleep)
    #: Clock bounding job waits; tests replace it along with ``sleep``.
    monotonic: typing.Callable[[], float] = staticmethod(time.monotonic)

    def _job_record(self, job_uuid: str) -> tuple[str, str]:
        """``(state, message)`` of a job; a vanished job is a failure."""
        try:
            with calls.api('GET /cluster/jobs/{uuid}'):
                answer = rest.send(self.connection, 'GET',
                                   '/cluster/jobs/%s' % job_uuid,
                                   params={'fields': 'state,message,error'})
        except exception.OntapApiError as err:
            if err.status == 404:
                return 'failure', 'the job no longer exists'
            raise
        job = answer.body if isinstance(answer.body, dict) else {}
        error = job.get('error')
        message = error.get('message') if isinstance(error, dict) else None
        return str(job.get('state', '')), str(message or
                                              job.get('message') or '')

    def job_state(self, job_uuid: str) -> str:
        """The state of a job (``failure`` once it no longer exists)."""
        return self._job_record(job_uuid)[0]

    def wait_job(self, job_uuid: str, timeout: float,
                 initial_interval: float | None = None,
                 max_interval: float | None = None,
                 on_poll: typing.Callable[[str, str], float | None] | None
                 = None) -> None:
        """Poll a job until it succeeds, fails, or ``timeout`` passes.

        Intervals start at ``initial_interval`` and double up to
        ``max_interval`` (the client's settings by default); the last sleep
        is cut to the time left. ``on_poll(state, message)`` is called
        after each poll that found the job still running (progress
        reporting, :mod:`netapp_eic.ontap.progress`); when it returns an
        estimate of the seconds left, the next poll comes at half of it
        (within the same bounds), so a long job's end is seen within about
        ``initial_interval`` instead of up to ``max_interval`` late.

        :raises OntapJobFailed: the job ended in failure (or vanished).
        :raises OntapJobTimeout: still running after ``timeout`` seconds.
        """
        interval = initial_interval or self.poll_initial_interval
        floor = interval
        ceiling = max_interval or self.poll_max_interval
        deadline = self.monotonic() + timeout
        while True:
            state, message = self._job_record(job_uuid)
            if state == 'success':
                return
            if state in FAILED_STATES:
                raise exception.OntapJobFailed(job=job_uuid, state=state,
                                               reason=message)
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise exception.OntapJobTimeout(job=job_uuid,
                                                timeout=timeout)
            left = on_poll(state, message) if on_poll is not None else None
            nap = interval if left is None else min(ceiling,
                                                    max(floor, left / 2))
            self.sleep(min(nap, remaining))
            interval = min(interval * 2, ceiling)

    def cancel_job(self, job_uuid: str) -> None:
        """Ask ONTAP to cancel a job; a job already gone is not an error."""
        job = calls.resources.Job(uuid=job_uuid)
        try:
            with calls.api('PATCH /cluster/jobs/{uuid}'):
                job.patch(poll=False, connection=self.connection,
                          action='cancel')
        except exception.OntapApiError as err:
            if err.status != 404:
                raise
            LOG.debug('Job %s to cancel no longer exists', job_uuid)
