# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP File Copy jobs of one backend, never left running unobserved.

A File Copy is waited for with its own bound and cancelled when the step
fails for any reason. When the cancel itself fails (the REST connection
dropped, ONTAP answered an error), the job would keep writing a file
nobody will use, so it is remembered and cancelled again before the next
copy and by the periodic sweep, until ONTAP confirms it is cancelled or
finished.
"""

import threading
import typing

from oslo_log import log as logging
from oslo_utils import excutils

from netapp_eic import exception
from netapp_eic import ontap
from netapp_eic.core.types import Settings

LOG = logging.getLogger(__name__)

#: Job states after which there is nothing left to cancel.
_ENDED = ('success', 'failure', 'cancelled', 'expired')


class JobKeeper:
    """Runs File Copy jobs and keeps track of those it could not cancel."""

    def __init__(self, client: ontap.OntapClient) -> None:
        self.client = client
        self._orphans: set[str] = set()
        self._lock = threading.Lock()

    @property
    def orphans(self) -> frozenset[str]:
        """Jobs whose cancellation has not been confirmed yet."""
        with self._lock:
            return frozenset(self._orphans)

    def file_copy(self, src: ontap.ResolvedPath, dst: ontap.ResolvedPath,
                  settings: Settings,
                  on_poll: typing.Callable[[str, str], float | None] | None
                  = None) -> None:
        """Copy ``src`` to ``dst`` and wait; the job is cancelled when
        anything goes wrong (timeout, failure, interruption).

        ``on_poll`` follows the copy's progress (see
        :meth:`~netapp_eic.ontap.jobcalls.JobCalls.wait_job`).

        :raises OntapApiError, OntapJobFailed, OntapJobTimeout: the copy
            did not complete.
        """
        self.cancel_orphans()
        job = self.client.start_copy(src, dst,
                                     settings.file_copy_return_timeout)
        if job is None:
            return
        try:
            self.client.wait_job(job, settings.file_copy_timeout,
                                 on_poll=on_poll)
        except BaseException:
            with excutils.save_and_reraise_exception():
                self._cancel(job)

    def _cancel(self, job: str) -> None:
        """Cancel a job; a failure is logged and the job remembered, and
        the original error is the one raised."""
        try:
            self.client.cancel_job(job)
        except exception.EicError as e:
            LOG.warning('Could not cancel ONTAP job %(job)s, it will be '
                        'cancelled again later: %(err)s',
                        {'job': job, 'err': e})
            with self._lock:
                self._orphans.add(job)

    def cancel_orphans(self) -> list[str]:
        """Cancel the remembered jobs again; those confirmed cancelled or
        ended are forgotten and returned."""
        with self._lock:
            pending = sorted(self._orphans)
        settled = []
        for job in pending:
            try:
                if self.client.job_state(job) not in _ENDED:
                    self.client.cancel_job(job)
            except exception.EicError as e:
                LOG.debug('ONTAP job %(job)s still not cancelled: %(err)s',
                          {'job': job, 'err': e})
                continue
            LOG.info('Orphan ONTAP job %s cancelled or ended.', job)
            with self._lock:
                self._orphans.discard(job)
            settled.append(job)
        return settled
