# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File fingerprints: ONTAP's digest of a file, computed by the array.

A session is started (``POST /storage/snaplock/file-fingerprints``; its id
is in the ``Location`` header), polled by id with a growing interval until
it is ``completed``, and aborted (``DELETE``) when it runs past its bound
or the caller stops it. Its ``data_fingerprint`` is base64; it is returned
as lower-case hex, checked for the algorithm's length.

NetApp documents the endpoint under SnapLock; whether ONTAP fingerprints
regular files of other FlexVols without a SnapLock licence is not
confirmed. So every refusal of the ``POST`` is
:class:`~netapp_eic.exception.FingerprintUnavailable` (the caller hashes
on the host instead), and a session that was accepted but gives no digest
(failed, vanished, too slow, malformed) is
:class:`~netapp_eic.exception.FingerprintFailed`. Requests go through
:mod:`.rest` on the client's own connection.
"""

import base64
import binascii
import threading
import typing

from oslo_log import log as logging
from oslo_utils import excutils

from netapp_eic import exception
from netapp_eic.i18n import _
from netapp_eic.ontap import calls
from netapp_eic.ontap import jobcalls
from netapp_eic.ontap import rest

LOG = logging.getLogger(__name__)

PATH = '/storage/snaplock/file-fingerprints'
#: Raw digest length of each algorithm ONTAP computes, bytes.
DIGEST_SIZES = {'md5': 16, 'sha256': 32}
#: ONTAP's "Invalid session ID" and "operation has completed".
CODE_INVALID_SESSION = '14090446'
CODE_COMPLETED = '14090440'
#: Bound on a probe's fingerprint of a small file, seconds.
PROBE_TIMEOUT = 10.0
_FIELDS = 'state,algorithm,data_fingerprint,file_size'


class _Unfinished(Exception):
    """The session may still run on ONTAP: abort it, then fail."""


class FingerprintCalls(jobcalls.JobCalls):
    """The fingerprint calls of :class:`~netapp_eic.ontap.OntapClient`."""

    def file_fingerprint(self, vol: calls.FlexVol, path: str,
                         algorithm: str, timeout: float, poll: float = 0.05,
                         stop: threading.Event | None = None
                         ) -> calls.Fingerprint:
        """ONTAP's ``algorithm`` digest of ``path`` (within ``vol``).

        Polls the session every ``poll`` seconds at first, doubling up to
        the client's ``poll_max_interval``. Past ``timeout`` seconds, or
        once ``stop`` is set (checked after each poll, never waited on: it
        may be a green or a native event), the session is aborted.

        :raises FingerprintUnavailable: ONTAP refused to start a session.
        :raises FingerprintFailed: the session failed, vanished, ran too
            long or was stopped (and was aborted), or its digest is
            malformed.
        """
        if algorithm not in DIGEST_SIZES:
            raise ValueError('ONTAP fingerprints md5 or sha256, not %s'
                             % algorithm)
        where = '/' + path.lstrip('/')
        shown = '/vol/%s%s' % (vol.name, where)
        session = self._start_fingerprint(vol, where, algorithm, shown)
        try:
            record = self._wait_fingerprint(session, shown, timeout, poll,
                                            stop)
        except _Unfinished as err:
            self._abort_fingerprint(session, shown)
            raise exception.FingerprintFailed(path=shown,
                                              reason=str(err)) from err
        except exception.FingerprintFailed:
            raise
        except BaseException:
            with excutils.save_and_reraise_exception():
                self._abort_fingerprint(session, shown)
        return _fingerprint(record, algorithm, shown)

    def fingerprint_probe(self, vol: calls.FlexVol, path: str) -> str | None:
        """None when ONTAP fingerprints ``path``, an existing small file
        the caller wrote in ``vol``, within :data:`PROBE_TIMEOUT`; else
        the reason it does not. A refusal is an answer, not an error."""
        try:
            self.file_fingerprint(vol, path, 'sha256', PROBE_TIMEOUT)
        except (exception.FingerprintUnavailable,
                exception.FingerprintFailed) as err:
            return str(err)
        return None

    def _start_fingerprint(self, vol: calls.FlexVol, where: str,
                           algorithm: str, shown: str) -> str:
        """The id of a new session; FingerprintUnavailable when ONTAP
        refuses it."""
        body = {'svm': {'name': vol.svm}, 'volume': {'uuid': vol.uuid},
                'path': where, 'algorithm': algorithm}
        try:
            with calls.api('POST %s' % PATH):
                answer = rest.send(self.connection, 'POST', PATH, body=body)
        except exception.OntapApiError as err:
            raise exception.FingerprintUnavailable(
                path=shown, reason=_('HTTP %(status)s, code %(code)s: '
                                     '%(reason)s') % {
                    'status': err.status, 'code': err.code,
                    'reason': err.kwargs.get('reason')}) from err
        session = _session_id(answer)
        if session is None:
            raise exception.FingerprintUnavailable(
                path=shown, reason=_('ONTAP answered HTTP %s without a '
                                     'session id') % answer.status)
        return session

    def _wait_fingerprint(self, session: str, shown: str, timeout: float,
                          poll: float, stop: threading.Event | None
                          ) -> dict[str, typing.Any]:
        """The record of the completed session (see
        :meth:`file_fingerprint`); raises _Unfinished when it must be
        aborted."""
        deadline = self.monotonic() + timeout
        interval = poll
        while True:
            record = self._fingerprint_record(session, shown)
            state = record.get('state')
            if state == 'completed':
                return record
            if state != 'in_progress':
                raise exception.FingerprintFailed(
                    path=shown, reason=_('session %(id)s ended in state '
                                         '%(state)s') % {'id': session,
                                                         'state': state})
            if stop is not None and stop.is_set():
                raise _Unfinished(_('stopped by the caller; session %s '
                                    'aborted') % session)
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise _Unfinished(_('still in progress after %(t)s s; '
                                    'session %(id)s aborted') % {
                    't': timeout, 'id': session})
            self.sleep(min(interval, remaining))
            interval = min(interval * 2, max(poll, self.poll_max_interval))

    def _fingerprint_record(self, session: str, shown: str
                            ) -> dict[str, typing.Any]:
        try:
            with calls.api('GET %s/{id}' % PATH):
                answer = rest.send(self.connection, 'GET',
                                   '%s/%s' % (PATH, session),
                                   params={'fields': _FIELDS})
        except exception.OntapApiError as err:
            if err.status == 404 or err.code == CODE_INVALID_SESSION:
                raise exception.FingerprintFailed(
                    path=shown, reason=_('session %(id)s vanished: '
                                         '%(err)s') % {'id': session,
                                                       'err': err}) from err
            raise _Unfinished(_('session %(id)s unreadable: %(err)s') % {
                'id': session, 'err': err}) from err
        return answer.body if isinstance(answer.body, dict) else {}

    def _abort_fingerprint(self, session: str, shown: str) -> None:
        """Abort a session; a failure is logged, never raised (the caller
        raises its own error)."""
        try:
            with calls.api('DELETE %s/{id}' % PATH):
                rest.send(self.connection, 'DELETE',
                          '%s/%s' % (PATH, session))
        except exception.OntapApiError as err:
            if err.code in (CODE_COMPLETED, CODE_INVALID_SESSION):
                LOG.info('Fingerprint session %(id)s of %(path)s had '
                         'already ended: %(err)s',
                         {'id': session, 'path': shown, 'err': err})
                return
            LOG.warning('Fingerprint session %(id)s of %(path)s could not '
                        'be aborted and may still run on ONTAP: %(err)s',
                        {'id': session, 'path': shown, 'err': err})


def _session_id(answer: rest.Answer) -> str | None:
    """The session id of a POST answer: its record (``return_records``)
    or the last segment of its ``Location``."""
    body = answer.body if isinstance(answer.body, dict) else {}
    found = body.get('records')
    if isinstance(found, list) and found and isinstance(found[0], dict):
        if found[0].get('id') is not None:
            return str(found[0]['id'])
    if answer.location:
        tail = answer.location.split('?', 1)[0].rstrip('/').rsplit('/', 1)
        if tail[-1].isdigit():
            return tail[-1]
    return None


def _fingerprint(record: dict[str, typing.Any], algorithm: str,
                 shown: str) -> calls.Fingerprint:
    """The digest of a completed session's record, checked."""
    got = str(record.get('algorithm') or algorithm).lower()
    text = record.get('data_fingerprint')
    try:
        raw = base64.b64decode(str(text), validate=True) if text else b''
    except (binascii.Error, ValueError):
        raw = None
    if got != algorithm or raw is None or len(raw) != DIGEST_SIZES[got]:
        raise exception.FingerprintFailed(
            path=shown, reason=_('malformed %(algo)s fingerprint %(text)r '
                                 '(asked for %(want)s)') % {
                'algo': got, 'text': text, 'want': algorithm})
    return calls.Fingerprint(algorithm=algorithm, hexdigest=raw.hex(),
                             size=calls.opt_int(record.get('file_size')))
