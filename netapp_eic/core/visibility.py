# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Wait for a file ONTAP just created to show on this host's NFS mount.

The NFS client caches directory attributes, so a file made by ONTAP (clone,
copy, rename) can take a moment to appear. The wait is bounded, starts with
an immediate check, and touches the parent directory to refresh the
client's attribute cache.
"""

import contextlib
import os
import time
import typing

from netapp_eic import exception

#: Sleep between checks; tests may replace it.
sleep: typing.Callable[[float], None] = time.sleep


def wait_visible(path: str, timeout: float) -> None:
    """Return once ``path`` exists; raise :class:`NotVisible` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            raise exception.NotVisible(path=path, timeout=timeout)
        with contextlib.suppress(OSError):
            os.utime(os.path.dirname(path))
        sleep(delay)
        delay = min(delay * 2, 1.0)
