# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""One REST request on a ``netapp_ontap`` connection, without resources.

The hot path (file clone, File Copy, job polls) sends its small JSON bodies
straight through the connection's ``requests`` session: same origin, auth
(password or certificate), TLS verification, retries and timeouts as every
``netapp_ontap`` call, but no resource object, whose marshmallow
serialization costs tens of milliseconds per call. Errors are raised as
``NetAppRestError`` (as the library does), so :func:`calls.api` converts
them like any other.
"""

import collections.abc
import typing

import requests
from netapp_ontap import error as ontap_error
from netapp_ontap import host_connection


class Answer(typing.NamedTuple):
    """An HTTP status, the JSON body (None when not JSON) and the
    ``Location`` header (a created object's URL; None without one)."""

    status: int
    body: typing.Any
    location: str | None = None


def send(connection: host_connection.HostConnection, method: str, path: str,
         params: collections.abc.Mapping[str, typing.Any] | None = None,
         body: typing.Any = None, timeout: float | None = None) -> Answer:
    """``method /api<path>`` on ``connection``.

    :param timeout: the read timeout, seconds (the connection's when None);
        a request holding ``return_timeout`` must allow more than that.
    :raises NetAppRestError: the request failed or answered 4xx/5xx.
    """
    url = '%s/api%s' % (connection.origin, path)
    timeouts = None
    if timeout is not None:
        configured = connection.protocol_timeouts
        connect = (configured[0] if isinstance(configured, tuple)
                   else configured)
        timeouts = (connect, timeout)
    try:
        response = connection.session.request(
            method, url, params=params, json=body, timeout=timeouts)
        response.raise_for_status()
    except requests.exceptions.RequestException as err:
        raise ontap_error.NetAppRestError(cause=err) from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    return Answer(response.status_code, payload,
                  response.headers.get('Location'))
