# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Requests in, answers out: authenticate, fault, dispatch, encode; and
the HTTP(S) server that carries them.

:func:`handle` is the whole of the simulator's answer to one request,
whatever carries it: it checks Basic auth, scopes the request to the SVM
named by ``X-Dot-SVM-Name`` (an unknown SVM is an error), matches it
against the injected faults (ONTAP paths and the copy offload endpoint
only), dispatches it through :data:`netapp_eic.simulator.api.ROUTER`,
logs it and encodes the answer: HAL JSON unless the client asks for plain
``application/json`` (see :mod:`.api.hal`). Errors answer an ONTAP error
body, never a traceback. The :class:`Handler` of the HTTP(S)
:class:`Server` and the in-process transport
(:mod:`netapp_eic.simulator.transport`) both call it.
"""

import base64
import dataclasses
import hmac
import http.server
import json
import logging
import re
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api import ROUTER, Request, Response, hal

if TYPE_CHECKING:  # pragma: no cover
    from netapp_eic.simulator.simulator import Simulator

LOG = logging.getLogger(__name__)
#: Control paths that still go through fault injection.
FAULTED_CONTROL = ('/_sim/copyoffload',)
UNLOGGED = ('/_sim/requests',)
#: Scopes a request to one SVM (Cinder's "tunneling").
SVM_HEADER = 'X-Dot-SVM-Name'
#: A request's body, or a function that reads it (the HTTP handler reads
#: the socket where a failure still gets an ONTAP error answer).
Body = bytes | Callable[[], bytes]


@dataclasses.dataclass(frozen=True)
class Reply:
    """An encoded answer: status, headers in order, body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Headers:
    """Request headers by case-insensitive name; the first of a repeated
    header wins, as ``http.server`` reads them."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in items:
            self._values.setdefault(name.lower(), value)

    def get(self, name: str, default: str = '') -> str:
        return self._values.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values


def normalize_path(raw: str) -> tuple[str, str]:
    """Collapse ``//``, drop the trailing ``/``; returns (path, query)."""
    path, _, query_string = raw.partition('?')
    path = re.sub('/+', '/', path)
    if len(path) > 1:
        path = path.rstrip('/')
    return path, query_string


def handle(sim: 'Simulator', method: str, target: str,
           headers: Iterable[tuple[str, str]], body: Body) -> Reply:
    """The simulator's answer to ``method target`` (the raw path and query
    string), whatever the transport: an ONTAP error body for any failure
    of the request, never a traceback."""
    request_headers = Headers(headers)
    path, query_string = normalize_path(target)
    params = query.parse_query(query_string)
    try:
        raw = body() if callable(body) else body
        response = _respond(sim, method, path, params, request_headers, raw)
    except errors.OntapError as e:
        response = Response(e.status, e.body())
    except Exception as e:  # never a traceback on the wire
        LOG.exception('simulator failure on %s %s', method, path)
        err = errors.InternalError(
            f'Internal simulator error: {type(e).__name__}')
        response = Response(err.status, err.body())
    if path not in UNLOGGED:
        sim.log_request(method, path, query_string, params, response.status)
    return encode(response, request_headers)


def _respond(sim: 'Simulator', method: str, path: str,
             params: dict[str, str], headers: Headers,
             raw: bytes) -> Response:
    _check_auth(sim, headers)
    req = Request(method, path, params, sim, raw_body=raw,
                  content_type=headers.get('Content-Type'))
    if raw and 'json' in req.content_type:
        try:
            req.body = json.loads(raw)
        except ValueError:
            raise errors.BadRequest('Invalid JSON body.') from None
    if path.startswith('/api/'):
        req.svm = _svm_scope(sim, headers)
    if not path.startswith('/_sim/') or path in FAULTED_CONTROL:
        req.effects = sim.faults.apply(method, path)
    return ROUTER.dispatch(req)


def _svm_scope(sim: 'Simulator', headers: Headers) -> str | None:
    """The SVM of ``X-Dot-SVM-Name`` (it must exist), or None."""
    if SVM_HEADER not in headers:
        return None
    name = headers.get(SVM_HEADER)
    svm = sim.backend.cluster.svm_by_name(name)
    if svm is None:
        raise errors.NotFound(f'SVM "{name}" does not exist.',
                              target=SVM_HEADER)
    return svm.name


def _check_auth(sim: 'Simulator', headers: Headers) -> None:
    header = headers.get('Authorization')
    expected = 'Basic ' + base64.b64encode(
        (f'{sim.username}:{sim.password}').encode()).decode()
    if not hmac.compare_digest(header.encode(), expected.encode()):
        raise errors.Unauthorized('Authentication failed: wrong user '
                                  'name or password.')


def _wants_plain_json(headers: Headers) -> bool:
    accept = headers.get('Accept').split(';')[0].strip()
    return accept.lower() == 'application/json'


def encode(response: Response, headers: Headers) -> Reply:
    """``response`` as bytes: JSON bodies as HAL, or plain JSON without
    links when the client's ``Accept`` asks for it."""
    body = response.body
    content_type = response.content_type
    if not isinstance(body, bytes):
        plain = _wants_plain_json(headers)
        body = json.dumps(hal.strip_links(body) if plain else body).encode()
        content_type = 'application/json' if plain else hal.CONTENT_TYPE
    out = [('Content-Type', content_type),
           ('Content-Length', str(len(body))), *response.headers.items()]
    if response.status == 401:
        out.append(('WWW-Authenticate', 'Basic realm="ontap-sim"'))
    return Reply(response.status, out, body)


class Handler(http.server.BaseHTTPRequestHandler):
    """Carries HTTP to :func:`handle` and its :class:`Reply` back."""

    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    server_version = 'netapp-eic-sim'
    server: 'Server'

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: the simulator keeps its own request log.
        LOG.debug('%s - %s', self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle('GET')

    def do_POST(self) -> None:
        self._handle('POST')

    def do_PATCH(self) -> None:
        self._handle('PATCH')

    def do_DELETE(self) -> None:
        self._handle('DELETE')

    def do_PUT(self) -> None:
        self._handle('PUT')

    def _read_body(self) -> bytes:
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def _handle(self, method: str) -> None:
        reply = handle(self.server.sim, method, self.path,
                       self.headers.items(), self._read_body)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(reply.body)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Threaded server; TLS handshakes run in the request thread.

    Built on this process's own ``socketserver`` rather than on
    ``http.server.ThreadingHTTPServer``: where eventlet's ``import_patched``
    left a green copy of ``http.server`` behind (Cinder's test package does),
    that class would serve every connection in a greenlet of the serving
    thread, and one idle keep-alive connection would stall the server.
    :meth:`process_request` starts a real OS thread either way.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: 'Simulator',
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.sim = sim
        self.ssl_context = ssl_context
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        super().server_bind()
        host, port = self.server_address[:2]
        self.server_name = socket.getfqdn(str(host))
        self.server_port = port

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address),
                                  name='netapp-eic-sim-request', daemon=True)
        thread.start()

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(60)
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request,
                                                       server_side=True)
            except (ssl.SSLError, OSError) as e:
                LOG.debug('TLS handshake failed from %s: %s',
                          client_address, e)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        LOG.debug('connection error from %s', client_address)
