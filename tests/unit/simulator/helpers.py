# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Helpers shared by the simulator tests."""

import os
import time
from typing import Any

from oslo_utils import units

MIB = units.Mi


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


def copy_body(sim, src='src', dst='dst', src_vol='vol_cinder_a',
              dst_vol='vol_cinder_b') -> dict[str, Any]:
    """A File Copy body in Cinder's ``<volume>/<path>`` form."""
    return {'files_to_copy': [{
        'source': {'volume': {'uuid': vol_uuid(sim, src_vol)},
                   'path': f'{src_vol}/{src}'},
        'destination': {'volume': {'uuid': vol_uuid(sim, dst_vol)},
                        'path': f'{dst_vol}/{dst}'}}]}


def wait_job(api, sim, job_uuid, timeout=20):
    """Poll a job over HTTP until it ends; returns its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(sim.url + '/api/cluster/jobs/' + job_uuid).json()
        if job['state'] in ('success', 'failure'):
            return job
        time.sleep(0.02)
    raise AssertionError(f'job {job_uuid} did not finish in {timeout}s')


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def subprocess_env():
    """Environment for a child process importing this checkout."""
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop('REQUESTS_CA_BUNDLE', None)
    env.pop('CURL_CA_BUNDLE', None)
    return env
