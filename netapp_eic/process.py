# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Run an external command with a bound, and leave none of it behind.

The copy offload tool runs while the create holds the image's
single-flight lock: a tool that hangs would block every create of that
image. :func:`run_bounded` runs a command without a shell in a new session
(its own process group), and when the timeout passes kills the whole group
(SIGTERM, then SIGKILL after a grace period), so helpers the command
started die with it and no pipe stays open.
"""

import collections.abc
import os
import signal
import subprocess
import time

from oslo_log import log as logging

from netapp_eic import exception

LOG = logging.getLogger(__name__)

#: Seconds a process group gets to exit after SIGTERM.
GRACE = 2.0


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` for ``pid`` to exit, without reaping it: the
    leader's zombie keeps its process group id ours until it is reaped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG |
                         os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _kill_group(proc: 'subprocess.Popen[str]') -> None:
    """Terminate, then kill, the process group led by ``proc`` (still
    unreaped, so the group id cannot have been reused); then reap it."""
    _signal_group(proc.pid, signal.SIGTERM)
    _exited(proc.pid, GRACE)
    # Members that ignored SIGTERM, or outlived the leader, are killed too.
    _signal_group(proc.pid, signal.SIGKILL)
    proc.communicate()


def run_bounded(argv: collections.abc.Sequence[str],
                timeout: float | None) -> str:
    """Run ``argv`` (no shell) and return its standard output.

    :raises CommandTimeout: it ran longer than ``timeout`` seconds; its
        process group was killed.
    :raises CopyOffloadFailed: it could not start or exited non-zero.
    """
    try:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as e:
        raise exception.CopyOffloadFailed(
            reason='%s could not be started: %s' % (argv[0], e)) from e
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        LOG.warning('%(cmd)s still running after %(t)s s: killing its '
                    'process group %(pgid)d.',
                    {'cmd': argv[0], 't': timeout, 'pgid': proc.pid})
        _kill_group(proc)
        raise exception.CommandTimeout(cmd=argv[0], timeout=timeout) from e
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode:
        raise exception.CopyOffloadFailed(
            reason='%s exited with %s: %s' % (argv[0], proc.returncode,
                                              err.strip()))
    return out
