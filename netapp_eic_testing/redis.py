# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A private Redis server for the active/active tests (tooz's redis
driver, the lock store OpenStack operators run for Cinder active/active).

It listens on a Unix socket in its own directory and on no TCP port at all
(``--port 0``), keeps nothing on disk, and is stopped by its own PID.
"""

import os
import shutil
import subprocess
import time


class RedisServer:
    """``with RedisServer(directory) as redis:`` then ``redis.url``, the
    tooz ``backend_url`` (``redis:///<socket>``)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.socket = os.path.join(directory, 'redis.sock')
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return 'redis://%s' % self.socket

    @staticmethod
    def available() -> str | None:
        """Why no server can start here, or None."""
        if shutil.which('redis-server') is None:
            return 'redis-server not found (Debian package redis-server)'
        try:
            import redis  # noqa: F401  (tooz's redis driver needs it)
        except ImportError:
            return 'the python package redis is not installed'
        return None

    def __enter__(self) -> 'RedisServer':
        os.makedirs(self.directory, exist_ok=True)
        self.process = subprocess.Popen(
            ['redis-server', '--port', '0', '--unixsocket', self.socket,
             '--unixsocketperm', '700', '--save', '', '--appendonly', 'no',
             '--dir', self.directory, '--daemonize', 'no'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError('redis-server did not start')
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
