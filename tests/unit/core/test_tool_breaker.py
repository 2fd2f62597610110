# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A hung copy offload tool costs one create, not every create (issue 19):
with the defaults, a boot storm at a hanging tool starts it once, every
create ends within the bound derived from the image's size with a correct
volume, nothing is left behind; the next create skips the tool while the
breaker is open, and uses it again once the period is over and the tool
works. The tool is a real process (a shell script around the simulator's
copy offload stand-in); the time-out kills its whole process group."""

import concurrent.futures
import dataclasses
import os
import stat
import threading
import time

from netapp_eic.core import breaker as breaker_mod
from netapp_eic.core import cache
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import TOOL_START_SECONDS, Route
from tests.unit.core.helpers import (MiB, add_image, digest, new_files,
                                     request, tree, verification_records)
from tests.unit.test_process import live_members

CREATES = 10


def switchable_tool(tmp_path, sim):
    """The tool hangs while ``hang`` exists, else runs the simulator's
    stand-in; every start appends its PID to ``starts``."""
    real = sim.write_copyoffload_tool(str(tmp_path))
    starts, hang = tmp_path / 'starts', tmp_path / 'hang'
    path = tmp_path / 'tool'
    path.write_text(f'''#!/bin/sh
echo $$ >> {starts}
if [ -e {hang} ]; then
    sleep 300 &
    wait
fi
exec {real} "$@"
''')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    hang.write_text('')
    return str(path), starts, hang


def started(starts):
    return [int(pid) for pid in starts.read_text().split()] \
        if starts.exists() else []


def test_storm_at_a_hanging_tool_runs_it_once_then_the_breaker(
        client, host, settings, sim, glance_remote, tmp_path):
    tool, starts, hang = switchable_tool(tmp_path, sim)
    # Only the tool path and the state file are set: bound, rate and
    # breaker periods are the defaults.
    engine = engine_mod.Engine(client, host, dataclasses.replace(
        settings, copyoffload_tool_path=tool,
        copyoffload_breaker_file=str(tmp_path / 'state' / 'breaker.json')))
    image_id, image_digest = add_image(glance_remote, tmp_path, seed=1)
    bound = engine.settings.tool_bound(4 * MiB)
    assert TOOL_START_SECONDS <= bound < TOOL_START_SECONDS + 1
    before = tree(sim)
    go = threading.Barrier(CREATES)

    def create(i):
        go.wait()
        start = time.monotonic()
        outcome = engine.create(request(glance_remote, image_id,
                                        name=f'volume-{i}'))
        return outcome, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(CREATES) as pool:
        results = list(pool.map(create, range(CREATES)))

    assert len(started(starts)) == 1
    assert live_members(started(starts)[0]) == []
    for outcome, seconds in results:
        assert outcome.path in (Route.FILE_COPY, Route.CACHE_CLONE)
        assert digest(outcome.volume_file) == image_digest
        assert seconds < bound + 5
    paths = sorted(str(o.path) for o, _s in results)
    assert paths == ['cache-clone'] * (CREATES - 1) + ['file-copy']
    [timed_out] = [o for o, _s in results if o.failures]
    [(path, reason)] = timed_out.failures
    assert path == 'copy-offload'
    assert 'did not finish within %s s' % bound in reason
    added = new_files(before, tree(sim))
    # The Glance file's copy was hashed: one verification record.
    assert len(verification_records(sim, image_id)) == 1
    assert added == {'vol_cinder_a': sorted(
        [f'volume-{i}' for i in range(CREATES)] +
        [cache.entry_name(image_id), cache.record_name(image_id)] +
        verification_records(sim, image_id))}
    assert engine.tool_breaker.state().state == 'open'

    # While the breaker is open a new image skips the tool, says why.
    second, second_digest = add_image(glance_remote, tmp_path, seed=2)
    outcome = engine.create(request(glance_remote, second,
                                    name='volume-second'))
    assert outcome.path is Route.FILE_COPY
    assert digest(outcome.volume_file) == second_digest
    assert any(s.startswith('copy-offload: copy offload tool breaker open')
               for s in outcome.skipped), outcome.skipped
    assert len(started(starts)) == 1

    # The period is over and the tool works again: it is used, and its
    # success closes the breaker.
    hang.unlink()
    engine.tool_breaker.clock = lambda: time.time() + 301
    third, third_digest = add_image(glance_remote, tmp_path, seed=3)
    outcome = engine.create(request(glance_remote, third,
                                    name='volume-third'))
    assert outcome.path is Route.COPY_OFFLOAD, outcome
    assert digest(outcome.volume_file) == third_digest
    assert len(started(starts)) == 2
    assert engine.tool_breaker.state().state == 'closed'
    saved = breaker_mod.saved_state(str(tmp_path / 'state' / 'breaker.json'))
    assert saved.state == 'closed'
    assert not [n for d in sim.shares.values() for n in os.listdir(d)
                if n.startswith('.eic-tmp')]
