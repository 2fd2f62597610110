# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The :class:`Simulator` facade: one fake ONTAP cluster, served.

It builds the :class:`~netapp_eic.simulator.models.Backend`, generates the
TLS material, serves on ``127.0.0.1`` (port 0 by default) and offers the
same control operations as the ``/_sim`` HTTP API.

With ``serve=False`` it starts no server: :meth:`Simulator.connection`
answers in-process (:mod:`.transport`), and the HTTPS server, with its
CA, starts the first time something needs a real endpoint (``url``,
``port``, ``ca_file``, ``write_copyoffload_tool``).
"""

import os
import secrets
import shutil
import ssl
import sys
import tempfile
import threading
import time
from typing import Any

from netapp_eic.simulator import tls as tls_material
from netapp_eic.simulator import topology as topo
from netapp_eic.simulator import transport
from netapp_eic.simulator.faults import Fault, Faults
from netapp_eic.simulator.models import Backend
from netapp_eic.simulator.server import Server

#: How often the server loop looks for a stop request, seconds: ``stop()``
#: waits up to this long (every test that serves pays it once).
SHUTDOWN_POLL = 0.01


class Simulator:
    """A simulated ONTAP cluster served over HTTP(S) on 127.0.0.1.

    Use as a context manager or call :meth:`start` / :meth:`stop`. With
    ``serve=False`` the server starts only when an endpoint is asked for
    (see the module's docstring).
    """

    def __init__(self, topology: topo.Spec | str | None = None,
                 data_root: str | None = None, tls: bool = True,
                 seed: int | None = None, username: str = 'admin',
                 password: str | None = None, port: int = 0,
                 job_ttl: float = 300.0, clone_mode: str | None = None,
                 host: str = '127.0.0.1', serve: bool = True) -> None:
        self.topology = topology
        self.requested_data_root = data_root
        self.tls = tls
        self.seed = seed
        self.username = username
        self.password = password or secrets.token_urlsafe(16)
        self.host = host
        self.serve_on_start = serve
        self.job_ttl = job_ttl
        self.forced_clone_mode = clone_mode
        self.faults = Faults()
        self._backend: Backend | None = None
        self._port = port
        self._ca_file: str | None = None
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._serve_lock = threading.Lock()
        self._running = False
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp_dirs: list[str] = []

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> 'Simulator':
        """Build the state; unless ``serve=False``, generate TLS material
        and start serving."""
        try:
            data_root = self.requested_data_root
            if data_root is None:
                data_root = self._mkdtemp('netapp-eic-sim-data-')
            self._backend = Backend(
                self.topology, data_root, seed=self.seed,
                job_ttl=self.job_ttl, clone_mode=self.forced_clone_mode)
            self._running = True
            if self.serve_on_start:
                self.ensure_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def _mkdtemp(self, prefix: str) -> str:
        path = tempfile.mkdtemp(prefix=prefix)
        self._tmp_dirs.append(path)
        return path

    def _ssl_context(self) -> ssl.SSLContext:
        ips = [lif['ip'] for svm in self.backend.svms for lif in svm.lifs]
        ca, cert, key = tls_material.generate(
            self._mkdtemp('netapp-eic-sim-tls-'), ips + [self.host])
        self._ca_file = ca
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx

    def ensure_serving(self) -> None:
        """Start the HTTP(S) server, with its TLS material, unless it runs
        (or the simulator is not started: nothing to serve)."""
        with self._serve_lock:
            if self._server is not None or not self._running:
                return
            ctx = self._ssl_context() if self.tls else None
            self._server = Server((self.host, self._port), self, ctx)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={'poll_interval': SHUTDOWN_POLL}, name='netapp-eic-sim',
                daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop serving, stop jobs and remove the temporary directories."""
        with self._serve_lock:
            self._running = False
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(10)
        if self._backend is not None:
            self._backend.shutdown()
        for path in self._tmp_dirs:
            shutil.rmtree(path, ignore_errors=True)
        self._tmp_dirs = []

    def __enter__(self) -> 'Simulator':
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- properties ----------------------------------------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError('the simulator is not started')
        return self._backend

    @property
    def serving(self) -> bool:
        """Whether the HTTP(S) server runs."""
        return self._server is not None

    @property
    def bound_port(self) -> int | None:
        """The server's port while it runs; None otherwise (no start)."""
        return self._port if self._server is not None else None

    @property
    def port(self) -> int:
        """The server's TCP port (the server starts if need be)."""
        self.ensure_serving()
        return self._port

    @property
    def ca_file(self) -> str | None:
        """The CA that signed the server's certificate (None over plain
        HTTP); the server starts if need be."""
        self.ensure_serving()
        return self._ca_file

    @property
    def url(self) -> str:
        """The server's URL (the server starts if need be)."""
        scheme = 'https' if self.tls else 'http'
        return f'{scheme}://{self.host}:{self.port}'

    @property
    def control_url(self) -> str:
        return self.url + '/_sim'

    @property
    def vserver(self) -> str:
        return self.backend.cluster.default_vserver()

    @property
    def shares(self) -> dict[str, str]:
        return self.backend.cluster.shares()

    @property
    def clone_mode(self) -> str:
        return self.backend.clone_mode

    @property
    def data_root(self) -> str:
        return self.backend.data_root

    def info(self) -> dict[str, Any]:
        """What the CLI prints: connection details, shares, clone mode.

        Without a running server (``serve=False``) ``url``, ``port``,
        ``ca_file`` and ``control_url`` are None; asking does not start
        it."""
        cluster = self.backend.cluster
        served = self.serving
        return {
            'url': self.url if served else None, 'host': self.host,
            'port': self._port if served else None,
            'username': self.username, 'password': self.password,
            'ca_file': self._ca_file, 'tls': bool(self.tls),
            'vserver': self.vserver,
            'control_url': self.control_url if served else None,
            'clone_mode': self.clone_mode, 'data_root': self.data_root,
            'shares': self.shares, 'pid': os.getpid(),
            'svms': {s.name: {'lifs': [lif['ip'] for lif in s.lifs],
                              'vstorage_enabled': s.vstorage_enabled,
                              'volumes': [v.name for v in cluster.volumes
                                          if v.svm is s]}
                     for s in cluster.svms},
            'volumes': {v.name: {'uuid': v.uuid, 'svm': v.svm.name,
                                 'junction': v.junction, 'path': v.path}
                        for v in cluster.volumes}}

    def connection(self, **kwargs: Any) -> transport.SimulatorConnection:
        """A ``netapp_ontap`` ``HostConnection`` answered in this process
        (no socket, no TLS), with this simulator's credentials; keyword
        arguments are ``HostConnection``'s and override the defaults."""
        return transport.SimulatorConnection(self, **kwargs)

    # -- control operations --------------------------------------------------

    def reset(self) -> None:
        """Clear jobs, fingerprint sessions, QoS state, faults and the
        request log and put the SVM peers back as the topology has them
        (files stay)."""
        self.backend.reset()
        self.clear_faults()
        self.clear_request_log()

    def add_fault(self, method: str = '*', path: str = '*',
                  count: int | None = None, **effects: Any) -> Fault:
        """Add a fault; see :mod:`netapp_eic.simulator.faults`."""
        return self.faults.add(dict(effects, method=method, path=path,
                                    count=count))

    def clear_faults(self) -> None:
        self.faults.clear()

    def log_request(self, method: str, path: str, query_string: str,
                    params: dict[str, str], status: int) -> None:
        with self._log_lock:
            self._log.append({'method': method, 'path': path,
                              'query': query_string, 'params': params,
                              'status': status, 'time': time.time()})

    def request_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return [dict(r) for r in self._log]

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log = []

    def write_copyoffload_tool(self, directory: str) -> str:
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
