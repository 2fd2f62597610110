# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Faults: a hanging tool, REST failing during cleanup, orphan jobs, the
sweep, outcomes that say what happened, failures logged by kind."""

import dataclasses
import logging
import os
import stat
import threading
import time

from netapp_eic.core import cache
from netapp_eic.core import cachemanager
from netapp_eic.core import engine as engine_mod
from netapp_eic.core import materialize
from netapp_eic.core.types import Route
from tests.unit.core import fakes
from tests.unit.core.helpers import (MiB, POOL_A, add_image, digest,
                                     leftovers, new_files, posts, request,
                                     share_dir, tree, verification_records)
from tests.unit.test_process import live_members


def engine_with(client, host, settings, **changes):
    return engine_mod.Engine(client, host,
                             dataclasses.replace(settings, **changes))


def hanging_tool(tmp_path):
    """A copy offload stand-in that starts a helper ignoring SIGTERM,
    records both PIDs and hangs."""
    pids = tmp_path / 'tool-pids'
    path = tmp_path / 'hanging-tool'
    path.write_text(f'''#!/bin/sh
trap '' TERM
sleep 300 &
echo $$ $! > {pids}
wait
''')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path), pids


def test_hanging_tool_is_killed_and_file_copy_follows(
        client, host, settings, sim, glance_remote, tmp_path):
    tool, pids = hanging_tool(tmp_path)
    engine = engine_with(client, host, settings, copyoffload_tool_path=tool,
                         copyoffload_timeout=0.5)
    image_id, image_digest = add_image(glance_remote, tmp_path)
    before = tree(sim)
    start = time.monotonic()
    outcome = engine.create(request(glance_remote, image_id))
    assert time.monotonic() - start < 30
    assert outcome.path is Route.FILE_COPY
    [(path, reason)] = outcome.failures
    assert path == 'copy-offload' and 'did not finish within 0.5 s' in reason
    assert digest(outcome.volume_file) == image_digest
    leader, helper = (int(p) for p in pids.read_text().split())
    assert live_members(leader) == []
    assert not os.path.exists(f'/proc/{helper}') or \
        open(f'/proc/{helper}/stat').read().rsplit(') ', 1)[1][0] == 'Z'
    added = new_files(before, tree(sim))
    assert len(verification_records(sim, image_id)) == 1
    assert added == {'vol_cinder_a': sorted([
        'volume-1', cache.entry_name(image_id), cache.record_name(image_id)]
        + verification_records(sim, image_id))}


def test_delete_failing_during_a_failed_copy_leaves_nothing(
        engine, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  fail_after_percent=50)
    sim.add_fault(method='DELETE', path='/api/storage/volumes/*', status=500)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert new_files(before, tree(sim)) == {}
    deletes = [r for r in sim.request_log() if r['method'] == 'DELETE']
    assert deletes and all(r['status'] == 500 for r in deletes)


def test_rest_lost_while_copying_cancels_the_orphan_later(
        client, host, settings, sim, glance_remote, tmp_path):
    engine = engine_with(client, host, settings, file_copy_return_timeout=0)
    image_id, _ = add_image(glance_remote, tmp_path, size=8 * MiB)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  throttle_bps=1 * MiB)
    # REST goes away once the copy is running (its first poll waits for
    # the copy to have opened its destination, which a later delete
    # through the mount must find): polls, cancel, deletes.
    sim.add_fault(method='GET', path='/api/cluster/jobs/*', delay=0.2,
                  count=1)
    for method, path in (('GET', '/api/cluster/jobs/*'),
                         ('PATCH', '/api/cluster/jobs/*'),
                         ('DELETE', '/api/storage/volumes/*')):
        sim.add_fault(method=method, path=path, status=503)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    [orphan] = engine.job_keeper.orphans
    sim.clear_faults()
    engine.maintain(max_temp_age=3600)
    assert engine.job_keeper.orphans == frozenset()
    assert client.job_state(orphan) in ('failure', 'success')
    assert new_files(before, tree(sim)) == {}


def test_sweep_spares_temporaries_whose_image_lock_is_held(
        engine, host, sim):
    dest = engine.pools.get(POOL_A)
    busy = materialize.temp_for('convert', 'aaaa-1111')
    idle = materialize.temp_for('copy', 'bbbb-2222')
    anonymous = cache.temp_name('record')
    young = materialize.temp_for('copy', 'cccc-3333')
    for name in (busy, idle, anonymous, young):
        with open(dest.local(name), 'wb') as f:
            f.write(b'partial')
        if name != young:
            os.utime(dest.local(name), (1000, 1000))
    assert materialize.image_of_temp(busy) == 'aaaa-1111'
    assert materialize.image_of_temp(anonymous) is None
    held = threading.Event()
    release = threading.Event()

    def hold():
        with host.lock(cachemanager.build_lock('aaaa-1111', dest)):
            held.set()
            release.wait(10)
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(10)
        removed = engine.maintain(max_temp_age=600)[POOL_A]
    finally:
        release.set()
        holder.join()
    assert sorted(removed) == sorted([idle, anonymous])
    assert sorted(leftovers(sim)) == sorted([busy, young])


def test_concurrent_fill_reported_as_cache_clone_and_not_carried_over(
        engine, host, sim, glance_remote, tmp_path):
    image_id, image_digest = add_image(glance_remote, tmp_path)
    dest = engine.pools.get(POOL_A)
    name = cachemanager.build_lock(image_id, dest)
    outcomes = {}

    def create(n):
        outcomes[n] = engine.create(request(glance_remote, image_id,
                                            name=f'volume-{n}'))
    with host.lock(name):
        threads = [threading.Thread(target=create, args=(n,))
                   for n in (1, 2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        # Both planned a File Copy (no entry yet) and wait for the lock.
        while host.locks_taken[name] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(60)
    paths = sorted((o.path, o.note) for o in outcomes.values())
    assert paths == [
        (Route.CACHE_CLONE,
         'entry filled by a concurrent request, file-copy not needed'),
        (Route.FILE_COPY, '')]
    assert len(posts(sim, '/storage/file/copy')) == 1
    for outcome in outcomes.values():
        assert digest(outcome.volume_file) == image_digest
    # A later create that fails everywhere carries no note.
    sim.add_fault(method='POST', path='/api/storage/file/clone', status=500)
    later = engine.create(request(glance_remote, image_id, name='volume-3'))
    assert later.path is Route.DOWNLOAD and later.note == ''


def test_auth_failure_is_an_error_with_its_cause(engine, sim, glance_local,
                                                 tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger='netapp_eic')
    image_id, _ = add_image(glance_local, tmp_path)
    sim.add_fault(method='POST', path='/api/storage/file/clone', status=401,
                  message='Not authorized for that command')
    outcome = engine.create(request(glance_local, image_id))
    assert outcome.path is Route.DOWNLOAD
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert 'authentication failure' in record.getMessage()
    assert 'Not authorized for that command' in record.getMessage()


class ExplodingHost(fakes.FakeHost):
    """A host whose conversion has a bug (not an EicError, not OSError)."""

    def convert_image(self, source, dest, source_format):
        raise TypeError('bug in the conversion glue')


def test_unexpected_error_keeps_its_traceback(client, sim, settings,
                                              glance_remote, tmp_path,
                                              caplog):
    caplog.set_level(logging.DEBUG, logger='netapp_eic')
    engine = engine_mod.Engine(client, ExplodingHost(
        sim.shares, mounted=[POOL_A]), settings)
    image_id, _ = add_image(glance_remote, tmp_path, fmt='qcow2')
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert 'unexpected error' in record.getMessage()
    assert record.exc_info and record.exc_info[0] is TypeError
    assert leftovers(sim) == []


def test_unresolvable_pool_is_a_warning_not_info(engine, glance_local,
                                                 tmp_path, caplog):
    caplog.set_level(logging.INFO, logger='netapp_eic')
    image_id, _ = add_image(glance_local, tmp_path)
    outcome = engine.create(request(glance_local, image_id,
                                    pool='127.0.0.1:/no_such_junction'))
    assert outcome.path is Route.DOWNLOAD
    assert any(r.levelno == logging.WARNING and
               'could not resolve pool' in r.getMessage()
               for r in caplog.records)


def test_flexvol_recreated_with_a_new_uuid_is_picked_up(
        client, host, settings, sim, glance_local, tmp_path):
    engine = engine_mod.Engine(client, host, settings)
    image_id, image_digest = add_image(glance_local, tmp_path)
    assert engine.create(request(glance_local, image_id)).cloned
    # The simulator has no API to destroy and recreate a FlexVol: its model
    # is given a new UUID in place, which is what ONTAP then reports.
    [vol] = [v for v in sim.backend.volumes if v.name == 'vol_cinder_a']
    vol.uuid = sim.backend.new_uuid()
    os.unlink(os.path.join(share_dir(sim, 'vol_cinder_a'),
                           cache.entry_name(image_id)))
    first = engine.create(request(glance_local, image_id, name='volume-2'))
    # The stale UUID fails the step cleanly and the lookups are dropped...
    assert first.path is Route.DOWNLOAD
    assert leftovers(sim) == []
    # ...so the next create uses the new one.
    second = engine.create(request(glance_local, image_id, name='volume-3'))
    assert second.path is Route.DIRECT_CLONE
    assert digest(second.volume_file) == image_digest
