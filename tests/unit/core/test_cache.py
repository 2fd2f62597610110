# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cache's names, records, freshness and atomic publication, on real
files."""

import os
import time

import pytest

from netapp_eic.core import cache
from netapp_eic.core.types import CacheState

META = {'id': 'i1', 'os_hash_algo': 'sha512', 'os_hash_value': 'abc',
        'checksum': 'md5sum'}


@pytest.fixture
def flexvol(tmp_path):
    return cache.ImageCache(str(tmp_path), 'vol_a')


def record(content='sha512:abc', size=4):
    now = time.time()
    return cache.Record('i1', content, 'raw', size, now, now, 'test')


def build(flexvol, data=b'data'):
    name = cache.temp_name('t')
    with open(flexvol.path(name), 'wb') as f:
        f.write(data)
    return name


def test_names_match_the_upstream_driver():
    assert cache.entry_name('i1') == 'img-cache-i1'
    assert cache.record_name('i1').startswith('.')
    assert cache.temp_name('x').startswith('.eic-tmp-x-')


def test_content_id_prefers_os_hash_then_checksum():
    assert cache.content_id(META) == 'sha512:abc'
    assert cache.content_id({'checksum': 'm'}) == 'md5:m'
    assert cache.content_id({}) is None


def test_missing_entry(flexvol):
    found = flexvol.lookup('i1', 'sha512:abc')
    assert found.state is CacheState.MISSING
    assert 'vol_a' in found.reason


def test_publish_then_fresh(flexvol):
    tmp = build(flexvol)
    assert flexvol.publish(tmp, record())
    assert not os.path.exists(flexvol.path(tmp))
    assert open(flexvol.path('img-cache-i1'), 'rb').read() == b'data'
    found = flexvol.lookup('i1', 'sha512:abc')
    assert (found.state, found.virtual_size, found.legacy) == (
        CacheState.FRESH, 4, False)


def test_entry_for_other_content_is_stale(flexvol):
    flexvol.publish(build(flexvol), record(content='sha512:old'))
    found = flexvol.lookup('i1', 'sha512:abc')
    assert found.state is CacheState.STALE
    assert 'sha512:old' in found.reason
    flexvol.remove('i1')
    assert os.listdir(flexvol.mount_dir) == []


def test_publish_keeps_an_entry_that_appeared_meanwhile(flexvol):
    flexvol.publish(build(flexvol, b'first'), record())
    second = build(flexvol, b'second')
    assert not flexvol.publish(second, record())
    assert not os.path.exists(flexvol.path(second))
    assert open(flexvol.path('img-cache-i1'), 'rb').read() == b'first'


def test_upstream_entry_is_fresh_legacy_then_adopted(flexvol):
    with open(flexvol.path('img-cache-i1'), 'wb') as f:
        f.write(b'x' * 10)
    found = flexvol.lookup('i1', 'sha512:abc')
    assert (found.state, found.legacy) == (CacheState.FRESH, True)
    assert flexvol.read_record('i1') is None  # lookup has no side effect
    flexvol.adopt('i1', 'sha512:abc')
    rec = flexvol.read_record('i1')
    assert (rec.content, rec.virtual_size, rec.built_by) == (
        'sha512:abc', 10, 'adopted')


def test_unverifiable_without_glance_hash(flexvol):
    flexvol.publish(build(flexvol), record())
    assert flexvol.lookup('i1', None).state is CacheState.STALE


def test_touch_sets_last_used_and_atime_explicitly(flexvol):
    flexvol.publish(build(flexvol), record())
    entry = flexvol.path('img-cache-i1')
    os.utime(entry, (1000, 2000))
    flexvol.touch('i1')
    st = os.stat(entry)
    assert st.st_atime > time.time() - 60
    assert st.st_mtime == 2000
    assert flexvol.read_record('i1').last_used > time.time() - 60


def test_corrupt_record_is_ignored_with_warning(flexvol):
    flexvol.publish(build(flexvol), record())
    with open(flexvol.path(cache.record_name('i1')), 'w') as f:
        f.write('{not json')
    assert flexvol.read_record('i1') is None
