# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Files: information, delete, rename, file clone and File Copy.

Clone and copy are ONTAP jobs: they are posted (through :mod:`.rest`, the
hot path) with ``return_timeout``, so ONTAP answers when they are done, and
:meth:`FileCalls._post_action` reads each of ONTAP's answer shapes (202
with a running job, done within the timeout, an error whose body holds the
failed job).
"""

import typing

from netapp_ontap import host_connection
from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.ontap import calls
from netapp_eic.ontap import jobcalls
from netapp_eic.ontap import rest

LOG = logging.getLogger(__name__)

#: Default bound on a file clone job, seconds.
DEFAULT_CLONE_TIMEOUT = 120.0
#: ONTAP's largest ``return_timeout``, seconds.
MAX_RETURN_TIMEOUT = 120
#: HTTP read timeout on top of a request's ``return_timeout``, seconds.
READ_TIMEOUT_MARGIN = 15


class FileCalls(jobcalls.JobCalls):
    """The file calls of :class:`~netapp_eic.ontap.OntapClient`."""

    connection: host_connection.HostConnection

    def _file(self, vol: calls.FlexVol, path: str) -> typing.Any:
        # ``path`` as a keyword: the URL is then built from the state known
        # at construction, so a later ``info.path = new`` becomes the body
        # of a rename PATCH while the URL keeps the source path.
        info = calls.resources.FileInfo(vol.uuid, path=path)
        info.set_connection(self.connection)
        return info

    def file_info(self, vol: calls.FlexVol, path: str
                  ) -> calls.FileInfo | None:
        """Type, size and times of ``path`` in ``vol``; None when it is
        missing. ONTAP answers about the path itself: a symbolic link is
        reported as ``symlink``, never followed."""
        info = self._file(vol, path)
        try:
            with calls.api('GET /storage/volumes/{uuid}/files/{path}'):
                info.get(return_metadata=True,
                         fields='type,size,bytes_used,accessed_time,'
                                'modified_time,changed_time,inode_number,'
                                'hard_links_count')
        except exception.OntapApiError as err:
            if calls.is_missing(err) and err.code in (
                    None, calls.CODE_NO_SUCH_FILE):
                return None
            # Another 404 (the FlexVol UUID is unknown: recreated) is not
            # "no such file": the caller must learn the lookup is stale.
            raise
        return calls.FileInfo(
            size=int(getattr(info, 'size', 0) or 0),
            bytes_used=calls.opt_int(getattr(info, 'bytes_used', None)),
            accessed_time=calls.parse_time(
                getattr(info, 'accessed_time', None)),
            modified_time=calls.parse_time(
                getattr(info, 'modified_time', None)),
            type=_text(getattr(info, 'type', None)),
            hard_links_count=calls.opt_int(
                getattr(info, 'hard_links_count', None)),
            inode_number=calls.opt_int(getattr(info, 'inode_number', None)),
            changed_time=calls.parse_time(
                getattr(info, 'changed_time', None)))

    def delete_file(self, vol: calls.FlexVol, path: str,
                    missing_ok: bool = True) -> bool:
        """Delete ``path`` in ``vol``; False if it was already missing.

        :raises OntapApiError: on failure, or a missing file when
            ``missing_ok`` is False.
        """
        try:
            with calls.api('DELETE /storage/volumes/{uuid}/files/{path}'):
                self._file(vol, path).delete(connection=self.connection)
        except exception.OntapApiError as err:
            if missing_ok and calls.is_missing(err):
                LOG.debug('File %(path)s already absent from %(vol)s',
                          {'path': path, 'vol': vol.name})
                return False
            raise
        return True

    def rename_file(self, vol: calls.FlexVol, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` inside ``vol`` (PATCH ``path``)."""
        info = self._file(vol, src)
        info.path = dst
        with calls.api('PATCH /storage/volumes/{uuid}/files/{path}'):
            self._send_patch(info)

    def _send_patch(self, info: typing.Any) -> None:
        # The URL is built from the last known state (the source path), the
        # body from the difference (the new path).
        info.patch(poll=False, connection=self.connection)

    # -- clone and copy -------------------------------------------------------

    def clone_file(self, vol: calls.FlexVol, src: str, dst: str,
                   overwrite: bool = False,
                   timeout: float = DEFAULT_CLONE_TIMEOUT) -> None:
        """File clone ``src`` to ``dst`` inside ``vol`` and wait for it.

        Posted with a ``return_timeout`` so that ONTAP answers when the
        clone is done (it takes milliseconds): no job to poll.

        :raises OntapApiError: the request was refused.
        :raises OntapJobFailed: the clone job failed.
        :raises OntapJobTimeout: the clone job did not end in ``timeout``.
        """
        body = {'volume': calls.volume_ref(vol), 'source_path': src,
                'destination_path': dst, 'overwrite_destination': overwrite}
        hold = int(min(timeout, MAX_RETURN_TIMEOUT))
        job_uuid = self._post_action('/storage/file/clone', body, hold)
        if job_uuid:
            self.wait_job(job_uuid, timeout)

    def start_copy(self, src: calls.ResolvedPath, dst: calls.ResolvedPath,
                   return_timeout: int) -> str | None:
        """Start an ONTAP File Copy of ``src`` to ``dst``.

        ONTAP holds the request up to ``return_timeout`` seconds (at most
        120) and answers as soon as the copy ends within it.

        :returns: the job UUID while it runs, None once it has succeeded.
        :raises OntapJobFailed: the copy already failed.
        :raises OntapApiError: the request was refused.
        """
        body = {'files_to_copy': [{'source': calls.copy_endpoint(src),
                                   'destination': calls.copy_endpoint(dst)}]}
        return self._post_action('/storage/file/copy', body,
                                 int(min(return_timeout, MAX_RETURN_TIMEOUT)))

    def _post_action(self, path: str, body: dict[str, typing.Any],
                     return_timeout: int) -> str | None:
        """POST an asynchronous action; the running job's UUID, or None
        when it is done.

        ONTAP's answers: 202 with the job (still running), 200 or 201 (done
        within ``return_timeout``; a job that failed within it is an error
        status), and an error status whose body holds the failed job.
        """
        call = 'POST %s' % path
        try:
            with calls.api(call):
                answer = rest.send(
                    self.connection, 'POST', path, body=body,
                    params={'return_timeout': return_timeout},
                    timeout=return_timeout + READ_TIMEOUT_MARGIN)
        except exception.OntapApiError as err:
            self._raise_if_failed_job(err)
            raise
        return self._job_from_answer(answer)

    @staticmethod
    def _raise_if_failed_job(err: exception.OntapApiError) -> None:
        """A 4xx/5xx carrying a job record means the job itself failed."""
        cause = err.__cause__
        body = getattr(cause, 'response_body', None)
        job = calls.job_of(body)
        if job.get('uuid') and isinstance(body, dict):
            detail = body.get('error') or {}
            raise exception.OntapJobFailed(
                job=job['uuid'], state=body.get('state', 'failure'),
                reason=detail.get('message') or body.get('message')
                or err.kwargs.get('reason')) from err

    @staticmethod
    def _job_from_answer(answer: rest.Answer) -> str | None:
        """The running job of a POST answer, None when already done."""
        job_uuid = calls.job_of(answer.body).get('uuid')
        if not job_uuid or answer.status != 202:
            state = (answer.body.get('state')
                     if isinstance(answer.body, dict) else None)
            if state in jobcalls.FAILED_STATES:
                raise exception.OntapJobFailed(
                    job=job_uuid, state=state,
                    reason=str(answer.body.get('message', '')))
            return None
        return str(job_uuid)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
