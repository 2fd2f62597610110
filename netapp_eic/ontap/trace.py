# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""API tracing of the EIC ONTAP client, as the parent driver does it.

Cinder traces the NetApp driver's ONTAP calls when ``trace_flags``
includes ``api``, limited to the calls whose path matches
``netapp_api_trace_pattern``. The EIC client honours both: a response hook
on its ``requests`` session logs, at DEBUG, the method, path, status and
time of each matching call. Headers (credentials) and bodies are never
logged.
"""

import collections.abc
import re
import typing
import urllib.parse

import requests
from netapp_ontap import host_connection
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def install(connection: host_connection.HostConnection, pattern: str,
            enabled: collections.abc.Callable[[], bool]) -> None:
    """Trace ``connection``'s calls matching ``pattern`` (a regular
    expression matched, as Cinder does, at the start of the API path
    without ``/api``) whenever ``enabled()`` says tracing is on."""
    matcher = re.compile(pattern)

    def hook(response: requests.Response, *args: typing.Any,
             **kwargs: typing.Any) -> None:
        if not enabled():
            return
        request = response.request
        url = urllib.parse.urlsplit(request.url or '')
        path = url.path[len('/api'):] if url.path.startswith('/api') \
            else url.path
        if not matcher.match(path):
            return
        LOG.debug('ONTAP API %(method)s %(path)s%(query)s -> %(status)s '
                  'in %(ms).1f ms', {
                      'method': request.method, 'path': path,
                      'query': '?' + url.query if url.query else '',
                      'status': response.status_code,
                      'ms': response.elapsed.total_seconds() * 1000})

    connection.session.hooks['response'].append(hook)
