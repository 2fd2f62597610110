# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A real-enough :class:`netapp_eic.core.host.Host` for the core's tests.

The core is tested without Cinder: the "mounts" are the simulator's
FlexVol directories themselves, commands run with ``subprocess`` (no
shell), images are converted by the real ``qemu-img``, and locks are
process locks. Nothing here is a mock; it is the host interface implemented
the simplest correct way.
"""

import collections
import contextlib
import subprocess
import threading

from netapp_eic import exception
from netapp_eic import process


class FakeHost:
    """The host interface over a simulator's share directories.

    :param shares: ``{share: directory}`` of every FlexVol.
    :param mounted: the shares this backend mounts (its pools).
    """

    def __init__(self, shares, mounted):
        self.shares = dict(shares)
        self.mounted = list(mounted)
        self.commands = []
        self.conversions = []
        self.locks_taken = collections.Counter()
        self._locks = collections.defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def mount_point(self, share):
        return self.shares[share]

    def mounted_shares(self):
        return list(self.mounted)

    def run(self, argv, timeout=None):
        # The driver's own bounded runner: a new process group, killed as
        # a whole on timeout.
        self.commands.append(list(argv))
        process.run_bounded(argv, timeout)

    def convert_image(self, source, dest, source_format):
        self.conversions.append((source, dest, source_format))
        try:
            subprocess.run(['qemu-img', 'convert', '-f', source_format,
                            '-O', 'raw', source, dest], check=True,
                           capture_output=True)
        except subprocess.CalledProcessError as e:
            raise exception.ConversionFailed(
                reason=e.stderr.decode(errors='replace')) from e

    @contextlib.contextmanager
    def lock(self, name):
        with self._guard:
            lock = self._locks[name]
            self.locks_taken[name] += 1
        with lock:
            yield

    @contextlib.contextmanager
    def try_lock(self, name):
        with self._guard:
            lock = self._locks[name]
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()
