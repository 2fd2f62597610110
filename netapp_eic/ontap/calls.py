# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The pieces every ONTAP call shares: value types, error conversion,
response helpers.

Each ``NetAppRestError`` raised inside :func:`api` becomes an
:class:`netapp_eic.exception.OntapApiError` carrying the HTTP status and the
ONTAP error code. ``netapp_ontap.resources`` loads its classes lazily
(apipkg), which no type checker can follow: its resource classes are
``Any`` here (:data:`resources`).
"""

import collections.abc
import contextlib
import dataclasses
import datetime
import typing

import requests
from netapp_ontap import error as ontap_error
from netapp_ontap import resources as _resources
from netapp_ontap import response as ontap_response
from oslo_log import log as logging
from oslo_utils import timeutils

from netapp_eic import exception

LOG = logging.getLogger(__name__)

resources: typing.Any = _resources

#: ONTAP error code of the file API for "no such file or directory".
CODE_NO_SUCH_FILE = '6684674'


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


#: The SVM peering application a cross-SVM File Copy needs.
FILE_COPY_APPLICATION = 'file_copy'


@dataclasses.dataclass(frozen=True)
class SvmPeer:
    """An SVM peer relationship as ``svm`` sees it: its ``state``
    (``peered`` when usable) and the ``applications`` it allows."""

    uuid: str
    svm: str
    peer: str
    state: str
    applications: tuple[str, ...]

    @property
    def allows_file_copy(self) -> bool:
        return (self.state == 'peered' and
                FILE_COPY_APPLICATION in self.applications)


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """What the driver reads about a file.

    ``type`` is ONTAP's file type (``file``, ``directory``, ``symlink``,
    ``lun``...; None when ONTAP did not say) and ``hard_links_count`` the
    number of names of the file: a fast path uses only a ``file`` with one.
    """

    size: int
    bytes_used: int | None
    accessed_time: datetime.datetime | None
    modified_time: datetime.datetime | None
    type: str | None = None
    hard_links_count: int | None = None
    #: ONTAP's inode number and last change (data, size, links, owner):
    #: with size and modification time, the file's identity.
    inode_number: int | None = None
    changed_time: datetime.datetime | None = None

    @property
    def is_regular(self) -> bool:
        return self.type == 'file' and self.hard_links_count in (None, 1)


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """ONTAP's digest of a file: ``algorithm`` (``sha256`` or ``md5``),
    ``hexdigest`` (lower-case hex, decoded from ONTAP's base64) and the
    ``size`` ONTAP reported (None when it did not)."""

    algorithm: str
    hexdigest: str
    size: int | None


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
def api(call: str) -> collections.abc.Iterator[None]:
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


def is_missing(err: exception.OntapApiError) -> bool:
    """True for "no such file"/"entry doesn't exist" errors."""
    return err.status == 404 or err.code == CODE_NO_SUCH_FILE


def job_of(body: object) -> dict[str, typing.Any]:
    """The ``job`` object of a response body ({} when there is none)."""
    if isinstance(body, dict) and isinstance(body.get('job'), dict):
        return typing.cast(dict[str, typing.Any], body['job'])
    return {}


def body_of(response: ontap_response.NetAppResponse) -> object:
    """The JSON body of a response, or None."""
    try:
        return response.http_response.json()
    except ValueError:
        return None


def parse_time(value: object) -> datetime.datetime | None:
    """An ONTAP timestamp (ISO-8601 string or datetime) as a datetime."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return timeutils.parse_isotime(value)
        except ValueError:
            return None
    return None


def opt_int(value: object) -> int | None:
    return None if value is None else int(typing.cast(int, value))


def volume_ref(vol: FlexVol) -> dict[str, str]:
    return {'uuid': vol.uuid, 'name': vol.name}


def copy_endpoint(where: ResolvedPath) -> dict[str, typing.Any]:
    """One side of a File Copy ``files_to_copy`` entry."""
    return {'volume': volume_ref(where.flexvol),
            'svm': {'name': where.flexvol.svm},
            'path': where.path}
