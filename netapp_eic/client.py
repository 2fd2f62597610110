# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Every ONTAP REST call of the driver, through ``netapp_ontap``.

:class:`OntapClient` always passes its own ``HostConnection`` explicitly
(``connection=`` on class-level and action calls, ``set_connection()`` on a
resource before ``get()``, which takes no connection argument); it never
touches the library-wide ``netapp_ontap.config.CONNECTION``. Each
``NetAppRestError`` is converted here into
:class:`netapp_eic.exception.OntapApiError` carrying the HTTP status and
ONTAP error code.

Jobs are never polled by ``netapp_ontap`` (its poller sleeps whole seconds
and counts time by adding intervals): actions are posted with
``poll=False`` and :meth:`OntapClient.wait_job` polls with a growing
interval bounded by ``time.monotonic()``.
"""

import collections.abc
import contextlib
import dataclasses
import datetime
import threading
import time
import typing

import requests
from netapp_ontap import error as ontap_error
from netapp_ontap import host_connection, resources
from netapp_ontap import response as ontap_response
from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)

#: ONTAP error code of the file API for "no such file or directory".
CODE_NO_SUCH_FILE = '6684674'
#: Terminal job states that mean failure (ONTAP reports ``failure``).
_FAILED_STATES = ('failure', 'cancelled', 'expired')
#: Default bound on a file clone job, seconds.
DEFAULT_CLONE_TIMEOUT = 120.0
#: HTTP read timeout added on top of a request's ``return_timeout``.
_READ_TIMEOUT_MARGIN = 15

@dataclasses.dataclass(frozen=True)
class FlexVol:
    """A FlexVol of an SVM; ``junction`` is None when not mounted.

    ``style`` is ONTAP's volume style (``flexvol`` or ``flexgroup``).
    """

    name: str
    uuid: str
    svm: str
    junction: str | None
    style: str = 'flexvol'


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """What the driver reads about a file."""

    size: int
    bytes_used: int | None
    accessed_time: datetime.datetime | None
    modified_time: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class ResolvedPath:
    """A file in a FlexVol; ``path`` has no leading ``/``."""

    flexvol: FlexVol
    path: str


def _error_details(err: ontap_error.NetAppRestError
                   ) -> tuple[int | None, str | None, str]:
    """``(status, code, reason)`` of a ``NetAppRestError``."""
    status = err.status_code
    body = err.response_body if status is not None else None
    detail = body.get('error') if isinstance(body, dict) else None
    if isinstance(detail, dict):
        code = detail.get('code')
        message = detail.get('message') or str(err)
        return status, None if code is None else str(code), str(message)
    return status, None, str(err) or err.__class__.__name__


@contextlib.contextmanager
def _api(call: str) -> collections.abc.Iterator[None]:
    """Convert library errors raised inside the block into OntapApiError."""
    try:
        yield
    except ontap_error.NetAppRestError as err:
        status, code, reason = _error_details(err)
        LOG.debug('ONTAP call %(call)s failed: HTTP %(status)s code '
                  '%(code)s: %(reason)s', {'call': call, 'status': status,
                                           'code': code, 'reason': reason})
        raise exception.OntapApiError(call=call, status=status, code=code,
                                      reason=reason) from err
    except requests.exceptions.RequestException as err:  # pragma: no cover
        # netapp_ontap converts these itself; kept as a safety net.
        raise exception.OntapApiError(call=call, status=None, code=None,
                                      reason=str(err)) from err


def _is_missing(err: exception.OntapApiError) -> bool:
    """True for "no such file"/"entry doesn't exist" errors."""
    return err.status == 404 or err.code == CODE_NO_SUCH_FILE


def _job_of(body: object) -> dict[str, typing.Any]:
    """The ``job`` object of a response body ({} when there is none)."""
    if isinstance(body, dict) and isinstance(body.get('job'), dict):
        return body['job']
    return {}


def _body(response: ontap_response.NetAppResponse) -> object:
    """The JSON body of a response, or None."""
    try:
        return response.http_response.json()
    except ValueError:
        return None


def _parse_time(value: object) -> datetime.datetime | None:
    """An ONTAP timestamp (ISO-8601 string or datetime) as a datetime."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            # Python 3.10 does not parse a trailing 'Z'.
            text = value[:-1] + '+00:00' if value.endswith('Z') else value
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def _opt_int(value: object) -> int | None:
    return None if value is None else int(typing.cast(int, value))


def _volume_ref(vol: FlexVol) -> dict[str, str]:
    return {'uuid': vol.uuid, 'name': vol.name}


def _copy_endpoint(where: ResolvedPath) -> dict[str, typing.Any]:
    """One side of a File Copy ``files_to_copy`` entry."""
    return {'volume': _volume_ref(where.flexvol),
            'svm': {'name': where.flexvol.svm},
            'path': where.path}


def _under_junction(export_path: str, junction: str) -> str | None:
    """Path of ``export_path`` inside a FlexVol mounted at ``junction``.

    Matches on segment boundaries only; returns ``''`` when the path is the
    junction itself and None when it is not below it.
    """
    if junction == '/':
        return export_path.lstrip('/')
    base = junction.rstrip('/')
    if export_path == base:
        return ''
    if export_path.startswith(base + '/'):
        return export_path[len(base) + 1:]
    return None


class OntapClient:
    """The driver's ONTAP client; every method does I/O, the constructor none.

    :param connection: the ``netapp_ontap`` connection used by every call.
    :param poll_initial_interval: first wait between job polls, seconds.
    :param poll_max_interval: largest wait between job polls, seconds.
    """

    #: Sleep function used between job polls; tests replace it.
    sleep: typing.Callable[[float], None] = staticmethod(time.sleep)
    #: Clock bounding job waits; tests replace it along with ``sleep``.
    monotonic: typing.Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, connection: host_connection.HostConnection,
                 poll_initial_interval: float = 0.05,
                 poll_max_interval: float = 2.0) -> None:
        self.connection = connection
        self.poll_initial_interval = poll_initial_interval
        self.poll_max_interval = poll_max_interval
        self._flexvols: dict[str, list[FlexVol]] = {}
        self._svm_by_ip: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_configuration(cls, configuration: typing.Any) -> 'OntapClient':
        """Build a client from a Cinder backend ``Configuration``.

        Uses the parent driver's options: ``netapp_server_hostname``,
        ``netapp_server_port``, ``netapp_transport_type``, ``netapp_login``,
        ``netapp_password``, ``netapp_ssl_cert_path`` and
        ``netapp_ssl_cert_verify``. TLS verification is on by default
        (system CA bundle); a cert path is used as the CA bundle; only an
        explicit ``netapp_ssl_cert_verify = False`` turns it off, as for
        the parent driver. No request is made.
        """
        scheme = configuration.safe_get('netapp_transport_type') or 'https'
        port = configuration.safe_get('netapp_server_port')
        if not port:
            port = 443 if scheme == 'https' else 80
        verify: bool | str = True
        cert_path = configuration.safe_get('netapp_ssl_cert_path')
        if cert_path:
            verify = cert_path
        if configuration.safe_get('netapp_ssl_cert_verify') is False:
            LOG.warning('netapp_ssl_cert_verify is False: the EIC client '
                        'does not verify the ONTAP certificate.')
            verify = False
        return_timeout = int(configuration.safe_get(
            'netapp_eic_file_copy_return_timeout') or 0)
        connection = host_connection.HostConnection(
            configuration.safe_get('netapp_server_hostname'),
            username=configuration.safe_get('netapp_login'),
            password=configuration.safe_get('netapp_password'),
            verify=typing.cast(bool, verify),
            port=int(port),
            scheme=scheme,
            protocol_timeouts=(6, max(45, return_timeout +
                                      _READ_TIMEOUT_MARGIN)))
        return cls(connection, **_poll_settings(configuration))

    # -- cluster, SVMs, FlexVols ------------------------------------------

    def cluster_version(self) -> tuple[int, int, int]:
        """ONTAP version as ``(generation, major, minor)``."""
        cluster = resources.Cluster()
        cluster.set_connection(self.connection)
        with _api('GET /cluster'):
            cluster.get(fields='version')
        version = cluster.version
        return (int(version.generation), int(version.major),
                int(version.minor))

    def svm_for_ip(self, ip: str) -> str | None:
        """Name of the SVM owning the data LIF with address ``ip``; a found
        owner is cached until :meth:`invalidate`."""
        with self._lock:
            cached = self._svm_by_ip.get(ip)
        if cached is not None:
            return cached
        svm = self._lookup_svm(ip)
        if svm is not None:
            with self._lock:
                self._svm_by_ip[ip] = svm
        return svm

    def _lookup_svm(self, ip: str) -> str | None:
        with _api('GET /network/ip/interfaces'):
            lifs = list(resources.IpInterface.get_collection(
                connection=self.connection, fields='svm.name,ip.address',
                **{'ip.address': ip}))
        for lif in lifs:
            svm = getattr(lif, 'svm', None)
            name = getattr(svm, 'name', None) if svm is not None else None
            if name:
                return str(name)
        return None

    def flexvols(self, svm: str) -> list[FlexVol]:
        """The FlexVols of ``svm``, cached until :meth:`invalidate`."""
        with self._lock:
            cached = self._flexvols.get(svm)
        if cached is not None:
            return list(cached)
        with _api('GET /storage/volumes'):
            records = list(resources.Volume.get_collection(
                connection=self.connection,
                fields='name,uuid,nas.path,svm.name,style',
                **{'svm.name': svm}))
        vols = [_flexvol(rec, svm) for rec in records]
        with self._lock:
            self._flexvols[svm] = vols
        return list(vols)

    def invalidate(self) -> None:
        """Forget the cached FlexVol lists and LIF owners."""
        with self._lock:
            self._flexvols.clear()
            self._svm_by_ip.clear()

    def resolve(self, ip: str, export_path: str) -> ResolvedPath:
        """Map ``ip:export_path`` to a FlexVol and a path inside it.

        The SVM is the one owning the data LIF ``ip``; the FlexVol is the one
        with the longest junction path that is a prefix of ``export_path`` on
        segment boundaries (``/vol_a`` does not contain ``/vol_ab/x``). The
        cached FlexVol list is refreshed once on a miss.

        :raises LocationRejected: unknown IP, no FlexVol, or the path is a
            junction itself.
        """
        location = f'{ip}:{export_path}'
        svm = self.svm_for_ip(ip)
        if svm is None:
            raise exception.LocationRejected(
                location=location,
                reason=_('no data LIF of this cluster has this IP address'))
        found = self._longest_match(svm, export_path)
        if found is None:
            self._forget(svm)
            found = self._longest_match(svm, export_path)
        if found is None:
            raise exception.LocationRejected(
                location=location,
                reason=_('no FlexVol of SVM %s contains this path') % svm)
        vol, inside = found
        if vol.style == 'flexgroup':
            raise exception.LocationRejected(
                location=location,
                reason=_('the path is in FlexGroup %s; only FlexVols are '
                         'supported') % vol.name)
        if not inside:
            raise exception.LocationRejected(
                location=location,
                reason=_('the path is the junction of FlexVol %s, not a '
                         'file') % vol.name)
        return ResolvedPath(flexvol=vol, path=inside)

    def _forget(self, svm: str) -> None:
        with self._lock:
            self._flexvols.pop(svm, None)

    def _longest_match(self, svm: str, export_path: str
                       ) -> tuple[FlexVol, str] | None:
        best: tuple[FlexVol, str] | None = None
        best_len = -1
        for vol in self.flexvols(svm):
            if not vol.junction:
                continue
            inside = _under_junction(export_path, vol.junction)
            if inside is not None and len(vol.junction) > best_len:
                best, best_len = (vol, inside), len(vol.junction)
        return best

    def vstorage_enabled(self, svm: str) -> bool:
        """Whether the NFS service of ``svm`` has vStorage enabled."""
        with _api('GET /protocols/nfs/services'):
            services = list(resources.NfsService.get_collection(
                connection=self.connection,
                fields='vstorage_enabled,svm.name', **{'svm.name': svm}))
        return any(bool(getattr(s, 'vstorage_enabled', False))
                   for s in services)

    # -- files --------------------------------------------------------------

    def _file(self, vol: FlexVol, path: str) -> resources.FileInfo:
        # ``path`` as a keyword: the URL is then built from the state known
        # at construction, so a later ``info.path = new`` becomes the body
        # of a rename PATCH while the URL keeps the source path.
        info = resources.FileInfo(vol.uuid, path=path)
        info.set_connection(self.connection)
        return info

    def file_info(self, vol: FlexVol, path: str) -> FileInfo | None:
        """Size and times of ``path`` in ``vol``; None when it is missing."""
        info = self._file(vol, path)
        try:
            with _api('GET /storage/volumes/{uuid}/files/{path}'):
                info.get(return_metadata=True,
                         fields='size,bytes_used,accessed_time,'
                                'modified_time')
        except exception.OntapApiError as err:
            if _is_missing(err):
                return None
            raise
        return FileInfo(
            size=int(getattr(info, 'size', 0) or 0),
            bytes_used=_opt_int(getattr(info, 'bytes_used', None)),
            accessed_time=_parse_time(getattr(info, 'accessed_time', None)),
            modified_time=_parse_time(getattr(info, 'modified_time', None)))

    def delete_file(self, vol: FlexVol, path: str,
                    missing_ok: bool = True) -> bool:
        """Delete ``path`` in ``vol``; False if it was already missing.

        :raises OntapApiError: on failure, or a missing file when
            ``missing_ok`` is False.
        """
        try:
            with _api('DELETE /storage/volumes/{uuid}/files/{path}'):
                self._file(vol, path).delete(connection=self.connection)
        except exception.OntapApiError as err:
            if missing_ok and _is_missing(err):
                LOG.debug('File %(path)s already absent from %(vol)s',
                          {'path': path, 'vol': vol.name})
                return False
            raise
        return True

    def rename_file(self, vol: FlexVol, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` inside ``vol`` (PATCH ``path``)."""
        info = self._file(vol, src)
        info.path = dst
        with _api('PATCH /storage/volumes/{uuid}/files/{path}'):
            self._send_patch(info)

    def _send_patch(self, info: resources.FileInfo) -> None:
        # The URL is built from the last known state (the source path), the
        # body from the difference (the new path).
        info.patch(poll=False, connection=self.connection)

    # -- clone and copy -------------------------------------------------------

    def clone_file(self, vol: FlexVol, src: str, dst: str,
                   overwrite: bool = False,
                   timeout: float = DEFAULT_CLONE_TIMEOUT) -> None:
        """File clone ``src`` to ``dst`` inside ``vol`` and wait for it.

        :raises OntapApiError: the request was refused.
        :raises OntapJobFailed: the clone job failed.
        :raises OntapJobTimeout: the clone job did not end in ``timeout``.
        """
        clone = resources.FileClone(volume=_volume_ref(vol), source_path=src,
                                    destination_path=dst,
                                    overwrite_destination=overwrite)
        job_uuid = self._post_action(clone, 'POST /storage/file/clone')
        if job_uuid:
            self.wait_job(job_uuid, timeout)

    def start_copy(self, src: ResolvedPath, dst: ResolvedPath,
                   return_timeout: int) -> str | None:
        """Start an ONTAP File Copy of ``src`` to ``dst``.

        ONTAP holds the request up to ``return_timeout`` seconds.

        :returns: the job UUID while it runs, None once it has succeeded.
        :raises OntapJobFailed: the copy already failed.
        :raises OntapApiError: the request was refused.
        """
        copy = resources.FileCopy(files_to_copy=[
            {'source': _copy_endpoint(src),
             'destination': _copy_endpoint(dst)}])
        return self._post_action(copy, 'POST /storage/file/copy',
                                 return_timeout=int(return_timeout))

    def _post_action(self, action: typing.Any, call: str,
                     **params: typing.Any) -> str | None:
        """POST an async action; the running job's UUID or None if done.

        Handles ONTAP's shapes: 202 + job link (running), 200/201 with or
        without a job (finished in ``return_timeout``), and an error status
        whose body holds the failed job.
        """
        try:
            with _api(call):
                response = action.post(poll=False,
                                       connection=self.connection, **params)
        except exception.OntapApiError as err:
            self._raise_if_failed_job(err)
            raise
        return self._job_from_response(response)

    @staticmethod
    def _raise_if_failed_job(err: exception.OntapApiError) -> None:
        """A 4xx/5xx carrying a job record means the job itself failed."""
        cause = err.__cause__
        body = getattr(cause, 'response_body', None)
        job = _job_of(body)
        if job.get('uuid') and isinstance(body, dict):
            detail = body.get('error') or {}
            raise exception.OntapJobFailed(
                job=job['uuid'], state=body.get('state', 'failure'),
                reason=detail.get('message') or body.get('message')
                or err.kwargs.get('reason')) from err

    def _job_from_response(self, response: ontap_response.NetAppResponse
                           ) -> str | None:
        """The running job of a POST response, None when already done."""
        body = _body(response)
        job_uuid = _job_of(body).get('uuid')
        if not job_uuid:
            return None
        job_uuid = str(job_uuid)
        if response.http_response.status_code == 202:
            return job_uuid
        state = body.get('state') if isinstance(body, dict) else None
        message = ''
        if not state:
            state, message = self._job_record(job_uuid)
        if state == 'success':
            return None
        if state in _FAILED_STATES:
            if not message:
                message = self._job_record(job_uuid)[1]
            raise exception.OntapJobFailed(job=job_uuid, state=state,
                                           reason=message)
        return job_uuid

    # -- jobs -----------------------------------------------------------------

    def _job_record(self, job_uuid: str) -> tuple[str, str]:
        """``(state, message)`` of a job; a vanished job is a failure."""
        job = resources.Job(uuid=job_uuid)
        job.set_connection(self.connection)
        try:
            with _api('GET /cluster/jobs/{uuid}'):
                job.get(fields='state,message,error,code')
        except exception.OntapApiError as err:
            if err.status == 404:
                return 'failure', 'the job no longer exists'
            raise
        error = getattr(job, 'error', None)
        message = getattr(error, 'message', None) if error else None
        message = message or getattr(job, 'message', '') or ''
        return str(getattr(job, 'state', '')), str(message)

    def wait_job(self, job_uuid: str, timeout: float,
                 initial_interval: float | None = None,
                 max_interval: float | None = None) -> None:
        """Poll a job until it succeeds, fails, or ``timeout`` passes.

        Intervals start at ``initial_interval`` and double up to
        ``max_interval`` (the client's settings by default); the last sleep
        is cut to the time left.

        :raises OntapJobFailed: the job ended in failure (or vanished).
        :raises OntapJobTimeout: still running after ``timeout`` seconds.
        """
        interval = initial_interval or self.poll_initial_interval
        ceiling = max_interval or self.poll_max_interval
        deadline = self.monotonic() + timeout
        while True:
            state, message = self._job_record(job_uuid)
            if state == 'success':
                return
            if state in _FAILED_STATES:
                raise exception.OntapJobFailed(job=job_uuid, state=state,
                                               reason=message)
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise exception.OntapJobTimeout(job=job_uuid,
                                                timeout=timeout)
            self.sleep(min(interval, remaining))
            interval = min(interval * 2, ceiling)

    def cancel_job(self, job_uuid: str) -> None:
        """Ask ONTAP to cancel a job; a job already gone is not an error."""
        job = resources.Job(uuid=job_uuid)
        try:
            with _api('PATCH /cluster/jobs/{uuid}'):
                job.patch(poll=False, connection=self.connection,
                          action='cancel')
        except exception.OntapApiError as err:
            if err.status != 404:
                raise
            LOG.debug('Job %s to cancel no longer exists', job_uuid)


def _flexvol(record: typing.Any, svm: str) -> FlexVol:
    """A FlexVol from a ``Volume`` record."""
    nas = getattr(record, 'nas', None)
    junction = getattr(nas, 'path', None) if nas is not None else None
    return FlexVol(name=str(record.name), uuid=str(record.uuid), svm=svm,
                   junction=str(junction) if junction else None,
                   style=str(getattr(record, 'style', None) or 'flexvol'))


def _poll_settings(configuration: typing.Any) -> dict[str, float]:
    """Poll intervals from the EIC options, defaults when unset."""
    settings: dict[str, float] = {}
    for key, opt in (('poll_initial_interval',
                      'netapp_eic_poll_initial_interval'),
                     ('poll_max_interval', 'netapp_eic_poll_max_interval')):
        value = configuration.safe_get(opt)
        if value:
            settings[key] = float(value)
    return settings
