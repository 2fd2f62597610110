# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Helpers shared by the simulator tests."""

import os

MIB = 1024 * 1024


def vol_dir(sim, name):
    return sim.backend.volume_by_name(name).path


def vol_uuid(sim, name):
    return sim.backend.volume_by_name(name).uuid


def write_file(sim, vol, name, size=MIB, sparse_gap=0, data=None):
    """Write ``size`` random bytes (or ``data``) into a FlexVol file.

    With ``sparse_gap`` the data is preceded and followed by holes of that
    many bytes.
    """
    path = os.path.join(vol_dir(sim, vol), name)
    payload = data if data is not None else os.urandom(size)
    with open(path, 'wb') as f:
        f.seek(sparse_gap)
        f.write(payload)
        f.truncate(sparse_gap * 2 + len(payload))
    return path


def read(path):
    with open(path, 'rb') as f:
        return f.read()
