# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which cache entries to evict, in which order, under which budget; pure.

The order is the policy's (``netapp_eic_cache_eviction_policy``):

* ``lru``: least recently used first.
* ``gdsf``: least value per byte held first, Greedy-Dual-Size-Frequency's
  value (hits times the cost of a miss over the bytes the entry holds)
  with the hits aged by a half-life instead of GDSF's inflation clock: a
  use counts half as much ``netapp_eic_cache_half_life_uses`` uses of the
  pool's entries later. A miss costs a File Copy of the entry's bytes plus
  a fixed part (:data:`MISS_FIXED_BYTES`: the job, the publish, the first
  clone), so a 1 GiB image is worth up to twice its bytes and a 40 GiB one
  about its bytes: what an entry saves per byte is how often it is used.
  A one-off 40 GiB image, used once, goes before a 1 GiB image used every
  hour; LRU would keep it for as long as forty such images.

The half-life counts uses, not hours, because the right age of a use
depends on how fast the pool is used: in the cloud replay
(``benchmarks/bench_cloud.py``) the best half-life in hours moved 30-fold
between a pool booting 20 and 2,000 times a day, in uses 5-fold.
:func:`priority` folds the aged hits into one number that does not change
as the pool is used (the last use's count moved later by one half-life per
doubling of the value), so the order of the entries is a sort.

Four bounds per FlexVol, any of which triggers eviction: the number of
entries (``netapp_eic_cache_max_entries``), their total size
(``netapp_eic_cache_max_size_gb``, and ``netapp_eic_cache_max_percent`` of
the FlexVol's size) and the FlexVol's free space (the parent driver's
``thres_avl_size_perc_start``/``stop``: below *start* percent free,
entries go until *stop* percent is free again or the cache is empty).
Entry sizes are the bytes each file allocates; blocks a volume cloned from
an entry still shares are not freed by evicting it, so the free-space
estimate is an upper bound and the next run corrects it.
"""

import collections.abc
import dataclasses
import enum
import math
import typing

from netapp_eic.core.types import Settings

#: The fixed part of a miss's cost, in bytes copied.
MISS_FIXED_BYTES = 256 * 1024 ** 2
#: The least size an entry is valued at (an empty file holds a block).
_BLOCK = 4096


class Policy(str, enum.Enum):
    """The eviction order (``netapp_eic_cache_eviction_policy``)."""

    LRU = 'lru'
    GDSF = 'gdsf'


class Candidate(typing.Protocol):
    """An entry as eviction sees it (the cache manager's index entries
    are ones)."""

    @property
    def image_id(self) -> str: ...

    @property
    def allocated(self) -> int: ...

    @property
    def last_used(self) -> float: ...

    @property
    def hits(self) -> float: ...

    @property
    def used_at(self) -> float:
        """The pool's use count at the entry's last use (``hits`` are as
        of then)."""


@dataclasses.dataclass(frozen=True)
class Space:
    """The FlexVol's usable size and free bytes."""

    total: int
    available: int


C = typing.TypeVar('C', bound=Candidate)


def used_again(hits: float, used_at: float, now: float,
               half_life: float) -> float:
    """The aged hits of an entry used once more when the pool's use count
    is ``now``: its hits halved for every ``half_life`` uses since
    ``used_at``, plus one."""
    if half_life <= 0:
        return hits + 1
    return hits * math.pow(2.0, -max(0.0, now - used_at) / half_life) + 1


def priority(entry: Candidate, policy: Policy, half_life: float) -> float:
    """The entry's rank, lowest evicted first: its last use (time) for
    ``lru``; for ``gdsf`` the pool's use count at its last use plus
    ``half_life`` per doubling of its value per byte (aged hits times the
    cost of a miss over the bytes held)."""
    if policy is Policy.LRU or half_life <= 0:
        return entry.last_used
    held = max(entry.allocated, _BLOCK)
    value = max(entry.hits, 1e-9) * (held + MISS_FIXED_BYTES) / held
    return entry.used_at + half_life * math.log2(value)


def policy_of(budget: Settings) -> Policy:
    """The settings' policy (an unknown name is LRU's)."""
    try:
        return Policy(budget.cache_eviction_policy)
    except ValueError:
        return Policy.LRU


def order(entries: collections.abc.Iterable[C], budget: Settings,
          rank: typing.Callable[[C], float] | None = None) -> list[C]:
    """``entries`` in eviction order (ties by last use, then image id: a
    host that has just read the records knows no uses, and evicts the
    least recently used of equals first); ``rank``, when
    given, is each entry's :func:`priority` under ``budget``, known."""
    if rank is None:
        policy = policy_of(budget)
        half_life = budget.cache_half_life_uses

        def rank(e: C) -> float:
            return priority(e, policy, half_life)
    known = rank
    return sorted(entries, key=lambda e: (known(e), *ties(e)))


def ties(entry: Candidate) -> tuple[float, str]:
    """What orders entries of equal rank: last use, then image id."""
    return entry.last_used, entry.image_id


def byte_budget(budget: Settings, space: Space | None) -> int:
    """The most bytes the entries may allocate (0: no bound):
    ``cache_max_bytes`` and ``cache_max_percent`` of the FlexVol, the
    smaller; the percentage counts only when the size is known."""
    bounds = [budget.cache_max_bytes] if budget.cache_max_bytes else []
    if budget.cache_max_percent and space is not None and space.total > 0:
        bounds.append(space.total * budget.cache_max_percent // 100)
    return min(bounds) if bounds else 0


def over_budget(count: int, used: int, budget: Settings,
                space: Space | None) -> bool:
    """Whether ``count`` entries allocating ``used`` bytes break a bound
    of ``budget`` (or the FlexVol is short of free space)."""
    limit = byte_budget(budget, space)
    return bool((budget.cache_max_entries and
                 count > budget.cache_max_entries) or
                (limit and used > limit) or _under_pressure(space, budget))


def victims(entries: collections.abc.Sequence[C], budget: Settings,
            space: Space | None = None,
            keep: collections.abc.Container[str] = (),
            rank: typing.Callable[[C], float] | None = None) -> list[C]:
    """The entries to evict, in order, so that every bound of ``budget``
    (``cache_max_entries``, ``cache_max_bytes``, ``cache_max_percent``,
    ``space_*_percent``; 0 disables one) holds. ``keep`` names entries
    that must stay (just published, or found in use); ``rank`` as for
    :func:`order`.
    """
    count = len(entries)
    used = sum(e.allocated for e in entries)
    limit = byte_budget(budget, space)
    free = space.available if space else 0
    pressure = _under_pressure(space, budget)
    chosen: list[C] = []
    if not over_budget(count, used, budget, space):
        return chosen
    for entry in order((e for e in entries if e.image_id not in keep),
                       budget, rank):
        over_count = budget.cache_max_entries and (
            count > budget.cache_max_entries)
        over_size = limit and used > limit
        short = pressure and space is not None and (
            free * 100 < budget.space_stop_percent * space.total)
        if not (over_count or over_size or short):
            break
        chosen.append(entry)
        count -= 1
        used -= entry.allocated
        free += entry.allocated
    return chosen


def _under_pressure(space: Space | None, budget: Settings) -> bool:
    if space is None or space.total <= 0 or not budget.space_start_percent:
        return False
    return space.available * 100 <= budget.space_start_percent * space.total
