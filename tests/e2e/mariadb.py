# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder's database: MariaDB from Debian's package, on a Unix socket only.

Cinder on SQLite fails under the concurrency a boot storm brings:
oslo.db opens deferred transactions, and cinder-api's quota reservation
reads and then writes in one of them, so a create request that meets a
write of cinder-volume or of another create is answered "database is
locked" (HTTP 500). Production runs a database server; so does this run.

The server is a throwaway: an empty data directory in the run directory,
no network (``--skip-networking``, the socket in the run directory, mode
0700), no grant tables. It is stopped by its process group like the rest.
"""

import os
import socket
import subprocess

from tests.e2e import procs

MARIADBD = '/usr/sbin/mariadbd'
CLIENT = '/usr/bin/mariadb'
# sun_path of struct sockaddr_un holds 108 bytes, the terminator included.
_MAX_SOCKET_PATH = 107


class MariaDB:
    """One server; :meth:`url` for a database :meth:`create_database`
    made."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.home = os.path.join(run_dir, 'mariadb')
        self.socket = os.path.join(self.home, 'mysqld.sock')
        self.service: procs.Service | None = None

    def start(self) -> None:
        for path in (MARIADBD, CLIENT):
            if not os.access(path, os.X_OK):
                raise procs.ProcessError(
                    '%s is missing: install the Debian package '
                    'mariadb-server (bash tools/quickstart e2e does)' % path)
        if len(self.socket) > _MAX_SOCKET_PATH:
            raise procs.ProcessError(
                'the MariaDB socket path %s is longer than %d bytes; set '
                'NETAPP_EIC_E2E_RUN_DIR to a shorter directory' % (
                    self.socket, _MAX_SOCKET_PATH))
        data = os.path.join(self.home, 'data')
        os.makedirs(data, exist_ok=True)
        self.service = procs.Service('mariadb', [
            MARIADBD, '--no-defaults', '--user=root', '--datadir=' + data,
            '--socket=' + self.socket, '--skip-networking',
            '--skip-grant-tables', '--skip-log-bin',
            '--pid-file=' + os.path.join(self.home, 'mariadbd.pid'),
            '--log-error=' + os.path.join(self.run_dir, 'logs',
                                          'mariadb.log'),
            '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M',
            '--max-connections=500'], self.run_dir, stop_timeout=30)
        self.service.start()

    def _accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            return sock.connect_ex(self.socket) == 0

    def wait_ready(self, timeout: float = 60.0) -> float:
        assert self.service is not None
        return self.service.wait_until(self._accepts, 'its socket', timeout)

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its SQLAlchemy URL."""
        subprocess.run([CLIENT, '--no-defaults', '--socket=' + self.socket,
                        '-u', 'root', '-e',
                        'CREATE DATABASE `%s` CHARACTER SET utf8mb4' % name],
                       check=True, capture_output=True, text=True,
                       timeout=60)
        return 'mysql+pymysql://root@localhost/%s?unix_socket=%s' \
            '&charset=utf8mb4' % (name, self.socket)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None
