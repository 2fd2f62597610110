# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.eviction: least recently used first, every bound."""

import dataclasses

from netapp_eic.core import eviction
from netapp_eic.core.types import Settings

GiB = 1024 ** 3


@dataclasses.dataclass(frozen=True)
class Entry:
    image_id: str
    allocated: int
    last_used: float


ENTRIES = [Entry('new', GiB, 300.0), Entry('old', GiB, 100.0),
           Entry('mid', GiB, 200.0)]
NO_SPACE_BOUND = dict(space_start_percent=0, space_stop_percent=0)


def budget(**bounds):
    return Settings(**dict(NO_SPACE_BOUND, **bounds))


def ids(chosen):
    return [c.image_id for c in chosen]


def test_within_budget_nothing_goes():
    assert eviction.victims(ENTRIES, budget(cache_max_entries=3)) == []
    assert eviction.victims(ENTRIES, budget()) == []


def test_count_budget_evicts_lru_first():
    assert ids(eviction.victims(ENTRIES, budget(cache_max_entries=1))) == [
        'old', 'mid']


def test_size_budget():
    assert ids(eviction.victims(ENTRIES, budget(
        cache_max_bytes=int(2.5 * GiB)))) == ['old']


def test_kept_entries_are_skipped():
    assert ids(eviction.victims(ENTRIES, budget(cache_max_entries=1),
                                keep=('old',))) == ['mid', 'new']


def test_free_space_pressure_until_stop_percent():
    bounds = budget(space_start_percent=20, space_stop_percent=40)
    tight = eviction.Space(total=10 * GiB, available=2 * GiB)
    assert ids(eviction.victims(ENTRIES, bounds, tight)) == ['old', 'mid']
    roomy = eviction.Space(total=10 * GiB, available=3 * GiB)
    assert eviction.victims(ENTRIES, bounds, roomy) == []


def test_pressure_empties_the_cache_at_most():
    bounds = budget(space_start_percent=20, space_stop_percent=90)
    full = eviction.Space(total=100 * GiB, available=0)
    assert ids(eviction.victims(ENTRIES, bounds, full)) == ['old', 'mid',
                                                            'new']
