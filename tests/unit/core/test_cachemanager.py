# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.cachemanager: builds once, clones in parallel, evicts in
the policy's order, never an entry being cloned, reports from its index;
through the engine, the real client and the simulator."""

import dataclasses
import os
import threading
import time

import pytest

from netapp_eic.core import cache as cache_mod
from netapp_eic.core import cachemanager
from netapp_eic.core import engine as engine_mod
from netapp_eic.core import records
from netapp_eic.core.types import CacheState, Route
from netapp_eic_testing import images
from tests.unit.core.helpers import (GiB, IMAGE_SIZE, POOL_A, add_image,
                                     leftovers, posts, request)


def make_engine(client, host, settings, **changes):
    return engine_mod.Engine(client, host,
                             dataclasses.replace(settings, **changes))


def cache_files(sim, share=POOL_A):
    return sorted(n for n in os.listdir(sim.shares[share])
                  if ('img-cache' in n or n.startswith('.eic-')) and
                  not n.startswith('.eic-verified-'))


def manager(engine):
    return engine.cache_manager


class CountingClones:
    """Wraps the real client's clone to count clones in flight; the
    clone is held 0.2 s so overlapping ones are seen."""

    def __init__(self, client):
        self.real = client.clone_file
        self.in_flight = 0
        self.most = 0
        self.lock = threading.Lock()
        client.clone_file = self

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(0.2)
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_waiters_build_once_then_clone_in_parallel(engine, client, sim,
                                                   glance_remote, tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path)
    clones = CountingClones(client)
    outcomes = []

    def create(n):
        outcomes.append(engine.create(request(glance_remote, image_id,
                                              name=f'volume-{n}')))
    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(posts(sim, '/storage/file/copy')) == 1
    assert len(outcomes) == 6 and all(o.cloned for o in outcomes)
    assert clones.most > 1
    for o in outcomes:
        assert images.raw_bytes_digest(o.volume_file, length=IMAGE_SIZE) \
            == digest
    assert leftovers(sim) == []


def test_count_budget_evicts_least_recently_used(client, host, settings,
                                                 sim, glance_local,
                                                 tmp_path):
    engine = make_engine(client, host, settings, cache_max_entries=2)
    first, _ = add_image(glance_local, tmp_path, seed=1)
    second, _ = add_image(glance_local, tmp_path, seed=2)
    third, _ = add_image(glance_local, tmp_path, seed=3)
    for n, image_id in enumerate((first, second, third, second)):
        engine.create(request(glance_local, image_id, name=f'volume-{n}'))
    fourth, _ = add_image(glance_local, tmp_path, seed=4)
    engine.create(request(glance_local, fourth, name='volume-9'))
    # first went when third came; then third (second was used again).
    kept = {records.image_id_of(n) for n in cache_files(sim)}
    assert kept == {second, fourth}
    assert cache_files(sim) == sorted(
        [records.entry_name(i) for i in kept] +
        [records.record_name(i) for i in kept])
    dest = engine.pools.get(POOL_A)
    for gone in (first, third):
        assert cachemanager.build_lock(gone, dest) in host.forgotten


def test_size_budget(client, host, settings, sim, glance_local, tmp_path):
    engine = make_engine(client, host, settings,
                         cache_max_bytes=int(IMAGE_SIZE * 1.5))
    first, _ = add_image(glance_local, tmp_path, seed=1)
    second, _ = add_image(glance_local, tmp_path, seed=2)
    engine.create(request(glance_local, first))
    engine.create(request(glance_local, second, name='volume-2'))
    assert {records.image_id_of(n) for n in cache_files(sim)} == {second}


def test_entry_being_cloned_survives_eviction(engine, client, sim,
                                              glance_local, tmp_path):
    image_id, digest = add_image(glance_local, tmp_path)
    engine.create(request(glance_local, image_id))
    dest = engine.pools.get(POOL_A)
    sim.add_fault(method='POST', path='/api/storage/file/clone', delay=1.0,
                  count=1)
    result = {}
    reader = threading.Thread(target=lambda: result.update(
        outcome=engine.create(request(glance_local, image_id,
                                      name='volume-2'))))
    reader.start()
    deadline = time.monotonic() + 5
    while not dest.cache.live_leases(image_id, time.time()):
        assert time.monotonic() < deadline, 'the reader took no lease'
        time.sleep(0.01)
    everything = dataclasses.replace(engine.settings, cache_max_bytes=1)
    assert manager(engine).evict(dest, budget=everything) == []
    reader.join(30)
    assert result['outcome'].path is Route.CACHE_CLONE
    assert images.raw_bytes_digest(result['outcome'].volume_file,
                                   length=IMAGE_SIZE) == digest
    assert manager(engine).evict(dest, budget=everything) == [image_id]
    assert cache_files(sim) == []


def test_eviction_rechecks_last_use(engine, sim, glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    engine.create(request(glance_local, image_id))
    dest = engine.pools.get(POOL_A)
    [listed] = manager(engine).sync(dest).entries()
    engine.create(request(glance_local, image_id, name='volume-2'))
    assert not manager(engine)._evict_one(dest, listed)
    [entry] = dest.cache.entries()
    assert dest.cache.lookup(image_id, entry.record.content).state is \
        CacheState.FRESH


def test_maintenance_removes_orphans_and_dead_leases(engine, sim):
    dest = engine.pools.get(POOL_A)
    dest.cache.write_record(records.Record('gone', None, 'raw', 1, 1, 1,
                                           't', False))
    with open(dest.local('img-cache-kept'), 'wb') as f:
        f.write(b'x')
    dead = dest.cache.add_lease('kept', -1)
    removed = engine.maintain(3600)[POOL_A]
    assert sorted(removed) == sorted([records.record_name('gone'), dead])
    assert cache_files(sim) == ['img-cache-kept']


def legacy_entry(sim, image_id, data, size):
    path = os.path.join(sim.shares[POOL_A], records.entry_name(image_id))
    with open(path, 'wb') as f:
        f.write(data)
        f.truncate(size)
    return path


def test_legacy_volume_sized_entry_is_checked_and_adopted(
        engine, sim, glance_remote, tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path)
    with open(glance_remote.image_path(image_id), 'rb') as f:
        entry = legacy_entry(sim, image_id, f.read(), 2 * GiB)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.CACHE_CLONE
    assert os.path.getsize(entry) == IMAGE_SIZE
    record = records.read(entry.replace('img-cache-', '.img-cache-') +
                          records.RECORD_SUFFIX, image_id)
    assert (record.built_by, record.verified) == ('adopted', True)
    assert images.raw_bytes_digest(outcome.volume_file, length=IMAGE_SIZE) \
        == digest
    assert posts(sim, '/storage/file/copy') == []


@pytest.mark.parametrize('tamper', ['flipped', 'tail'])
def test_legacy_entry_with_other_bytes_is_replaced(engine, sim,
                                                   glance_remote, tmp_path,
                                                   tamper):
    image_id, digest = add_image(glance_remote, tmp_path)
    with open(glance_remote.image_path(image_id), 'rb') as f:
        data = bytearray(f.read())
    if tamper == 'flipped':
        data[100] ^= 0xff
    else:
        data += b'other tenant data'
    legacy_entry(sim, image_id, bytes(data), 2 * GiB)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert images.raw_bytes_digest(outcome.volume_file, length=IMAGE_SIZE) \
        == digest
    entry = os.path.join(sim.shares[POOL_A], records.entry_name(image_id))
    assert os.path.getsize(entry) == IMAGE_SIZE
    assert leftovers(sim) == []


def test_legacy_entry_of_a_qcow2_image_is_replaced(engine, sim,
                                                   glance_remote, tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path, fmt='qcow2')
    legacy_entry(sim, image_id, b'converted by the in-tree driver', GiB)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert "qcow2 image's entry cannot be checked" in \
        ' '.join(f for _p, f in outcome.failures) + ' '.join(outcome.skipped)
    assert images.raw_bytes_digest(outcome.volume_file, length=IMAGE_SIZE) \
        == digest
    assert leftovers(sim) == []


def test_publisher_without_shared_lock_keeps_the_first_entry(
        engine, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    engine.create(request(glance_remote, image_id))
    dest = engine.pools.get(POOL_A)
    before = os.stat(dest.local(records.entry_name(image_id))).st_ino
    tmp = records.temp_name('other-host')
    with open(dest.local(tmp), 'wb') as f:
        f.write(b'another host built this')
    won = manager(engine).publish(dest, tmp, records.Record(
        image_id, None, 'raw', 23, 1, 1, 'other', False))
    assert not won
    assert os.stat(dest.local(records.entry_name(image_id))).st_ino == before
    assert leftovers(sim) == []


# -- the index: the scheduler's report and eviction without a listing -------

def report_of(engine, max_images=100):
    return engine.pool_report(POOL_A, max_images)


def truth(sim, share=POOL_A):
    """The servable entries on disk, as a full listing reads them."""
    pool_dir = sim.shares[share]
    return {e.image_id for e in cache_mod.ImageCache(pool_dir, 'a').entries()
            if e.record is not None and e.record.verified}


@pytest.mark.parametrize('policy', ['lru', 'gdsf'])
def test_count_budget_evicts_in_the_policy_order(client, host, settings,
                                                 glance_local, tmp_path,
                                                 policy):
    """An entry cloned three times stays under gdsf, and goes under lru
    when it is the least recently used."""
    engine = make_engine(client, host, settings, cache_max_entries=2,
                         cache_eviction_policy=policy)
    hot, _ = add_image(glance_local, tmp_path, seed=1)
    once, _ = add_image(glance_local, tmp_path, seed=2)
    third, _ = add_image(glance_local, tmp_path, seed=3)
    for n, image_id in enumerate((hot, hot, hot, once, third)):
        engine.create(request(glance_local, image_id, name=f'volume-{n}'))
    dest = engine.pools.get(POOL_A)
    kept = {e.image_id for e in dest.cache.entries()}
    assert kept == ({hot, third} if policy == 'gdsf' else {once, third})


def test_pool_report_follows_publish_use_and_eviction(client, host,
                                                      settings, sim,
                                                      glance_local,
                                                      tmp_path):
    engine = make_engine(client, host, settings, cache_max_entries=2)
    ids = [add_image(glance_local, tmp_path, seed=n)[0] for n in (1, 2, 3)]
    for n, image_id in enumerate(ids[:2]):
        engine.create(request(glance_local, image_id, name=f'volume-{n}'))
    report = report_of(engine)
    assert set(report['netapp_eic_cached_images']) == set(ids[:2]) == \
        truth(sim)
    assert report['netapp_eic_cached_image_count'] == 2
    assert report['netapp_eic_cache_bytes'] == 2 * IMAGE_SIZE
    engine.create(request(glance_local, ids[0], name='volume-8'))
    engine.create(request(glance_local, ids[2], name='volume-9'))
    report = report_of(engine)
    # gdsf: the entry used twice first.
    assert report['netapp_eic_cached_images'] == [ids[0], ids[2]]
    assert set(report['netapp_eic_cached_images']) == truth(sim)
    assert not report['netapp_eic_cache_pressure']
    # The report is bounded by max_images; the count is the whole.
    cut = report_of(engine, max_images=1)
    assert (cut['netapp_eic_cached_images'],
            cut['netapp_eic_cached_image_count']) == ([ids[0]], 2)


def test_pool_report_sees_what_another_host_or_a_hand_changed(
        engine, sim, glance_local, tmp_path):
    """Entries removed or added in the FlexVol behind this host's back are
    seen at the next report (the root's modification time moved, or it is
    too recent to trust: the names are listed), and a record gone makes an
    entry legacy: no longer reported, still counted."""
    first, _ = add_image(glance_local, tmp_path, seed=1)
    second, _ = add_image(glance_local, tmp_path, seed=2)
    for n, image_id in enumerate((first, second)):
        engine.create(request(glance_local, image_id, name=f'volume-{n}'))
    assert set(report_of(engine)['netapp_eic_cached_images']) == {first,
                                                                  second}
    pool_dir = sim.shares[POOL_A]
    os.unlink(os.path.join(pool_dir, records.entry_name(first)))
    os.unlink(os.path.join(pool_dir, records.record_name(first)))
    assert report_of(engine)['netapp_eic_cached_images'] == [second]
    # Another host publishes an entry.
    other = '0d6a3c6e-6c55-4a1e-9c7c-5f0d3a0b1f00'
    with open(os.path.join(pool_dir, records.entry_name(other)), 'wb') as f:
        f.write(b'x' * 512)
    records.write(pool_dir, records.Record(
        other, 'sha512:00', 'raw', 512, time.time(), time.time(), 'other',
        True))
    report = report_of(engine)
    assert set(report['netapp_eic_cached_images']) == {second, other} == \
        truth(sim)
    # A record removed by hand: the entry is the in-tree driver's now.
    os.unlink(os.path.join(pool_dir, records.record_name(second)))
    report = report_of(engine)
    assert report['netapp_eic_cached_images'] == [other]
    assert manager(engine).index(engine.pools.get(POOL_A)).count == 2
    # An entry removed without its record (the record is an orphan).
    os.unlink(os.path.join(pool_dir, records.entry_name(other)))
    assert report_of(engine)['netapp_eic_cached_images'] == []
    assert manager(engine).index(engine.pools.get(POOL_A)).ids() == [second]


def test_a_record_rewritten_in_place_is_seen_at_the_rescan(engine, sim,
                                                          glance_local,
                                                          tmp_path):
    """A record replaced under the same name (another host's use, a hand
    edit) keeps the listing's names: the periodic task reads every record
    again once RESCAN_SECONDS passed."""
    image_id, _ = add_image(glance_local, tmp_path)
    engine.create(request(glance_local, image_id))
    assert report_of(engine)['netapp_eic_cached_images'] == [image_id]
    dest = engine.pools.get(POOL_A)
    [entry] = dest.cache.entries()
    dest.cache.write_record(dataclasses.replace(entry.record,
                                                verified=False))
    engine.maintain(3600)
    assert report_of(engine)['netapp_eic_cached_images'] in ([image_id],
                                                             [])
    later = time.time() + cachemanager.RESCAN_SECONDS + 1
    manager(engine).clock = lambda: later
    engine.maintain(3600)
    assert report_of(engine)['netapp_eic_cached_images'] == []
    assert truth(sim) == set()


def test_eviction_moves_past_an_entry_being_cloned(engine, glance_local,
                                                   tmp_path):
    """The least valuable entry has a reader: it stays and the next one
    goes, in the same run."""
    old, _ = add_image(glance_local, tmp_path, seed=1)
    new, _ = add_image(glance_local, tmp_path, seed=2)
    engine.create(request(glance_local, old, name='volume-1'))
    engine.create(request(glance_local, new, name='volume-2'))
    dest = engine.pools.get(POOL_A)
    lease = dest.cache.add_lease(old, 600)
    one = dataclasses.replace(engine.settings, cache_max_entries=1)
    assert manager(engine).evict(dest, budget=one) == [new]
    dest.cache.drop_lease(lease)
    assert {e.image_id for e in dest.cache.entries()} == {old}
