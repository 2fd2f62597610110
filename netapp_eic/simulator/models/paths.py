# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Where a request's path lands inside a FlexVol.

Paths arrive relative to a FlexVol's root (``dir/file``) or as absolute
NFS paths starting at a junction (``/vol_a/dir/file``). A resolved path
never leaves its FlexVol:

* ``..`` escapes and absolute paths outside the junction are refused;
* symbolic links are never followed. ONTAP keeps a link as text for the
  NFS client to resolve; it cannot reach the client's files or another
  SVM's volume through one. A path whose directory part crosses a link
  answers "no such file" (the simulator's documented choice), and the
  last component is always the link itself;
* the simulator keeps no Snapshot copies: a read below ``.snapshot`` is
  "no such file" and a write there is refused as read-only.
"""

import os
import posixpath
import stat
from collections.abc import Sequence

from netapp_eic.simulator import errors
from netapp_eic.simulator.models.cluster import Volume

SNAPSHOT_DIR = '.snapshot'


class PathOutside(errors.BadRequest):
    """A path that escapes its FlexVol; ``other`` names the volume it hits."""

    def __init__(self, message: str, other: Volume | None = None) -> None:
        super().__init__(message, target='path')
        self.other = other


def resolve(volumes: Sequence[Volume], vol: Volume, path: object,
            allow_root: bool = False, write: bool = False,
            field: str = 'path') -> tuple[str, str]:
    """``(relative path, absolute path)`` of ``path`` inside ``vol``.

    ``volumes`` are all the cluster's FlexVols, to name the one an escaping
    path reaches; ``write`` says whether the caller will change the path;
    ``field`` names the request field in errors.
    """
    if not isinstance(path, str):
        raise errors.BadRequest('A path must be a string.', target=field)
    text = path.strip()
    if text.startswith('/'):
        text = _strip_junction(volumes, vol, text)
    rel = posixpath.normpath(text) if text else '.'
    if rel == '..' or rel.startswith('../'):
        target = os.path.normpath(os.path.join(vol.path, rel))
        raise PathOutside(f'Path "{path}" is outside volume {vol.name}.',
                          _volume_at(volumes, target))
    rel = '' if rel == '.' else rel
    if not rel and not allow_root:
        raise errors.BadRequest('A file path is required.', target=field)
    _check_snapshot(vol, rel, write, field)
    _check_directories(vol, rel, field)
    return rel, os.path.join(vol.path, rel) if rel else vol.path


def _check_snapshot(vol: Volume, rel: str, write: bool, field: str) -> None:
    parts = rel.split('/')
    if parts[0] != SNAPSHOT_DIR:
        return
    if write:
        raise errors.ReadOnlyPath(
            f'"{rel}" is in a Snapshot copy, which is read-only.',
            target=field)
    snapshot = parts[1] if len(parts) > 1 else ''
    raise errors.FileNotFound(
        f'"{rel}" does not exist: volume {vol.name} has no Snapshot copy '
        f'"{snapshot}" (the simulator keeps none).', target=field)


def _check_directories(vol: Volume, rel: str, field: str) -> None:
    """Refuse a directory part that is a symlink or not a directory."""
    current = vol.path
    parts = rel.split('/')[:-1] if rel else []
    for i, part in enumerate(parts):
        current = os.path.join(current, part)
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return  # the operation reports the missing directory
        if stat.S_ISLNK(mode):
            raise errors.FileNotFound(
                f'"{"/".join(parts[:i + 1])}" in volume {vol.name} is a '
                'symbolic link; ONTAP does not follow links in a path.',
                target=field)
        if not stat.S_ISDIR(mode):
            raise errors.FileNotFound(
                f'"{"/".join(parts[:i + 1])}" in volume {vol.name} is not a '
                'directory.', target=field)


def _strip_junction(volumes: Sequence[Volume], vol: Volume,
                    text: str) -> str:
    junction = vol.junction.rstrip('/')
    if text == junction or text.startswith(junction + '/'):
        return text[len(junction):].lstrip('/')
    for other in volumes:
        j = other.junction.rstrip('/')
        if other is not vol and (text == j or text.startswith(j + '/')):
            raise PathOutside(f'Path "{text}" is in volume {other.name}, '
                              f'not {vol.name}.', other)
    raise PathOutside(
        f'Absolute path "{text}" is outside volume {vol.name}.')


def _volume_at(volumes: Sequence[Volume], target: str) -> Volume | None:
    for vol in volumes:
        if target == vol.path or target.startswith(vol.path + os.sep):
            return vol
    return None
