# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Redis from Debian's package: the stack's tooz coordination backend.

Cinder's ``[coordination] backend_url`` points every service at it, so the
locks the driver takes around an image cache build (single-flight) hold
across cinder-volume hosts, as in an active/active deployment. It listens
on a Unix socket in the run directory and on no TCP port (``--port 0``),
keeps nothing on disk, and is stopped by its process group like every
other service (the arguments are those of
:class:`netapp_eic_testing.redis.RedisServer`).
"""

import os
import shutil

from tests.e2e import procs


class Redis:
    """One ``redis-server``; ``url`` is the tooz ``backend_url``."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.home = os.path.join(run_dir, 'redis')
        self.socket = os.path.join(self.home, 'redis.sock')
        self.service: procs.Service | None = None

    @property
    def url(self) -> str:
        return 'redis://%s' % self.socket

    def start(self) -> None:
        server = shutil.which('redis-server')
        if server is None:
            raise procs.ProcessError(
                'redis-server is not installed; install the Debian package '
                'redis-server (bash tools/quickstart e2e does)')
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        self.service = procs.Service('redis', [
            server, '--port', '0', '--unixsocket', self.socket,
            '--unixsocketperm', '700', '--save', '', '--appendonly', 'no',
            '--dir', self.home, '--daemonize', 'no'], self.run_dir)
        self.service.start()

    def wait_ready(self, timeout: float = 20.0) -> float:
        """Seconds until the socket exists (Redis creates it once it
        accepts connections)."""
        assert self.service is not None
        return self.service.wait_until(lambda: os.path.exists(self.socket),
                                       'socket %s' % self.socket, timeout)

    def client(self):
        """A client of the python ``redis`` package (tooz's driver uses
        the same), for the scenarios' checks."""
        import redis  # only the end-to-end environment has it
        return redis.Redis(unix_socket_path=self.socket)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
