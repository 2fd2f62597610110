# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Requests, responses, endpoint declarations and the URL table.

An ONTAP endpoint is declared as an :class:`Op`: its handler, the
resource whose schema it follows, the query arguments it takes, whether
schema fields filter it and which body fields a client may send. The
router checks all of that (:mod:`.validation`) before the handler runs,
so handlers see only valid requests. Paths are matched after the server
has collapsed ``//`` and dropped the trailing ``/``; path parameters are
percent-decoded here, except a ``{path+}`` parameter, which the handler
decodes itself.
"""

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from netapp_eic.simulator import errors
from netapp_eic.simulator.api import validation

if TYPE_CHECKING:  # pragma: no cover
    from netapp_eic.simulator.models import Backend
    from netapp_eic.simulator.simulator import Simulator

Handler = Callable[['Request'], 'Response']

#: Query arguments by kind of operation (ONTAP's common parameters).
GET_COLLECTION = ('fields', 'max_records', 'return_records',
                  'return_timeout', 'order_by', 'start.offset')
#: Cinder sends ``max_records`` on every GET, single objects included.
GET_INSTANCE = ('fields', 'return_timeout', 'max_records')
POST = ('return_timeout', 'return_records')
PATCH = DELETE = ('return_timeout',)
BULK = ('return_timeout', 'return_records', 'continue_on_failure',
        'serial_records')


@dataclasses.dataclass(frozen=True)
class Op:
    """One ONTAP operation: a handler and what its requests may hold."""

    handler: Handler
    resource: str
    args: tuple[str, ...] = ()
    filters: bool = False
    body: str | None = None
    extra_body: tuple[str, ...] = ()


Methods = dict[str, 'Op | Handler']
Route = tuple[str, Methods]


def get_collection(handler: Handler, resource: str,
                   extra: tuple[str, ...] = ()) -> Op:
    return Op(handler, resource, GET_COLLECTION + extra, filters=True)


def get_instance(handler: Handler, resource: str) -> Op:
    # ONTAP filters the arrays of a single object too (Cinder sends
    # ``counter_schemas.name`` on a counter table).
    return Op(handler, resource, GET_INSTANCE, filters=True)


@dataclasses.dataclass
class Request:
    """One parsed HTTP request, as handlers see it.

    ``svm`` is the SVM named by ``X-Dot-SVM-Name`` (None: cluster scope).
    """

    method: str
    path: str
    params: dict[str, str]
    sim: 'Simulator'
    body: object = None
    raw_body: bytes = b''
    content_type: str = ''
    svm: str | None = None
    args: dict[str, str] = dataclasses.field(default_factory=dict)
    effects: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def backend(self) -> 'Backend':
        return self.sim.backend

    def json(self) -> dict[str, Any]:
        """The body as a dict (``{}`` when empty); 400 when not an object."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise errors.BadRequest('The request body must be a JSON object.')
        return self.body


@dataclasses.dataclass
class Response:
    """An answer; ``headers`` are extra HTTP headers (``Location``)."""

    status: int
    body: Any
    content_type: str = 'application/json'
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def ok(body: Any = None, status: int = 200) -> Response:
    return Response(status, {} if body is None else body)


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r'\{(\w+)\+\}', r'(?P<\1>.+)', template)
    pattern = re.sub(r'\{(\w+)\}', r'(?P<\1>[^/]+)', pattern)
    return re.compile(f'^{pattern}$')


class Router:
    """``(template, {method: Op or handler})`` pairs, matched in order."""

    def __init__(self) -> None:
        self._table: list[tuple[re.Pattern[str], Methods]] = []
        self.templates: list[Route] = []

    def register(self, routes: Iterable[Route]) -> None:
        """Add routes; methods of a template seen before join it."""
        for template, methods in routes:
            for known, existing in self.templates:
                if known == template:
                    existing.update(methods)
                    break
            else:
                methods = dict(methods)
                self._table.append((_compile(template), methods))
                self.templates.append((template, methods))

    def match(self, method: str, path: str
              ) -> tuple['Op | Handler', dict[str, str]]:
        """``(operation, args)`` for a request; raises ONTAP-shaped
        errors."""
        for regex, methods in self._table:
            found = regex.match(path)
            if not found:
                continue
            if method not in methods:
                raise errors.MethodNotAllowed(
                    f'Method {method} is not supported on {path} by the '
                    'simulator.')
            args = {k: unquote(v) if k != 'path' else v
                    for k, v in found.groupdict().items()}
            return methods[method], args
        raise errors.NotImplementedApi(
            f'API not implemented by the simulator: {method} {path}')

    def dispatch(self, req: Request) -> Response:
        """Route ``req``, check it against its declaration, run it."""
        op, req.args = self.match(req.method, req.path)
        if not isinstance(op, Op):
            return op(req)
        validation.check_query(req.params, op.args, op.resource, op.filters)
        validation.check_body(req.json(), op.resource, op.body,
                              op.extra_body)
        return op.handler(req)
