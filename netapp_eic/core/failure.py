# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""How a failed step or plan is reported: the right level, the cause kept.

A fast path that fails falls through to the next one, so most failures
are routine (a copy that timed out, an image refused) and are WARNINGs.
Some are not: ONTAP refusing the credentials (401, 403) or the TLS
handshake failing disables every fast path of the backend until an
operator acts, and an unexpected exception is a bug. Those are ERRORs with
their cause, and an unexpected exception keeps its traceback. A routine
failure's chain of causes is kept at DEBUG as one line: oslo.log prefixes
every traceback line with ERROR whatever the record's level, so a
traceback there would read as an error to anyone grepping the log.
"""

import enum
import ssl
import typing

import requests
from oslo_log import log as logging

from netapp_eic import exception

LOG = logging.getLogger(__name__)


class Kind(enum.Enum):
    """What kind of failure an exception is, for its log level."""

    AUTH = 'authentication'
    TLS = 'TLS'
    ROUTINE = 'routine'
    UNEXPECTED = 'unexpected'


def _chain(err: BaseException) -> typing.Iterator[BaseException]:
    """``err`` and its causes (``__cause__``, ``__context__`` and
    ``netapp_ontap``'s ``cause``), each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [err]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__,
                    getattr(current, 'cause', None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def kind_of(err: BaseException) -> Kind:
    """Classify ``err`` (see the module documentation)."""
    for link in _chain(err):
        if isinstance(link, (ssl.SSLError,
                             requests.exceptions.SSLError)):
            return Kind.TLS
        if (isinstance(link, exception.OntapApiError) and
                link.status in (401, 403)):
            return Kind.AUTH
    if isinstance(err, (exception.EicError, OSError)):
        return Kind.ROUTINE
    return Kind.UNEXPECTED


def causes_of(err: BaseException) -> str:
    """``err`` and its causes on one line, outermost first."""
    return '; caused by '.join('%s: %s' % (type(link).__name__, link)
                               for link in _chain(err))


def reason_of(err: BaseException) -> str:
    """A one-line reason for ``err``."""
    return str(getattr(err, 'msg', None) or str(err) or repr(err))


def refuses_source(err: BaseException) -> bool:
    """Whether ``err`` condemns the source file itself (any other step
    from the same file would be refused the same way)."""
    return isinstance(err, (exception.ContentMismatch,
                            exception.NotRegularFile))


def log_step_failure(err: BaseException, path: object, volume_id: str,
                     reason: str) -> None:
    """Log a failed step at the level its kind calls for."""
    kind = kind_of(err)
    values = {'path': path, 'vol': volume_id, 'reason': reason,
              'kind': kind.value}
    if kind in (Kind.AUTH, Kind.TLS):
        LOG.error('EIC %(path)s failed for volume %(vol)s: ONTAP '
                  '%(kind)s failure, every fast path of this backend fails '
                  'until it is fixed: %(reason)s', values)
    elif kind is Kind.UNEXPECTED:
        LOG.error('EIC %(path)s failed for volume %(vol)s with an '
                  'unexpected error, falling back to the next path: '
                  '%(reason)s', values, exc_info=err)
    else:
        LOG.warning('EIC %(path)s failed for volume %(vol)s, falling back '
                    'to the next path: %(reason)s', values)
        LOG.debug('Cause of the %(path)s failure: %(causes)s',
                  dict(values, causes=causes_of(err)))


def log_plan_failure(err: BaseException, what: str, volume_id: str) -> None:
    """Log a failure that prevents planning any fast path for a volume
    (the destination pool could not be resolved...)."""
    log_failure(err, 'EIC %(what)s for volume %(vol)s, Cinder will '
                'download', {'what': what, 'vol': volume_id})


def log_failure(err: BaseException, text: str,
                values: dict[str, typing.Any]) -> None:
    """Log ``text % values`` and the error at the level its kind calls
    for (see the module documentation)."""
    kind = kind_of(err)
    values = dict(values, err=reason_of(err), kind=kind.value)
    if kind in (Kind.AUTH, Kind.TLS):
        LOG.error(text + ': ONTAP %(kind)s failure: %(err)s', values)
    elif kind is Kind.UNEXPECTED:
        LOG.error(text + ': unexpected error: %(err)s', values,
                  exc_info=err)
    else:
        LOG.warning(text + ': %(err)s', values)
        LOG.debug('Cause: %s', causes_of(err))
