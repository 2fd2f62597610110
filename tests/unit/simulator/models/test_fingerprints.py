# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fingerprint sessions in the model: the abort's ``aborting`` state, a
file swapped for a link, expiry, reset and shutdown."""

import base64
import hashlib
import os
import time

import pytest

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import fingerprints
from tests.unit.simulator.helpers import MIB, write_file


def _volume(sim):
    return sim.backend.volume_by_name('vol_cinder_a')


def test_abort_is_aborting_then_the_session_is_gone(sim):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    table = sim.backend.fingerprints
    session = table.start(_volume(sim), '/img', 'sha256',
                          {'fingerprint_delay': 30})
    assert table.get(session.id).state == 'in_progress'
    started = time.monotonic()
    assert table.abort(session.id).record()['state'] == 'aborting'
    assert session.done.wait(5)
    assert time.monotonic() - started < 5
    with pytest.raises(errors.InvalidSession):
        table.get(session.id)
    with pytest.raises(errors.InvalidSession):
        table.abort(session.id)


def test_abort_during_the_read_drops_the_session(sim):
    path = os.path.join(_volume(sim).path, 'big')
    with open(path, 'wb') as f:
        f.truncate(256 * MIB)  # sparse: a long read, no disk space
    table = sim.backend.fingerprints
    session = table.start(_volume(sim), '/big', 'md5')
    started = time.monotonic()
    table.abort(session.id)
    assert session.done.wait(5)
    assert time.monotonic() - started < 1
    assert table.all() == []


def test_a_file_swapped_for_a_link_is_never_read(sim, tmp_path):
    outside = tmp_path / 'outside'
    outside.write_bytes(b'not yours')
    path = write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    table = sim.backend.fingerprints
    session = table.start(_volume(sim), '/img', 'sha256',
                          {'fingerprint_delay': 0.3})
    os.unlink(path)
    os.symlink(str(outside), path)
    assert session.done.wait(5)
    record = table.get(session.id).record()
    assert record['state'] == 'failed'
    assert 'data_fingerprint' not in record


def test_ended_sessions_expire(sim):
    write_file(sim, 'vol_cinder_a', 'img', data=b'abc')
    table = fingerprints.Fingerprints(sim.backend.files, ttl=0.1)
    session = table.start(_volume(sim), '/img', 'sha256')
    assert session.done.wait(5)
    record = table.get(session.id).record()
    assert base64.b64decode(record['data_fingerprint']) == hashlib.sha256(
        b'abc').digest()
    time.sleep(0.2)
    assert table.records() == []


def test_reset_and_shutdown_stop_running_sessions(sim):
    write_file(sim, 'vol_cinder_a', 'img', data=b'x')
    table = sim.backend.fingerprints
    first = table.start(_volume(sim), '/img', 'md5', {'fingerprint_delay': 30})
    sim.reset()
    assert first.done.is_set() and table.all() == []
    second = table.start(_volume(sim), '/img', 'md5',
                         {'fingerprint_delay': 30})
    assert second.id == first.id + 1  # ids are never reused
    started = time.monotonic()
    sim.backend.shutdown()
    assert second.done.is_set()
    assert time.monotonic() - started < 5
