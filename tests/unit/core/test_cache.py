# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.cache: freshness, no-replace publication, leases and
listing, on real files."""

import os
import time

import pytest

from netapp_eic.core import cache
from netapp_eic.core import records
from netapp_eic.core.types import CacheState

CONTENT = 'sha512:abc'


@pytest.fixture
def flexvol(tmp_path):
    return cache.ImageCache(str(tmp_path), 'vol_a')


def record(size=4, content=CONTENT, verified=True, last_used=None):
    now = time.time()
    return records.Record('i1', content, 'raw', size, now,
                          last_used or now, 'test', verified)


def build(flexvol, data=b'data'):
    name = records.temp_name('t')
    with open(flexvol.path(name), 'wb') as f:
        f.write(data)
    return name


def listing(flexvol):
    return sorted(os.listdir(flexvol.mount_dir))


def test_missing(flexvol):
    assert flexvol.lookup('i1', CONTENT).state is CacheState.MISSING


def test_published_entry_is_fresh(flexvol):
    assert flexvol.publish(build(flexvol), record())
    found = flexvol.lookup('i1', CONTENT)
    assert (found.state, found.size) == (CacheState.FRESH, 4)
    assert listing(flexvol) == ['.img-cache-i1.eic.json', 'img-cache-i1']


def test_second_publisher_loses_and_leaves_the_first_entry(flexvol):
    assert flexvol.publish(build(flexvol, b'mine'), record())
    loser = build(flexvol, b'xxxx')
    assert not flexvol.publish(loser, record(content='sha512:other'))
    with open(flexvol.path('img-cache-i1'), 'rb') as f:
        assert f.read() == b'mine'
    assert flexvol.lookup('i1', CONTENT).state is CacheState.FRESH
    assert not os.path.exists(flexvol.path(loser))


@pytest.mark.parametrize('kwargs, content, required, why', [
    ({}, 'sha512:new', False, 'holds sha512:abc, Glance reports sha512:new'),
    ({'size': 5}, CONTENT, False, 'is 4 bytes, its record says 5'),
    ({'verified': False}, CONTENT, True, 'never verified'),
    ({'content': None}, CONTENT, False, 'holds None'),
])
def test_stale_entries(flexvol, kwargs, content, required, why):
    flexvol.publish(build(flexvol), record(**kwargs))
    found = flexvol.lookup('i1', content, require_verified=required)
    assert found.state is CacheState.STALE
    assert why in found.reason


def test_unverified_entry_served_when_not_required(flexvol):
    flexvol.publish(build(flexvol), record(verified=False))
    assert flexvol.lookup('i1', CONTENT).state is CacheState.FRESH


def test_image_without_hash_keyed_by_id(flexvol):
    flexvol.publish(build(flexvol), record(content=None, verified=False))
    assert flexvol.lookup('i1', None, require_verified=True).state is \
        CacheState.FRESH


def test_entry_without_record_is_legacy(flexvol):
    with open(flexvol.path('img-cache-i1'), 'wb') as f:
        f.write(b'upstream')
    found = flexvol.lookup('i1', CONTENT)
    assert (found.state, found.size) == (CacheState.LEGACY, 8)


def test_entry_that_is_a_symlink_is_stale(flexvol, tmp_path_factory):
    other = tmp_path_factory.mktemp('other') / 'volume-secret'
    other.write_bytes(b'data')
    os.symlink(other, flexvol.path('img-cache-i1'))
    flexvol.write_record(record())
    found = flexvol.lookup('i1', CONTENT)
    assert found.state is CacheState.STALE
    assert 'is a symbolic link' in found.reason


def test_invalid_record_makes_the_entry_stale(flexvol):
    flexvol.publish(build(flexvol), record())
    with open(flexvol.path(records.record_name('i1')), 'w') as f:
        f.write('{"image_id": "i1"}')
    found = flexvol.lookup('i1', CONTENT)
    assert found.state is CacheState.STALE
    assert 'invalid record' in found.reason


def test_leases_live_expire_and_drop(flexvol):
    live = flexvol.add_lease('i1', 600)
    dead = flexvol.add_lease('i1', -10)
    now = time.time()
    assert flexvol.live_leases('i1', now) == [live]
    assert flexvol.expire_leases('i1', now) == [dead]
    flexvol.drop_lease(live)
    assert flexvol.live_leases('i1', now) == []
    assert listing(flexvol) == []


def test_mark_used_updates_only_the_current_entry(flexvol):
    flexvol.publish(build(flexvol), record(last_used=10.0))
    flexvol.mark_used(flexvol.lookup('i1', CONTENT).record, 20.0)
    assert flexvol.lookup('i1', CONTENT).record.last_used == 20.0
    flexvol.remove('i1')
    flexvol.mark_used(record(last_used=10.0), 30.0)
    assert listing(flexvol) == []


def test_entries_and_orphans(flexvol):
    flexvol.publish(build(flexvol), record(last_used=5.0))
    with open(flexvol.path('img-cache-legacy'), 'wb') as f:
        f.write(b'x' * 10)
    flexvol.write_record(records.Record('gone', CONTENT, 'raw', 1, 1, 1,
                                        't', True))
    listed = {e.image_id: e for e in flexvol.entries()}
    assert set(listed) == {'i1', 'legacy'}
    assert listed['i1'].last_used == 5.0 and listed['i1'].problem is None
    assert listed['legacy'].problem == 'no record'
    assert flexvol.orphans() == [records.record_name('gone')]
