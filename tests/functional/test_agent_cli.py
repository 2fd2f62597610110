# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic agent`` as an operator runs it: a separate process reading
a real cinder.conf, against the simulator over HTTPS with the pools
mounted where os-brick mounts them, Glance's API from the HTTP stand-in.
No broker runs here: the agent listens on oslo.messaging's in-process
``fake://`` transport (nothing arrives), so what it does comes from its
reconcile through the Glance API; notifications are
``test_agent.py``'s (in process) and ``tests/e2e/e2e_10_agent.py``'s
(RabbitMQ). Stopped by SIGTERM, by its PID, mid-copy: nothing is left."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from netapp_eic.core import records
from netapp_eic_testing import glance_http
from netapp_eic_testing import images
from tests.functional.test_cli import POOL_A, ROOT, rows, run, write_conf
from tests.functional.test_cli import mounted, stack  # noqa: F401

COPY = '/api/storage/file/copy'


def start_agent(conf, log_path):
    argv = [sys.executable, '-m', 'netapp_eic.cmd.main', '-v',
            '--log-file', str(log_path), '--config-file', conf, 'agent']
    return subprocess.Popen(argv, env=dict(os.environ, PYTHONPATH=ROOT),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stop_agent(process, timeout=60):
    """SIGTERM by PID; the exit status."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def wait_for(predicate, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError('the agent exited: %s' %
                                 process.stderr.read())
        time.sleep(0.05)
    raise AssertionError('timed out waiting for %s' % what)


def pool_files(stack, image_id):  # noqa: F811
    directory = stack.share_dir(POOL_A)
    return sorted(n for n in os.listdir(directory)
                  if image_id in n or n.startswith(records.TEMP_PREFIX))


def status(conf):
    code, out, err = run(conf, 'agent', 'status', '-f', 'json')
    assert code == 0, err
    return json.loads(out)


@pytest.mark.usefixtures('mounted')
def test_agent_process_warms_lists_reports_and_stops_clean(
        stack, tmp_path):  # noqa: F811
    source = str(tmp_path / 'image.raw')
    images.make_image(source, 'raw', 32 * 1024 * 1024, seed=71)
    image_id = stack.image_service.add_image(source, 'raw')
    stack.image_service.set_fields(image_id, visibility='public')
    with glance_http.GlanceApi(stack.image_service) as api:
        conf = write_conf(stack, tmp_path, default={
            'glance_api_servers': api.url, 'auth_strategy': 'noauth'},
            netapp_eic_agent_transport_url='fake://',
            netapp_eic_agent_pools=POOL_A)
        # A slow copy, stopped by SIGTERM in its middle.
        fault = stack.sim.add_fault(method='POST', path=COPY,
                                    throttle_bps=2 * 1024 * 1024)
        first = start_agent(conf, tmp_path / 'agent-1.log')
        wait_for(lambda: any(n.startswith(records.TEMP_PREFIX)
                             for n in pool_files(stack, image_id)), 60,
                 'the copy to start', first)
        running = status(conf)
        assert running['Running'].startswith('yes (pid %d' % first.pid)
        assert running['Connected'] == 'yes'
        assert stop_agent(first) == 0
        assert pool_files(stack, image_id) == []
        assert status(conf)['Running'] == 'no'
        stack.sim.clear_faults()
        del fault
        # The next run's reconcile warms it.
        second = start_agent(conf, tmp_path / 'agent-2.log')
        try:
            wait_for(lambda: records.entry_name(image_id) in pool_files(
                stack, image_id), 60, 'the entry', second)
            wait_for(lambda: status(conf)['Warmed'] == 1, 30, 'the count')
            code, out, err = run(conf, 'cache', 'list', '--pool', POOL_A,
                                 '-f', 'json')
            assert code == 0, err
            [row] = [r for r in json.loads(out) if r['Image'] == image_id]
            assert row['Made by'].startswith('agent on ')
            assert row['Made by'].endswith(' (reconcile)')
            code, out, err = run(conf, 'doctor', '-f', 'json')
            check = rows(out)['agent notifications']
            assert check['Result'] == 'warn'
            assert 'no Glance notification reached listener pool ' \
                   'netapp-eic-agent; the reconcile caught up 1 image(s)' \
                   in check['Detail']
            assert 'messagingv2' in check['Action']
        finally:
            assert stop_agent(second) == 0
    log = (tmp_path / 'agent-2.log').read_text()
    assert 'Image %s (reconcile): warmed in %s' % (image_id, POOL_A) in log
    assert stack.sim.password not in log
