# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The in-process transport: ``requests`` straight to the simulator.

Like moto's, it answers in the client's own process without a socket, a
TLS handshake or a CA: a ``requests`` transport adapter hands each
``PreparedRequest`` to :func:`netapp_eic.simulator.server.handle`, the
very function the HTTP(S) server calls, so authentication, the SVM scope
header, faults, the request log and the JSON/HAL encoding are the same.

* :class:`SimulatorAdapter` serves any ``requests.Session`` it is mounted
  on (``session.mount(origin, SimulatorAdapter(sim))``).
* :class:`SimulatorConnection` is a ``netapp_ontap`` ``HostConnection``
  whose session carries the library's own adapter (its URL encoding,
  timeouts, retries and logging) over :class:`SimulatorAdapter` instead
  of a urllib3 connection pool; ``Simulator.connection()`` builds one.

Each request runs in a thread of its own, as on the HTTP server, and the
caller waits for it no longer than its read timeout. A fault that delays
the answer past it times the attempt out while the request goes on in
the simulator, as behind a socket; the adapter's urllib3 ``Retry`` then
decides, as urllib3 would, whether to send it again (``netapp_ontap``
retries an idempotent method) or to raise ``ReadTimeout`` (or
``ConnectionError`` once the retries are spent). Answers whose status the
``Retry`` lists are retried the same way. TLS is not exercised here; the
HTTPS server is there for that.
"""

import http.client
import io
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from netapp_ontap import host_connection
from requests import adapters, structures, utils
from urllib3 import connectionpool, exceptions
from urllib3.util import retry as urllib3_retry

from netapp_eic.simulator import server

if TYPE_CHECKING:  # pragma: no cover
    from netapp_eic.simulator.simulator import Simulator

LOG = logging.getLogger(__name__)
#: ``requests``' timeout argument: seconds, (connect, read) or None.
Timeout = float | tuple[float | None, float | None] | None
#: ``requests``' client certificate argument (nothing to present it to).
Cert = bytes | str | tuple[bytes | str, bytes | str] | None
Retry = urllib3_retry.Retry
#: The port of an in-process connection's origin when no HTTPS server
#: runs (``HostConnection``'s default): a name to mount the adapter on,
#: never dialled.
IN_PROCESS_PORT = 443


def read_timeout(timeout: Timeout) -> float | None:
    """The read part of a ``requests`` timeout (None: wait forever)."""
    if isinstance(timeout, tuple):
        return timeout[1]
    return timeout


def body_bytes(body: object) -> bytes:
    """A prepared body as the bytes ``http.client`` would send."""
    if body is None:
        return b''
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode('iso-8859-1')
    read = getattr(body, 'read', None)
    if callable(read):
        return body_bytes(read())
    if isinstance(body, Iterable):
        return b''.join(body_bytes(chunk) for chunk in body)
    raise TypeError(f'cannot send a {type(body).__name__} body')


def header_items(headers: Iterable[tuple[str, str | bytes]]
                 ) -> list[tuple[str, str]]:
    """Request headers as text, bytes values decoded as on the wire."""
    return [(name, value.decode('latin-1') if isinstance(value, bytes)
             else value) for name, value in headers]


def as_retry(max_retries: int | Retry) -> Retry:
    """``HTTPAdapter``'s reading of ``max_retries``: 0 retries nothing,
    not even a read timeout."""
    if max_retries == adapters.DEFAULT_RETRIES:
        return Retry(0, read=False)
    return Retry.from_int(max_retries)


class SimulatorAdapter(adapters.BaseAdapter):
    """A ``requests`` transport answering from ``sim`` in this process.

    :param max_retries: as ``HTTPAdapter``'s: an int or a urllib3
        ``Retry``, applied to read timeouts and to the statuses it lists.
    """

    def __init__(self, sim: 'Simulator',
                 max_retries: int | Retry = adapters.DEFAULT_RETRIES
                 ) -> None:
        super().__init__()
        self.sim = sim
        self.max_retries = as_retry(max_retries)

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Timeout = None, verify: bool | str = True,
             cert: Cert = None, proxies: Mapping[str, str] | None = None
             ) -> requests.Response:
        """Answer ``request``; ``verify``, ``cert`` and ``proxies`` have
        nothing to act on without a socket."""
        url = request.url or ''
        reply = self._with_retries(request, url, read_timeout(timeout))
        response = requests.Response()
        response.status_code = reply.status
        response.headers = structures.CaseInsensitiveDict(reply.headers)
        response.encoding = utils.get_encoding_from_headers(response.headers)
        response.reason = http.client.responses.get(reply.status, '')
        response.raw = io.BytesIO(reply.body)
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: no connection pool."""

    def _with_retries(self, request: requests.PreparedRequest, url: str,
                      timeout: float | None) -> server.Reply:
        """Attempts until an answer that is not to be retried; raises as
        ``HTTPAdapter`` does when the ``Retry`` gives up."""
        method = request.method or 'GET'
        retries = self.max_retries
        while True:
            reply = self._attempt(request, method, timeout)
            if reply is not None and not retries.is_retry(
                    method, reply.status, _retry_after(reply)):
                return reply
            pool = connectionpool.connection_from_url(url)
            try:
                outcome = _next_retry(retries, method, request.path_url,
                                      pool, reply, timeout)
            except exceptions.MaxRetryError as e:
                if isinstance(e.reason, exceptions.ResponseError):
                    raise requests.exceptions.RetryError(
                        e, request=request) from None
                raise requests.exceptions.ConnectionError(
                    e, request=request) from None
            except exceptions.ReadTimeoutError as e:
                raise requests.exceptions.ReadTimeout(
                    e, request=request) from None
            finally:
                pool.close()
            if isinstance(outcome, server.Reply):
                return outcome
            retries = outcome

    def _attempt(self, request: requests.PreparedRequest, method: str,
                 timeout: float | None) -> server.Reply | None:
        """:func:`server.handle` in a request thread, waited for up to
        ``timeout`` seconds; None when it has not answered by then."""
        path = request.path_url
        headers = header_items(request.headers.items())
        body = body_bytes(request.body)
        replies: list[server.Reply] = []

        def run() -> None:
            try:
                replies.append(server.handle(self.sim, method, path,
                                             headers, body))
            except Exception:  # the server would drop the connection
                LOG.debug('no answer to %s %s', method, path, exc_info=True)

        worker = threading.Thread(target=run, name='netapp-eic-sim-request',
                                  daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            return None
        if not replies:
            raise requests.exceptions.ConnectionError(
                'The in-process simulator answered nothing.',
                request=request)
        return replies[0]


def _retry_after(reply: server.Reply) -> bool:
    return any(name.lower() == 'retry-after' for name, _ in reply.headers)


def _next_retry(retries: Retry, method: str, url: str,
                pool: connectionpool.HTTPConnectionPool,
                reply: server.Reply | None,
                timeout: float | None) -> Retry | server.Reply:
    """The ``Retry`` for the next attempt after a timed-out attempt
    (``reply`` None) or a retryable status, having slept its backoff, or
    ``reply`` when its status is to be answered as is. Raises urllib3's
    errors as ``urlopen`` would."""
    if reply is None:
        error = exceptions.ReadTimeoutError(
            pool, url, f'Read timed out. (read timeout={timeout})')
        retries = retries.increment(method, url, error=error, _pool=pool)
        retries.sleep()
        return retries
    answer = urllib3.HTTPResponse(
        body=reply.body, headers=dict(reply.headers), status=reply.status,
        request_method=method, request_url=url)
    try:
        retries = retries.increment(method, url, response=answer,
                                    _pool=pool)
    except exceptions.MaxRetryError:
        if retries.raise_on_status:
            raise
        return reply
    retries.sleep(answer)
    return retries


class _SimulatorWire(adapters.HTTPAdapter):
    """The ``HTTPAdapter`` layer under ``netapp_ontap``'s adapter, sending
    to the simulator instead of a urllib3 connection pool, with the same
    ``max_retries``."""

    def __init__(self, *args: Any, sim: 'Simulator', **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire = SimulatorAdapter(sim, max_retries=self.max_retries)

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Timeout = None, verify: bool | str = True,
             cert: Cert = None, proxies: Mapping[str, str] | None = None
             ) -> requests.Response:
        return self.wire.send(request, stream, timeout, verify, cert,
                              proxies)


class OntapAdapter(host_connection.LoggingAdapter, _SimulatorWire):
    """``netapp_ontap``'s ``LoggingAdapter`` (it fixes the query's
    encoding, applies the connection's timeouts and logs) whose
    ``HTTPAdapter.send`` is :class:`_SimulatorWire`'s.

    :param max_retries: the ``Retry`` of the adapter the library mounted.
    """

    def __init__(self, connection: host_connection.HostConnection,
                 sim: 'Simulator', max_retries: int | Retry) -> None:
        super().__init__(connection, sim=sim, max_retries=max_retries,
                         timeout=connection.protocol_timeouts)


class SimulatorConnection(host_connection.HostConnection):
    """A ``HostConnection`` whose calls never leave the process.

    ``netapp_ontap`` sends every call, resources and raw
    ``connection.session`` requests alike, through :attr:`session`; this
    one mounts :class:`OntapAdapter` on the connection's origin in place
    of the library's own adapter. The keyword arguments are
    ``HostConnection``'s; the simulator's host, the HTTPS server's port
    (:data:`IN_PROCESS_PORT` when none runs) and the simulator's user name
    and password (unless ``cert`` is given) are the defaults. The
    credentials are checked as over HTTPS.
    """

    def __init__(self, sim: 'Simulator', **kwargs: Any) -> None:
        self.simulator = sim
        kwargs.setdefault('host', sim.host)
        kwargs.setdefault('port', sim.bound_port or IN_PROCESS_PORT)
        if 'cert' not in kwargs:
            kwargs.setdefault('username', sim.username)
            kwargs.setdefault('password', sim.password)
        super().__init__(**kwargs)

    @property
    def session(self) -> requests.Session:
        """The library's session, the in-process adapter mounted on the
        origin (again whenever the library builds a new session)."""
        session = super().session
        mounted = session.adapters.get(self.origin)
        if not isinstance(mounted, OntapAdapter):
            max_retries = (mounted.max_retries
                           if isinstance(mounted, adapters.HTTPAdapter)
                           else adapters.DEFAULT_RETRIES)
            session.mount(self.origin,
                          OntapAdapter(self, self.simulator, max_retries))
        return session
