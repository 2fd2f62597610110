# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which cache entries to evict: least recently used first, pure.

Three bounds per FlexVol, any of which triggers eviction: the number of
entries (``netapp_eic_cache_max_entries``), their total size
(``netapp_eic_cache_max_size_gb``) and the FlexVol's free space (the parent
driver's ``thres_avl_size_perc_start``/``stop``: below *start* percent
free, entries go until *stop* percent is free again or the cache is
empty). Entry sizes are the bytes each file allocates; blocks a volume
cloned from an entry still shares are not freed by evicting it, so the
free-space estimate is an upper bound and the next run corrects it.
"""

import collections.abc
import dataclasses
import typing

from netapp_eic.core.types import Settings


class Candidate(typing.Protocol):
    """An entry as eviction sees it (:class:`~netapp_eic.core.cache.Entry`
    is one)."""

    @property
    def image_id(self) -> str: ...

    @property
    def allocated(self) -> int: ...

    @property
    def last_used(self) -> float: ...


@dataclasses.dataclass(frozen=True)
class Space:
    """The FlexVol's usable size and free bytes."""

    total: int
    available: int


C = typing.TypeVar('C', bound=Candidate)


def victims(entries: collections.abc.Sequence[C], budget: Settings,
            space: Space | None = None,
            keep: collections.abc.Container[str] = ()) -> list[C]:
    """The entries to evict, in order, so that every bound of ``budget``
    (``cache_max_entries``, ``cache_max_bytes``, ``space_*_percent``; 0
    disables one) holds. ``keep`` names entries that must stay (just
    published).
    """
    order = sorted((e for e in entries if e.image_id not in keep),
                   key=lambda e: (e.last_used, e.image_id))
    count = len(entries)
    used = sum(e.allocated for e in entries)
    free = space.available if space else 0
    pressure = _under_pressure(space, budget)
    chosen: list[C] = []
    for entry in order:
        over_count = budget.cache_max_entries and (
            count > budget.cache_max_entries)
        over_size = budget.cache_max_bytes and used > budget.cache_max_bytes
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
