# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.native: hashing never stops eventlet's hub.

cinder-volume runs under eventlet. The eventlet case runs in a child
process, because monkey-patching this test process would change every
other test; the child patches itself as cinder-volume does."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from netapp_eic.core import native
from netapp_eic.core import verify

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# While an image is hashed, a second green thread (standing for the
# service heartbeat and the other creates) counts its 5 ms sleeps; the
# hashing of a blocking green thread would leave it at zero or one.
_CHILD = textwrap.dedent('''
    import eventlet
    eventlet.monkey_patch()
    import json, sys
    from netapp_eic.core import native, verify

    root, path, digest, size = sys.argv[1:5]
    want = verify.Expected('sha512', digest, int(size))
    state = {'ticks': 0, 'done': False}

    def ticker():
        while not state['done']:
            eventlet.sleep(0.005)
            state['ticks'] += 1

    hashing = verify.Hashing(path, root, want, 'img-1')
    eventlet.spawn(ticker)
    hashing.check()  # raises if the digest differs
    state['done'] = True
    print(json.dumps({'green': native.green_threads(),
                      'ticks_while_hashing': state['ticks']}))
''')


# Cancelled from a green thread mid-hash: the native reader and hashing
# threads stop, the file is closed, and the hub kept running meanwhile.
_CANCEL_CHILD = textwrap.dedent('''
    import eventlet
    eventlet.monkey_patch()
    import json, os, sys
    from netapp_eic.core import verify

    root, path = sys.argv[1:3]
    state = {'ticks': 0, 'done': False}

    def ticker():
        while not state['done']:
            eventlet.sleep(0.005)
            state['ticks'] += 1

    eventlet.spawn(ticker)
    hashing = verify.Hashing(path, root, verify.Expected('sha512', 'x', None),
                             'img-1')
    while not hashing.bytes_read:
        eventlet.sleep(0.005)
    hashing.cancel()
    try:
        hashing.check()
        error = None
    except Exception as e:
        error = str(e)
    state['done'] = True
    open_files = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            open_files.append(os.readlink('/proc/self/fd/' + fd))
        except FileNotFoundError:  # listdir's own descriptor
            pass
    print(json.dumps({'error': error, 'ticks': state['ticks'],
                      'still_open': path in open_files}))
''')


def test_without_eventlet_the_call_runs_here():
    assert not native.green_threads()
    assert native.call(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        native.call(divmod, 1, 0)


def _run_child(tmp_path, path, digest, size, child=_CHILD):
    """A child above, with eventlet patching allowed (tests/conftest.py
    turns it off for this process)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop('OS_CINDER_DISABLE_EVENTLET_PATCHING', None)
    return subprocess.run(
        [sys.executable, '-c', child, str(tmp_path), str(path), digest,
         str(size)], capture_output=True, text=True, timeout=120, env=env,
        check=False)


def test_hashing_under_eventlet_leaves_other_green_threads_running(
        tmp_path):
    size = 256 * 1024 * 1024
    path = tmp_path / 'img'
    with open(path, 'wb') as f:
        f.write(b'head')
        f.truncate(size)
    digest = hashlib.sha512(b'head' + bytes(size - 4)).hexdigest()
    result = _run_child(tmp_path, path, digest, size)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report['green'] is True
    assert report['ticks_while_hashing'] >= 5, report


def test_a_mismatch_under_eventlet_is_still_caught(tmp_path):
    path = tmp_path / 'img'
    path.write_bytes(b'x' * (2 * verify.CHUNK))
    wrong = hashlib.sha512(b'y').hexdigest()
    result = _run_child(tmp_path, path, wrong, 2 * verify.CHUNK)
    assert result.returncode == 1
    assert 'ContentMismatch' in result.stderr
    assert 'Glance recorded' in result.stderr


def test_cancel_under_eventlet_stops_the_native_threads(tmp_path):
    path = tmp_path / 'img'
    with open(path, 'wb') as f:
        f.write(os.urandom(verify.CHUNK))
        f.truncate(16 * 1024 * 1024 * 1024)  # minutes of hashing zeros
    result = _run_child(tmp_path, path, '', 0, child=_CANCEL_CHILD)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert 'cancelled' in report['error']
    assert report['still_open'] is False
    assert report['ticks'] >= 1, report


def test_os_threads_and_queues_without_eventlet():
    got = []
    items = native.os_queue()
    thread = native.os_thread(lambda: got.append(items.get()), name='t')
    thread.start()
    items.put('x')
    thread.join()
    assert got == ['x']
    assert thread.daemon


# The array's fingerprint under eventlet: a green thread of its own talks
# to ONTAP (the simulator over HTTPS, in the parent) while the hub keeps
# running; its digest is compared as a create would.
_FINGERPRINT_CHILD = textwrap.dedent('''
    import eventlet
    eventlet.monkey_patch()
    import json, sys, types
    from netapp_ontap import host_connection
    from netapp_eic import ontap
    from netapp_eic.core import contentcheck
    from netapp_eic.core.types import CreateRequest, Settings

    spec = json.loads(sys.argv[1])
    connection = host_connection.HostConnection(
        spec['host'], spec['username'], spec['password'], port=spec['port'],
        verify=spec['ca_file'])
    client = ontap.OntapClient(connection, poll_initial_interval=0.01,
                               poll_max_interval=0.05)
    ctx = types.SimpleNamespace(client=client, settings=Settings())
    checker = contentcheck.ContentChecker(ctx, None)
    vol = client.resolve('127.0.0.1', '/vol_cinder_a/x').flexvol
    request = CreateRequest('v', 'volume-v', 1, '', {
        'id': 'img-1', 'os_hash_algo': 'sha256',
        'os_hash_value': spec['digest'], 'size': spec['size']})
    state = {'ticks': 0, 'done': False}

    def ticker():
        while not state['done']:
            eventlet.sleep(0.005)
            state['ticks'] += 1

    eventlet.spawn(ticker)
    pending = checker.start(request, vol, 'img', None, 'file')
    verdict = pending.finish()
    state['done'] = True
    print(json.dumps({'how': verdict.how, 'host_bytes': verdict.host_bytes,
                      'ticks': state['ticks']}))
''')


def test_array_fingerprint_under_eventlet(sim):
    size = 64 * 1024 * 1024
    data = os.urandom(1024) * (size // 1024)
    with open(os.path.join(sim.shares['127.0.0.1:/vol_cinder_a'], 'img'),
              'wb') as f:
        f.write(data)
    spec = {'host': sim.host, 'port': sim.port, 'username': sim.username,
            'password': sim.password, 'ca_file': sim.ca_file, 'size': size,
            'digest': hashlib.sha256(data).hexdigest()}
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop('OS_CINDER_DISABLE_EVENTLET_PATCHING', None)
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, '-c', _FINGERPRINT_CHILD, json.dumps(spec)],
        capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report['how'] == 'array sha256 of the file'
    assert report['host_bytes'] == 0
    assert report['ticks'] >= 5, report
