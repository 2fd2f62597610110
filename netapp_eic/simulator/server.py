# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Threaded HTTP(S) server, basic auth, faults, request log, control API.

:class:`Simulator` is the public entry point: it builds the
:class:`~netapp_eic.simulator.models.Backend`, generates the TLS material,
serves on ``127.0.0.1`` (port 0 by default) and offers the same control
operations as the ``/_sim`` HTTP API.
"""

import base64
import fnmatch
import hmac
import http.server
import json
import logging
import os
import re
import secrets
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time

from netapp_eic.simulator import errors, models, query, routes, tls

LOG = logging.getLogger(__name__)
FAULT_KEYS = frozenset({'method', 'path', 'count', 'status', 'code',
                        'message', 'delay', 'fail_after_percent',
                        'throttle_bps', 'no_space'})
JOB_EFFECTS = ('fail_after_percent', 'throttle_bps', 'no_space')


class Faults:
    """Injected faults matched on method + path glob, fired ``count`` times."""

    def __init__(self):
        self._faults = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec):
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise errors.BadRequest('Unknown fault keys: {}'.format(
                ', '.join(sorted(unknown))))
        fault = {'method': str(spec.get('method', '*')).upper(),
                 'path': spec.get('path', '*'), 'count': spec.get('count')}
        for key in FAULT_KEYS - {'method', 'path', 'count'}:
            if spec.get(key) is not None:
                fault[key] = spec[key]
        with self._lock:
            fault['id'] = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return dict(fault)

    def list(self):
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self, fault_id=None):
        with self._lock:
            self._faults = [f for f in self._faults
                            if fault_id is not None and f['id'] != fault_id]

    def fire(self, method, path):
        """Faults matching this request; each use consumes one ``count``."""
        fired = []
        with self._lock:
            for fault in list(self._faults):
                if fault['method'] not in ('*', method):
                    continue
                if not fnmatch.fnmatchcase(path, fault['path']):
                    continue
                fired.append(dict(fault))
                if fault['count'] is not None:
                    fault['count'] -= 1
                    if fault['count'] <= 0:
                        self._faults.remove(fault)
        return fired


def normalize_path(raw):
    """Collapse ``//``, drop the trailing ``/``; returns (path, query)."""
    path, _, query_string = raw.partition('?')
    path = re.sub('/+', '/', path)
    if len(path) > 1:
        path = path.rstrip('/')
    return path, query_string


class Handler(http.server.BaseHTTPRequestHandler):
    """Turns HTTP into :class:`routes.Request` and back; never leaks a
    traceback."""

    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    server_version = 'netapp-eic-sim'

    def log_message(self, fmt, *args):  # quiet: the request log is kept
        LOG.debug('%s - %s', self.address_string(), fmt % args)

    def do_GET(self):
        self._handle('GET')

    def do_POST(self):
        self._handle('POST')

    def do_PATCH(self):
        self._handle('PATCH')

    def do_DELETE(self):
        self._handle('DELETE')

    def do_PUT(self):
        self._handle('PUT')

    def _read_body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def _handle(self, method):
        sim = self.server.sim
        path, query_string = normalize_path(self.path)
        params = query.parse_query(query_string)
        try:
            raw = self._read_body()
            response = self._respond(sim, method, path, params, raw)
        except errors.OntapError as e:
            response = routes.Response(e.status, e.body())
        except Exception as e:  # never a traceback on the wire
            LOG.exception('simulator failure on %s %s', method, path)
            err = errors.InternalError(
                f'Internal simulator error: {type(e).__name__}')
            response = routes.Response(err.status, err.body())
        if path != '/_sim/requests':
            sim.log_request(method, path, query_string, params,
                            response.status)
        self._send(response)

    def _respond(self, sim, method, path, params, raw):
        self._check_auth(sim)
        req = routes.Request(method, path, params, raw_body=raw,
                             content_type=self.headers.get('Content-Type',
                                                           ''), sim=sim)
        if raw and 'json' in req.content_type:
            try:
                req.body = json.loads(raw)
            except ValueError:
                raise errors.BadRequest('Invalid JSON body.') from None
        if not path.startswith('/_sim/') or path == '/_sim/copyoffload':
            req.effects = self._apply_faults(sim, method, path)
        if path.startswith('/_sim/'):
            return control_dispatch(req)
        return routes.dispatch(req)

    def _check_auth(self, sim):
        header = self.headers.get('Authorization', '')
        expected = 'Basic ' + base64.b64encode(
            (f'{sim.username}:{sim.password}').encode()).decode()
        if not hmac.compare_digest(header.encode(), expected.encode()):
            raise errors.Unauthorized('Authentication failed: wrong user '
                                      'name or password.')

    def _apply_faults(self, sim, method, path):
        effects = {}
        for fault in sim.faults.fire(method, path):
            if fault.get('delay'):
                time.sleep(float(fault['delay']))
            if fault.get('status'):
                raise errors.OntapError(
                    fault.get('message', f'Injected fault on {method} {path}'),
                    status=fault['status'], code=fault.get('code', '5'))
            effects.update({k: fault[k] for k in JOB_EFFECTS if k in fault})
        return effects

    def _send(self, response):
        body = response.body
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(response.status)
        self.send_header('Content-Type', response.content_type)
        self.send_header('Content-Length', str(len(body)))
        if response.status == 401:
            self.send_header('WWW-Authenticate', 'Basic realm="ontap-sim"')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)


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

    def __init__(self, address, sim, ssl_context=None):
        self.sim = sim
        self.ssl_context = ssl_context
        super().__init__(address, Handler)

    def server_bind(self):
        super().server_bind()
        host, port = self.server_address[:2]
        self.server_name = socket.getfqdn(host)
        self.server_port = port

    def process_request(self, request, client_address):
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address),
                                  name='netapp-eic-sim-request', daemon=True)
        thread.start()

    def finish_request(self, request, client_address):
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

    def handle_error(self, request, client_address):
        LOG.debug('connection error from %s', client_address)


# -- control API -------------------------------------------------------------

def _ctl_info(req):
    return routes.ok(req.sim.info())


def _ctl_requests(req):
    return routes.ok({'records': req.sim.request_log(),
                      'num_records': len(req.sim.request_log())})


def _ctl_clear_requests(req):
    req.sim.clear_request_log()
    return routes.ok()


def _ctl_reset(req):
    req.sim.reset()
    return routes.ok()


def _ctl_faults(req):
    faults = req.sim.faults.list()
    return routes.ok({'records': faults, 'num_records': len(faults)})


def _ctl_add_fault(req):
    return routes.ok(req.sim.add_fault(**req.json()), status=201)


def _ctl_clear_faults(req):
    req.sim.clear_faults()
    return routes.ok()


def _ctl_delete_fault(req):
    req.sim.faults.clear(query.as_int(req.args['id']))
    return routes.ok()


def _ctl_copyoffload(req):
    """Server-side copy between two NFS paths, as the copy offload tool."""
    body = req.json()
    backend = req.backend
    sides = []
    for ip_key, path_key in (('src_ip', 'src_path'), ('dst_ip', 'dst_path')):
        ip = body.get(ip_key)
        svm = backend.svm_for_ip(ip)
        if svm is None:
            raise errors.BadRequest(
                f'{ip} is not a data LIF of this cluster.', target=ip_key)
        if not svm.vstorage_enabled:
            raise errors.BadRequest(
                f'vStorage is disabled on SVM {svm.name} (LIF {ip}): copy '
                'offload is not available.', target=ip_key, code='13001')
        vol, rel = backend.volume_for_junction(svm, str(body.get(path_key)))
        sides.append({'volume': vol.ref(), 'path': rel})
    job = backend.start_copy(
        [{'source': sides[0], 'destination': sides[1]}], overwrite=True,
        faults=req.effects, description='Copy offload {}:{} -> {}:{}'.format(
            body.get('src_ip'), body.get('src_path'), body.get('dst_ip'),
            body.get('dst_path')))
    return routes.job_response(req, job)


CONTROL_ROUTES = [
    ('/_sim/info', {'GET': _ctl_info}),
    ('/_sim/requests', {'GET': _ctl_requests, 'DELETE': _ctl_clear_requests}),
    ('/_sim/reset', {'POST': _ctl_reset}),
    ('/_sim/faults', {'GET': _ctl_faults, 'POST': _ctl_add_fault,
                      'DELETE': _ctl_clear_faults}),
    ('/_sim/faults/{id}', {'DELETE': _ctl_delete_fault}),
    ('/_sim/copyoffload', {'POST': _ctl_copyoffload}),
]
routes.register(CONTROL_ROUTES)


def control_dispatch(req):
    return routes.dispatch(req)


# -- the Simulator -----------------------------------------------------------

class Simulator:
    """A simulated ONTAP cluster served over HTTP(S) on 127.0.0.1.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, topology=None, data_root=None, tls=True, seed=None,
                 username='admin', password=None, port=0, job_ttl=300.0,
                 clone_mode=None, host='127.0.0.1'):
        self.topology = topology
        self.requested_data_root = data_root
        self.tls = tls
        self.seed = seed
        self.username = username
        self.password = password or secrets.token_urlsafe(16)
        self.host = host
        self.port = port
        self.job_ttl = job_ttl
        self.forced_clone_mode = clone_mode
        self.faults = Faults()
        self.backend = None
        self.ca_file = None
        self._log = []
        self._log_lock = threading.Lock()
        self._server = None
        self._thread = None
        self._tmp_dirs = []

    # -- lifecycle -----------------------------------------------------------

    def start(self):
        """Build the state, generate TLS material and start serving."""
        try:
            data_root = self.requested_data_root
            if data_root is None:
                data_root = self._mkdtemp('netapp-eic-sim-data-')
            self.backend = models.Backend(
                self.topology, data_root, seed=self.seed,
                job_ttl=self.job_ttl, clone_mode=self.forced_clone_mode)
            self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def _mkdtemp(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self._tmp_dirs.append(path)
        return path

    def _ssl_context(self):
        ips = [lif['ip'] for svm in self.backend.svms for lif in svm.lifs]
        ca, cert, key = tls.generate(self._mkdtemp('netapp-eic-sim-tls-'),
                                     ips + [self.host])
        self.ca_file = ca
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx

    def _serve(self):
        ctx = self._ssl_context() if self.tls else None
        self._server = Server((self.host, self.port), self, ctx)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        name='netapp-eic-sim', daemon=True)
        self._thread.start()

    def stop(self):
        """Stop serving, stop jobs and remove the temporary directories."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self.backend is not None:
            self.backend.shutdown()
        for path in self._tmp_dirs:
            shutil.rmtree(path, ignore_errors=True)
        self._tmp_dirs = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- properties ----------------------------------------------------------

    @property
    def url(self):
        scheme = 'https' if self.tls else 'http'
        return f'{scheme}://{self.host}:{self.port}'

    @property
    def control_url(self):
        return self.url + '/_sim'

    @property
    def vserver(self):
        return self.backend.default_vserver()

    @property
    def shares(self):
        return self.backend.shares()

    @property
    def clone_mode(self):
        return self.backend.clone_mode

    @property
    def data_root(self):
        return self.backend.data_root

    def info(self):
        """What the CLI prints: connection details, shares, clone mode."""
        return {
            'url': self.url, 'host': self.host, 'port': self.port,
            'username': self.username, 'password': self.password,
            'ca_file': self.ca_file, 'tls': bool(self.tls),
            'vserver': self.vserver, 'control_url': self.control_url,
            'clone_mode': self.clone_mode, 'data_root': self.data_root,
            'shares': self.shares, 'pid': os.getpid(),
            'svms': {s.name: {'lifs': [lif['ip'] for lif in s.lifs],
                              'vstorage_enabled': s.vstorage_enabled,
                              'volumes': [v.name for v in
                                          self.backend.volumes
                                          if v.svm is s]}
                     for s in self.backend.svms},
            'volumes': {v.name: {'uuid': v.uuid, 'svm': v.svm.name,
                                 'junction': v.junction, 'path': v.path}
                        for v in self.backend.volumes}}

    # -- control operations --------------------------------------------------

    def reset(self):
        """Clear jobs, QoS state, faults and the request log (files stay)."""
        self.backend.reset()
        self.clear_faults()
        self.clear_request_log()

    def add_fault(self, method='*', path='*', count=None, **effects):
        """Add a fault; see the module docs of ``netapp_eic.simulator``."""
        spec = dict(effects, method=method, path=path, count=count)
        return self.faults.add(spec)

    def clear_faults(self):
        self.faults.clear()

    def log_request(self, method, path, query_string, params, status):
        with self._log_lock:
            self._log.append({'method': method, 'path': path,
                              'query': query_string, 'params': params,
                              'status': status, 'time': time.time()})

    def request_log(self):
        with self._log_lock:
            return [dict(r) for r in self._log]

    def clear_request_log(self):
        with self._log_lock:
            self._log = []

    def write_copyoffload_tool(self, directory):
        """Write an executable copy offload stand-in; returns its path."""
        path = os.path.join(directory, 'na_copyoffload_64')
        config = {'url': self.url, 'username': self.username,
                  'password': self.password, 'ca_file': self.ca_file}
        package_root = os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))))
        script = (f'#!{sys.executable}\n'
                  '# netapp-eic copy offload stand-in (generated).\n'
                  f'import sys\nsys.path.insert(0, {package_root!r})\n'
                  'from netapp_eic.simulator import copyoffload\n'
                  'sys.exit(copyoffload.main(sys.argv[1:], '
                  f'config={config!r}))\n')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
        with os.fdopen(fd, 'w') as f:
            f.write(script)
        return path

