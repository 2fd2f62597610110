# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which cache entries an agent made: ``.eic-agent-<image id>.json`` beside
the entry in the pool's root (every host sees it), saying which host's
agent, on which event, when. ``netapp-eic cache list`` shows it; a mark
whose entry is gone (evicted, the image deleted) is removed by the agent's
reconcile. Marks are small, parsed strictly, and never trusted for
anything but that column.
"""

import dataclasses
import json
import os

from netapp_eic.core import nofollow
from netapp_eic.core import records
from netapp_eic import exception

PREFIX = '.eic-agent-'
SUFFIX = '.json'
MAX_BYTES = 1024


@dataclasses.dataclass(frozen=True)
class Mark:
    image_id: str
    host: str
    cause: str
    at: float

    def describe(self) -> str:
        return 'agent on %s (%s)' % (self.host, self.cause)


def mark_name(image_id: str) -> str:
    return '%s%s%s' % (PREFIX, image_id, SUFFIX)


def image_of(name: str) -> str | None:
    if name.startswith(PREFIX) and name.endswith(SUFFIX):
        return name[len(PREFIX):-len(SUFFIX)] or None
    return None


def write(mount_dir: str, mark: Mark) -> None:
    """Write ``mark`` atomically (temporary file, then rename)."""
    tmp = os.path.join(mount_dir, records.temp_name('agent-mark'))
    try:
        with open(tmp, 'x') as f:
            json.dump(dataclasses.asdict(mark), f, sort_keys=True)
        os.replace(tmp, os.path.join(mount_dir, mark_name(mark.image_id)))
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def read(mount_dir: str, image_id: str) -> Mark | None:
    """The mark of ``image_id``; None when there is none or it is not a
    valid mark."""
    try:
        with nofollow.open_regular(os.path.join(mount_dir,
                                                mark_name(image_id)),
                                   mount_dir) as f:
            text = f.read(MAX_BYTES + 1)
        data = json.loads(text) if len(text) <= MAX_BYTES else None
    except (OSError, ValueError, exception.EicError):
        return None
    fields = {f.name: f.type for f in dataclasses.fields(Mark)}
    if not isinstance(data, dict) or set(data) != set(fields):
        return None
    if data['image_id'] != image_id or not all(
            isinstance(data[k], str) for k in ('host', 'cause')) or \
            not isinstance(data['at'], (int, float)):
        return None
    return Mark(**data)


def remove(mount_dir: str, image_id: str) -> bool:
    """Remove the mark of ``image_id``; whether there was one."""
    return nofollow.unlink_in(mount_dir, mark_name(image_id))


def orphans(mount_dir: str) -> list[str]:
    """Image ids with a mark and no entry in the pool."""
    names = set(os.listdir(mount_dir))
    return sorted(i for i in (image_of(n) for n in names)
                  if i and records.entry_name(i) not in names)
