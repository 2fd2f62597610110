# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.process: a bounded command leaves no process behind."""

import os
import stat
import time

import pytest

from netapp_eic import exception
from netapp_eic import process


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text('#!/bin/sh\n' + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _stat(pid):
    """``(state, pgid)`` of a process, None when it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(') ', 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[2])


def alive(pid):
    # A zombie is dead for our purpose: only its parent can reap it.
    st = _stat(pid)
    return st is not None and st[0] != 'Z'


def gone_soon(pid, within=5.0):
    """SIGKILL is delivered asynchronously: the kernel finishes a killed
    process's exit shortly after ``killpg`` returns, so allow it a moment."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def live_members(pgid):
    """Processes of group ``pgid`` that are not zombies."""
    return [int(p) for p in os.listdir('/proc') if p.isdigit()
            and (_stat(int(p)) or ('Z', None))[0] != 'Z'
            and _stat(int(p))[1] == pgid]


def test_output_and_exit_status(tmp_path):
    ok = script(tmp_path, 'ok', 'echo copied "$1"\n')
    assert process.run_bounded([ok, 'a b'], 5) == 'copied a b\n'
    bad = script(tmp_path, 'bad', 'echo nope >&2; exit 3\n')
    with pytest.raises(exception.CopyOffloadFailed) as err:
        process.run_bounded([bad], 5)
    assert 'exited with 3: nope' in str(err.value)


def test_missing_command(tmp_path):
    with pytest.raises(exception.CopyOffloadFailed) as err:
        process.run_bounded([str(tmp_path / 'absent')], 5)
    assert 'could not be started' in str(err.value)


def test_hanging_tool_and_its_children_are_killed(tmp_path):
    pids = tmp_path / 'pids'
    # The stand-in starts a helper that ignores SIGTERM, records both PIDs,
    # and hangs.
    hang = script(tmp_path, 'hang', f'''
trap '' TERM
sleep 300 &
echo $$ $! > {pids}
wait
''')
    start = time.monotonic()
    with pytest.raises(exception.CommandTimeout) as err:
        process.run_bounded([hang], 0.5)
    assert time.monotonic() - start < 10
    assert 'process group was killed' in str(err.value)
    leader, child = (int(p) for p in pids.read_text().split())
    assert not alive(leader)
    assert gone_soon(child)
    assert live_members(leader) == []
