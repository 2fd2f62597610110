# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""How much a pool's image cache holds, read cheaply from its mount.

One directory scan of the FlexVol root: the ``img-cache-*`` entries (the
upstream driver's names, and this driver's) and their apparent sizes. The
driver reports it in each pool's capabilities and ``netapp-eic doctor``
shows it; neither needs ONTAP for it.
"""

import os

from netapp_eic.core import cache


def usage(mount_dir: str) -> tuple[int, int]:
    """``(entries, bytes)`` of the cache in the FlexVol mounted at
    ``mount_dir``; ``(0, 0)`` when it is not readable."""
    entries = total = 0
    try:
        with os.scandir(mount_dir) as scan:
            for entry in scan:
                if not entry.name.startswith(cache.ENTRY_PREFIX):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                        entries += 1
                except FileNotFoundError:
                    continue
    except OSError:
        return 0, 0
    return entries, total
