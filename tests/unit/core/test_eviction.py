# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.eviction: the order of each policy, every bound."""

import dataclasses
import math

import pytest

from netapp_eic.core import eviction
from netapp_eic.core.types import Settings

GiB = 1024 ** 3


@dataclasses.dataclass(frozen=True)
class Entry:
    image_id: str
    allocated: int
    last_used: float
    hits: float = 1.0
    used_at: float = 0.0


ENTRIES = [Entry('new', GiB, 300.0, used_at=3), Entry('old', GiB, 100.0,
                                                      used_at=1),
           Entry('mid', GiB, 200.0, used_at=2)]
NO_SPACE_BOUND = dict(space_start_percent=0, space_stop_percent=0)


def budget(policy='lru', **bounds):
    return Settings(**dict(NO_SPACE_BOUND, cache_eviction_policy=policy,
                           **bounds))


def ids(chosen):
    return [c.image_id for c in chosen]


@pytest.mark.parametrize('policy', ['lru', 'gdsf'])
def test_within_budget_nothing_goes(policy):
    assert eviction.victims(ENTRIES, budget(policy,
                                            cache_max_entries=3)) == []
    assert eviction.victims(ENTRIES, budget(policy)) == []


@pytest.mark.parametrize('policy', ['lru', 'gdsf'])
def test_equal_entries_go_least_recently_used_first(policy):
    """Same size and hits: both policies evict the oldest use first."""
    assert ids(eviction.victims(ENTRIES, budget(
        policy, cache_max_entries=1))) == ['old', 'mid']


def test_size_budget():
    assert ids(eviction.victims(ENTRIES, budget(
        cache_max_bytes=int(2.5 * GiB)))) == ['old']


def test_percent_budget_of_the_flexvol_and_the_smaller_bound_wins():
    space = eviction.Space(total=20 * GiB, available=19 * GiB)
    assert ids(eviction.victims(ENTRIES, budget(cache_max_percent=10),
                                space)) == ['old']
    assert ids(eviction.victims(ENTRIES, budget(
        cache_max_percent=10, cache_max_bytes=GiB), space)) == ['old', 'mid']
    # Without the FlexVol's size the percentage cannot apply.
    assert eviction.victims(ENTRIES, budget(cache_max_percent=10)) == []


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


def test_over_budget_is_the_victims_question():
    bounds = budget(cache_max_entries=2, cache_max_bytes=10 * GiB)
    assert not eviction.over_budget(2, 10 * GiB, bounds, None)
    assert eviction.over_budget(3, GiB, bounds, None)
    assert eviction.over_budget(1, 11 * GiB, bounds, None)
    pressure = budget(space_start_percent=20, space_stop_percent=40)
    assert eviction.over_budget(0, 0, pressure, eviction.Space(10, 2))
    assert not eviction.over_budget(0, 0, pressure, eviction.Space(10, 3))


def test_gdsf_evicts_a_one_off_large_image_before_a_used_small_one():
    """LRU keeps the 40 GiB image used once, last; GDSF keeps the 1 GiB
    image used eight times (its value per byte is higher)."""
    small = Entry('small', GiB, 100.0, hits=8.0, used_at=10)
    large = Entry('large', 40 * GiB, 200.0, hits=1.0, used_at=20)
    bound = dict(cache_max_bytes=40 * GiB)
    assert ids(eviction.victims([small, large], budget('lru', **bound))) \
        == ['small']
    assert ids(eviction.victims([small, large], budget('gdsf', **bound))) \
        == ['large']


def test_gdsf_priority_is_the_last_use_plus_a_half_life_per_doubling():
    one = Entry('a', GiB, 0.0, hits=1.0, used_at=100)
    four = dataclasses.replace(one, hits=4.0)
    value = (GiB + eviction.MISS_FIXED_BYTES) / GiB
    assert eviction.priority(one, eviction.Policy.GDSF, 250) == \
        pytest.approx(100 + 250 * math.log2(value))
    assert eviction.priority(four, eviction.Policy.GDSF, 250) - \
        eviction.priority(one, eviction.Policy.GDSF, 250) == \
        pytest.approx(500)
    # Half-life 0, or LRU: the last use alone.
    assert eviction.priority(four, eviction.Policy.GDSF, 0) == 0.0
    assert eviction.priority(four, eviction.Policy.LRU, 250) == 0.0


def test_uses_age_by_the_half_life():
    assert eviction.used_again(1.0, used_at=0, now=250, half_life=250) == \
        pytest.approx(1.5)
    assert eviction.used_again(4.0, used_at=0, now=500, half_life=250) == \
        pytest.approx(2.0)
    assert eviction.used_again(4.0, used_at=9, now=9, half_life=0) == 5.0


def test_a_once_hot_entry_ages_out_behind_a_newly_hot_one():
    """16 uses long ago lose to 3 recent ones after 4 half-lives."""
    once = Entry('once', GiB, 0.0, hits=16.0, used_at=0)
    now = Entry('now', GiB, 0.0, hits=3.0, used_at=1000)
    assert ids(eviction.order([once, now], budget('gdsf',
                              cache_half_life_uses=250))) == ['once', 'now']
    assert ids(eviction.order([once, now], budget(
        'gdsf', cache_half_life_uses=5000))) == ['now', 'once']


def test_unknown_policy_is_lru():
    assert eviction.policy_of(budget('mru')) is eviction.Policy.LRU


def test_gdsf_equals_known_only_by_their_records_go_oldest_first():
    """A host that has just read the records (no uses counted: every
    ``used_at`` 0) ranks equal entries the same: the oldest use goes
    first, not the smallest image id."""
    fresh = [dataclasses.replace(e, used_at=0.0) for e in ENTRIES]
    assert ids(eviction.victims(fresh, budget(
        'gdsf', cache_max_entries=1))) == ['old', 'mid']
