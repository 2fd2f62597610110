# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Where a request's path lands inside a FlexVol.

Paths arrive relative to a FlexVol's root (``dir/file``) or as absolute
NFS paths starting at a junction (``/vol_a/dir/file``). Every resolved path
stays inside its FlexVol's directory: ``..`` escapes and absolute paths
outside the junction are refused, and ``.snapshot`` paths are not
supported.
"""

import os
from collections.abc import Sequence

from netapp_eic.simulator import errors
from netapp_eic.simulator.models.cluster import Volume


class PathOutside(errors.BadRequest):
    """A path that escapes its FlexVol; ``other`` names the volume it hits."""

    def __init__(self, message: str, other: Volume | None = None) -> None:
        super().__init__(message, target='path')
        self.other = other


def resolve(volumes: Sequence[Volume], vol: Volume, path: object,
            allow_root: bool = False) -> tuple[str, str]:
    """``(relative path, absolute path)`` of ``path`` inside ``vol``.

    ``volumes`` are all the cluster's FlexVols, to name the one an escaping
    path reaches.
    """
    if not isinstance(path, str):
        raise errors.BadRequest('A path must be a string.', target='path')
    text = path.strip()
    if text.startswith('/'):
        text = _strip_junction(volumes, vol, text)
    target = os.path.normpath(os.path.join(vol.path, text))
    if target != vol.path and not target.startswith(vol.path + os.sep):
        raise PathOutside(f'Path "{path}" is outside volume {vol.name}.',
                          _volume_at(volumes, target))
    rel = os.path.relpath(target, vol.path)
    rel = '' if rel == '.' else rel
    if rel.split(os.sep)[0] == '.snapshot':
        raise errors.NotImplementedApi(
            f'Snapshot paths are not supported by the simulator: {path}',
            status=400, target='path')
    if not rel and not allow_root:
        raise errors.BadRequest('A file path is required.', target='path')
    return rel, target


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
