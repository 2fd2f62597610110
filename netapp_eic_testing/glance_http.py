# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance's image API over HTTP, for a program that asks Glance itself
(``netapp-eic explain``, ``netapp-eic agent``): ``GET /v2/images/{id}``,
the service-only ``GET /v2/images/{id}/locations`` and the listing ``GET
/v2/images`` (``status``, ``updated_at=gt:``, ``limit``, ``marker``,
``next``), answered from a
:class:`~netapp_eic_testing.glance.FakeImageService`, with no token
required (Glance's ``noauth``). ``api.down = True`` answers 503 to
everything (an outage). Serves on 127.0.0.1, port 0.

    with GlanceApi(service) as api:
        api.url  # http://127.0.0.1:PORT
"""

import datetime
import http.server
import json
import socketserver
import threading
import urllib.parse


class _Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        api = self.server.api
        parts = self.path.split('?', 1)[0].strip('/').split('/')
        api.requests.append(self.path)
        if api.down:
            return self._send(503, {'message': 'Glance is down'})
        if parts == ['v2', 'images']:
            return self._send(200, api.listing(self.path))
        if parts[:2] != ['v2', 'images'] or len(parts) not in (3, 4):
            return self._send(404, {'message': 'not found'})
        try:
            meta = api.service.show(None, parts[2])
        except Exception:
            return self._send(404, {'message': 'image not found'})
        if len(parts) == 4:
            if parts[3] != 'locations':
                return self._send(404, {'message': 'not found'})
            _direct, locations = api.service.get_location(None, parts[2])
            return self._send(200, locations)
        return self._send(200, meta)

    def _send(self, status, body):
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One real OS thread per connection, as the simulator's server: a
    green ``http.server`` left by Cinder's test package (eventlet's
    ``import_patched``) would serve in greenlets and stall."""

    daemon_threads = True
    allow_reuse_address = True

    def process_request(self, request, client_address):
        threading.Thread(target=self.process_request_thread,
                         args=(request, client_address),
                         daemon=True).start()


class GlanceApi:
    """The HTTP stand-in; ``requests`` lists the paths asked."""

    def __init__(self, service):
        self.service = service
        self.requests = []
        self.down = False
        self._server = None
        self._thread = None

    def __enter__(self):
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def listing(self, path):
        """``GET /v2/images``: the page ``path`` asks for."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        found = sorted(self.service.detail(None),
                       key=lambda m: (m['updated_at'], m['id']))
        if 'status' in query:
            found = [m for m in found if m['status'] == query['status'][0]]
        after = query.get('updated_at', [''])[0]
        if after.startswith('gt:'):
            when = datetime.datetime.strptime(
                after[3:], '%Y-%m-%dT%H:%M:%SZ').replace(
                    tzinfo=datetime.timezone.utc)
            found = [m for m in found if m['updated_at'] > when]
        if 'marker' in query:
            ids = [m['id'] for m in found]
            marker = query['marker'][0]
            found = found[ids.index(marker) + 1:] if marker in ids else []
        limit = int(query.get('limit', ['25'])[0])
        page = {'images': found[:limit]}
        if len(found) > limit:
            rest = dict((k, v[0]) for k, v in query.items())
            rest['marker'] = found[limit - 1]['id']
            page['next'] = '/v2/images?' + urllib.parse.urlencode(rest)
        return page

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self._server.server_address[1]
