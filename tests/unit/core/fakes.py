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
        self.forgotten = []
        self._locks = collections.defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def mount_point(self, share):
        return self.shares[share]

    def mounted_shares(self):
        return list(self.mounted)

    def run(self, argv, timeout=None):
        self.commands.append(list(argv))
        result = subprocess.run(list(argv), capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode:
            raise exception.CopyOffloadFailed(
                reason=f'{argv[0]} exited with {result.returncode}: '
                       f'{result.stderr.strip()}')

    def convert_image(self, source, dest, source_format):
        self.conversions.append((source, dest, source_format))
        subprocess.run(['qemu-img', 'convert', '-f', source_format, '-O',
                        'raw', source, dest], check=True,
                       capture_output=True)

    def forget_lock(self, name):
        self.forgotten.append(name)

    @contextlib.contextmanager
    def lock(self, name):
        with self._guard:
            lock = self._locks[name]
            self.locks_taken[name] += 1
        with lock:
            yield
