# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.cacheindex: entries, uses, a listing's differences and
the scheduler's report, without I/O."""

import pytest

from netapp_eic.core import cacheindex
from netapp_eic.core import eviction

GiB = 1024 ** 3
BOTH = cacheindex.BOTH
ENTRY = frozenset(('entry',))
RECORD = frozenset(('record',))


def entry(image_id, size=GiB, last_used=0.0, created_at=1.0,
          servable=True, kinds=BOTH):
    return cacheindex.Indexed(image_id, size, size, last_used, 1.0,
                              created_at, servable, kinds)


@pytest.fixture
def index():
    return cacheindex.CacheIndex(eviction.Policy.GDSF, 250)


def test_totals_follow_puts_and_drops(index):
    index.put(entry('a'))
    index.put(entry('b', size=3 * GiB))
    assert (index.count, index.used) == (2, 4 * GiB)
    index.put(entry('b', size=2 * GiB))
    index.drop('a')
    index.drop('gone')
    assert (index.count, index.used) == (1, 2 * GiB)
    assert index.ids() == ['b']


def test_uses_count_and_age_on_the_index_clock(index):
    index.put(entry('a'))
    index.put(entry('b'))
    for _ in range(3):
        index.touch('a', 10.0)
    index.touch('missing', 10.0)
    a, b = index.get('a'), index.get('b')
    assert index.uses == 3
    assert (a.used_at, a.last_used) == (3, 10.0)
    assert a.hits == pytest.approx(eviction.used_again(
        eviction.used_again(eviction.used_again(1.0, 0, 1, 250), 1, 2, 250),
        2, 3, 250))
    assert a.rank > b.rank
    assert a.rank == eviction.priority(a, eviction.Policy.GDSF, 250)


def test_a_later_use_in_the_record_counts_once(index):
    """Another host's uses show as a later last use when the entry is read
    again; the same record read again changes nothing; another record
    (the entry rebuilt) starts over."""
    index.put(entry('a', last_used=5.0))
    index.put(entry('a', last_used=9.0))
    assert (index.get('a').hits, index.uses) == (pytest.approx(2.0, rel=0.01),
                                                 1)
    index.put(entry('a', last_used=9.0))
    assert index.uses == 1
    index.put(entry('a', last_used=9.0, created_at=2.0))
    assert index.get('a').hits == 1.0


def test_a_listing_names_what_to_read_and_what_went(index):
    index.put(entry('kept'))
    index.put(entry('legacy', kinds=ENTRY))
    index.put(entry('removed'))
    index.put(entry('record lost'))
    names = {'kept': BOTH, 'legacy': BOTH, 'new': BOTH,
             'record lost': ENTRY, 'orphan record': RECORD}
    fresh, gone = index.changed(names)
    assert sorted(fresh) == ['legacy', 'new', 'record lost']
    assert gone == ['removed']
    index.drop('removed')
    for image_id in fresh:
        index.put(entry(image_id, kinds=names[image_id]))
    assert index.changed(names) == ([], [])


def test_report_lists_servable_entries_highest_rank_first(index):
    for image_id in ('a', 'b', 'c'):
        index.put(entry(image_id))
    index.put(entry('legacy', servable=False, kinds=ENTRY))
    index.touch('b', 1.0)
    index.touch('b', 2.0)
    index.touch('c', 3.0)
    report = index.report(10)
    assert report.image_ids == ('b', 'c', 'a')
    assert (report.count, report.bytes) == (3, 3 * GiB)
    assert index.report(2).image_ids == ('b', 'c')
    assert index.report(0).image_ids == ()


def test_report_is_rebuilt_when_it_would_change(index):
    index.put(entry('a'))
    first = index.report(1)
    assert index.report(1) is first
    index.put(entry('b'))
    index.touch('b', 1.0)
    cut = index.report(1)
    assert cut.image_ids == ('b',)
    # Uses reorder a cut report...
    index.touch('a', 2.0)
    index.touch('a', 3.0)
    assert index.report(1).image_ids == ('a',)
    # ... not one that holds every entry.
    whole = index.report(5)
    index.touch('b', 4.0)
    assert index.report(5) is whole
    index.drop('b')
    assert index.report(5).image_ids == ('a',)
