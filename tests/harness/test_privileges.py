# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder's privileged parts for the demo and the benchmarks: a privsep
helper that cannot start must not hang a create (issue 23). The helpers
here are real processes started by oslo.privsep; only their command is
ours (one that fails, one that never connects), because the real
``privsep-helper`` starts fine as root, which the tests are."""

import os
import socket
import stat
import threading
import time

from oslo_config import cfg
from oslo_privsep import priv_context

from netapp_eic_testing import cinder as cinder_mod

SECTION = 'netapp_eic_test_privileges'
context = priv_context.PrivContext(
    'tests', cfg_section=SECTION,
    pypath='tests.harness.test_privileges.context', capabilities=[])


@context.entrypoint
def whoami():
    return os.getpid()


def helper(tmp_path, body):
    path = tmp_path / 'helper'
    path.write_text('#!/bin/sh\necho "$@" > %s\n%s\n' % (
        tmp_path / 'args', body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    cfg.CONF.set_override('helper_command', str(path), group=SECTION)
    return path


def reset():
    cfg.CONF.clear_override('helper_command', group=SECTION)
    context.set_client_mode(True)
    context.channel = None


def test_helper_that_fails_is_said_and_entry_points_run_here(tmp_path):
    helper(tmp_path, 'exit 3')
    try:
        start = time.monotonic()
        reason = cinder_mod.start_privileged_helper(context, timeout=30)
        assert time.monotonic() - start < 10
        assert 'privsep-helper could not start' in reason
        assert 'exited non-zero (3)' in reason
        assert whoami() == os.getpid()
    finally:
        reset()


def test_helper_that_never_answers_is_bounded(tmp_path):
    # It exits 0 without connecting: oslo.privsep then waits in accept()
    # without a bound.
    helper(tmp_path, 'exit 0')
    try:
        start = time.monotonic()
        reason = cinder_mod.start_privileged_helper(context, timeout=1)
        assert 1 <= time.monotonic() - start < 5
        assert reason.startswith('privsep-helper did not answer within 1 s')
        assert whoami() == os.getpid()
        # Let the abandoned start finish (it removes its socket directory).
        args = (tmp_path / 'args').read_text().split()
        sock_path = args[args.index('--privsep_sock_path') + 1]
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(sock_path)
        [starter] = [t for t in threading.enumerate()
                     if t.name == 'privsep-start']
        starter.join(10)
        assert not starter.is_alive()
        assert not os.path.exists(os.path.dirname(sock_path))
    finally:
        reset()
