# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Requests, responses and the URL table the handlers register in.

Each handler takes a :class:`Request` and returns a :class:`Response`.
Paths are matched after the server has collapsed ``//`` and dropped the
trailing ``/``; path parameters are percent-decoded here, except a
``{path+}`` parameter, which the handler decodes itself.
"""

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from netapp_eic.simulator import errors, query

if TYPE_CHECKING:  # pragma: no cover
    from netapp_eic.simulator.models import Backend
    from netapp_eic.simulator.simulator import Simulator

Handler = Callable[['Request'], 'Response']
Methods = dict[str, Handler]
Route = tuple[str, Methods]


@dataclasses.dataclass
class Request:
    """One parsed HTTP request, as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    sim: 'Simulator'
    body: object = None
    raw_body: bytes = b''
    content_type: str = ''
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
    status: int
    body: Any
    content_type: str = 'application/json'


def ok(body: Any = None, status: int = 200) -> Response:
    return Response(status, {} if body is None else body)


def single(record: dict[str, Any], req: Request) -> Response:
    """A single-object GET: ``fields`` honoured, ``max_records`` ignored."""
    fields = req.params.get('fields')
    return ok(query.project(record, fields) if fields else record)


def collection(records: list[dict[str, Any]], req: Request,
               defaults: tuple[str, ...] = query.IDENTITY) -> Response:
    """A collection GET: filters, ``fields``, paging."""
    return ok(query.collection(records, req.params, req.path, defaults))


def find(records: list[dict[str, Any]], key: str, value: str,
         what: str) -> dict[str, Any]:
    """The record whose ``key`` holds ``value``; 404 otherwise."""
    for rec in records:
        values = query.lookup(rec, key)
        if values is not query.MISSING and value in values:
            return rec
    raise errors.NotFound(f'{what} "{value}" not found.', target=key)


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r'\{(\w+)\+\}', r'(?P<\1>.+)', template)
    pattern = re.sub(r'\{(\w+)\}', r'(?P<\1>[^/]+)', pattern)
    return re.compile(f'^{pattern}$')


class Router:
    """``(template, {method: handler})`` pairs, matched in order."""

    def __init__(self) -> None:
        self._table: list[tuple[re.Pattern[str], Methods]] = []
        self.templates: list[Route] = []

    def register(self, routes: Iterable[Route]) -> None:
        for template, methods in routes:
            self._table.append((_compile(template), methods))
            self.templates.append((template, methods))

    def match(self, method: str, path: str
              ) -> tuple[Handler, dict[str, str]]:
        """``(handler, args)`` for a request; raises ONTAP-shaped errors."""
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
        """Route ``req`` and run its handler."""
        handler, req.args = self.match(req.method, req.path)
        return handler(req)
