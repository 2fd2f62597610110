# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.ontap.fingerprints against the simulator: ONTAP's digest
equals hashlib's; a refusal is FingerprintUnavailable, a session that gives
no digest FingerprintFailed; a slow or stopped session is aborted within
its bound. No test leaves a running session behind."""

import hashlib
import logging
import os
import threading
import time

import pytest

from netapp_eic import exception
from netapp_eic import ontap
from tests.unit.ontap.helpers import MiB, flexvol, write

PATH = '/api/storage/snaplock/file-fingerprints'
VOL = 'vol_cinder_a'


def _running(sim):
    return [s for s in sim.backend.fingerprints.all()
            if s.state not in ('completed', 'failed')]


def _gone(sim):
    """Wait (2 s at most) until the simulator holds no session at all."""
    deadline = time.monotonic() + 2
    while sim.backend.fingerprints.all():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return True


@pytest.fixture(autouse=True)
def nothing_left_running(sim):
    """After each test, no session runs on the simulator (an aborted one
    is dropped by its thread within a read)."""
    yield
    deadline = time.monotonic() + 2
    while _running(sim):
        assert time.monotonic() < deadline, _running(sim)
        time.sleep(0.01)


@pytest.fixture
def vol(client):
    return flexvol(client, VOL)


@pytest.mark.parametrize('algorithm', ['sha256', 'md5'])
def test_digest_equals_hashlib(sim, client, vol, algorithm):
    data = os.urandom(3 * MiB + 1)
    write(sim, VOL, 'dir/img', data)
    got = client.file_fingerprint(vol, 'dir/img', algorithm, timeout=10)
    assert got == ontap.Fingerprint(
        algorithm=algorithm, hexdigest=hashlib.new(algorithm,
                                                   data).hexdigest(),
        size=len(data))
    assert client.file_fingerprint(vol, '/dir/img', algorithm,
                                   timeout=10) == got


@pytest.mark.parametrize('refusal,status,code', [
    ('forbidden', 403, '6691623'),
    ('unknown_api', 404, '3'),
    ('unlicensed', 400, '6684681'),
])
def test_refusal_is_unavailable(sim, client, vol, refusal, status, code):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, refuse=refusal)
    with pytest.raises(exception.FingerprintUnavailable) as ctx:
        client.file_fingerprint(vol, 'img', 'sha256', timeout=10)
    assert f'HTTP {status}, code {code}' in str(ctx.value)
    assert f'/vol/{VOL}/img' in str(ctx.value)
    assert sim.backend.fingerprints.all() == []


@pytest.mark.parametrize('setup,code', [
    (lambda root: None, '6684674'),
    (lambda root: os.symlink('other', os.path.join(root, 'img')),
     '6684677'),
    (lambda root: os.mkdir(os.path.join(root, 'img')), '6684680'),
])
def test_files_ontap_refuses_are_unavailable(sim, client, vol, setup, code):
    write(sim, VOL, 'other', b'x')
    setup(sim.backend.volume_by_name(VOL).path)
    with pytest.raises(exception.FingerprintUnavailable, match=code):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=10)


def test_failed_session(sim, client, vol):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_fail=True)
    with pytest.raises(exception.FingerprintFailed, match='state failed'):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=10)


def test_vanished_session(sim, client, vol):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_vanish=True,
                  fingerprint_delay=0.2)
    with pytest.raises(exception.FingerprintFailed, match='vanished'):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=10)
    assert sim.backend.fingerprints.all() == []


def test_slow_session_is_aborted_within_its_bound(sim, client, vol):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    started = time.monotonic()
    with pytest.raises(exception.FingerprintFailed, match='aborted'):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 0.5 + 1
    assert _gone(sim)


def test_stop_aborts_the_session(sim, client, vol):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(exception.FingerprintFailed, match='stopped'):
            client.file_fingerprint(vol, 'img', 'sha256', timeout=30,
                                    stop=stop)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 2
    assert _gone(sim)


def test_unreadable_session_is_aborted(sim, client, vol):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    sim.add_fault(method='GET', path=PATH + '/*', status=500, count=1)
    with pytest.raises(exception.FingerprintFailed, match='unreadable'):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=10)
    assert _gone(sim)


def test_failed_abort_is_logged_and_still_fails(sim, client, vol, caplog):
    write(sim, VOL, 'img', b'x')
    sim.add_fault(method='POST', path=PATH, fingerprint_delay=30)
    sim.add_fault(method='DELETE', path=PATH + '/*', status=503,
                  code='99', message='busy')
    caplog.set_level(logging.WARNING, logger='netapp_eic.ontap.fingerprints')
    with pytest.raises(exception.FingerprintFailed, match='aborted'):
        client.file_fingerprint(vol, 'img', 'sha256', timeout=0.2)
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert 'could not be aborted' in warnings[0] and 'busy' in warnings[0]
    (left,) = _running(sim)  # the abort failed: the session still runs
    sim.clear_faults()
    sim.backend.fingerprints.abort(left.id)


def test_wrong_digest_is_returned_as_ontap_gave_it(sim, client, vol):
    write(sim, VOL, 'img', b'payload')
    sim.add_fault(method='POST', path=PATH, fingerprint_digest='wrong')
    got = client.file_fingerprint(vol, 'img', 'sha256', timeout=10)
    right = hashlib.sha256(b'payload').hexdigest()
    assert got.hexdigest != right and len(got.hexdigest) == len(right)


@pytest.mark.parametrize('fault', ['truncated', 'garbage'])
def test_malformed_digest_fails(sim, client, vol, fault):
    write(sim, VOL, 'img', b'payload')
    sim.add_fault(method='POST', path=PATH, fingerprint_digest=fault)
    with pytest.raises(exception.FingerprintFailed, match='malformed'):
        client.file_fingerprint(vol, 'img', 'md5', timeout=10)


def test_unknown_algorithm_is_a_programming_error(client, vol):
    with pytest.raises(ValueError):
        client.file_fingerprint(vol, 'img', 'sha1', timeout=10)


def test_probe(sim, client, vol):
    write(sim, VOL, 'probe', b'small')
    assert client.fingerprint_probe(vol, 'probe') is None
    assert 'not found' in client.fingerprint_probe(vol, 'missing')
    sim.add_fault(method='POST', path=PATH, refuse='forbidden')
    assert 'User is not authorized' in client.fingerprint_probe(vol,
                                                                'probe')
    sim.clear_faults()
    sim.add_fault(method='POST', path=PATH, fingerprint_fail=True)
    assert 'state failed' in client.fingerprint_probe(vol, 'probe')
