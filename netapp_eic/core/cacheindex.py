# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What one pool's cache holds, kept in memory between listings; no I/O.

Listing a FlexVol root and reading every entry's record (an open and a
read each, over NFS) costs seconds at 10,000 entries, and the scheduler's
report asked for it every stats period. The cache manager keeps a
:class:`CacheIndex` per pool instead, changed by its own publishes, uses
and evictions, and revalidated against the FlexVol root (see
:meth:`netapp_eic.core.cachemanager.CacheManager.sync`): when the root's
modification time moved (a name added, removed or renamed there, by any
host or by hand), one listing of its names, no record read: the entries
that appeared (or whose record appeared or went) are read, the gone ones
dropped; and, at the periodic cache task every
:data:`~netapp_eic.core.cachemanager.RESCAN_SECONDS`, every record read
again (a record rewritten in place, by another host's use, keeps its
name).

The index also keeps each entry's aged hits (``gdsf``'s value), which the
records do not hold, and its own clock for aging them: the uses of the
pool's entries it has seen. Both are this host's: a later last use found
in a record (another host's) counts as one use.
"""

import collections.abc
import dataclasses
import heapq
import threading

from netapp_eic.core import eviction

#: What the listing of a FlexVol root says of an image: ``entry``,
#: ``record`` (see :func:`netapp_eic.core.records.names`).
Kinds = frozenset[str]
BOTH: Kinds = frozenset(('entry', 'record'))


@dataclasses.dataclass(frozen=True)
class Indexed:
    """An entry as the index knows it (a frozen value: a victim listed
    keeps the last use it was listed with)."""

    image_id: str
    size: int
    allocated: int
    last_used: float
    #: Uses aged by the half-life, as of ``used_at``.
    hits: float
    #: The record's creation time (0 without a valid record): another
    #: value means another entry under the same name.
    created_at: float
    #: Has a valid record that lets it be cloned from (see
    #: :meth:`~netapp_eic.core.cachemanager.CacheManager.servable`).
    servable: bool
    #: The names the listing showed for it.
    kinds: Kinds = BOTH
    #: The index's use count at its last use, and the entry's
    #: :func:`~netapp_eic.core.eviction.priority` (set by the index).
    used_at: float = 0.0
    rank: float = 0.0


@dataclasses.dataclass(frozen=True)
class Report:
    """What a pool tells the scheduler about its cache."""

    #: Servable entries' image ids, the highest in the policy's order
    #: first (as of the last change of the entries when none was left out),
    #: at most the limit asked for.
    image_ids: tuple[str, ...]
    count: int
    bytes: int


class CacheIndex:
    """One pool's entries by image id, their count and bytes."""

    def __init__(self, policy: eviction.Policy = eviction.Policy.LRU,
                 half_life: float = 0.0) -> None:
        self.policy = policy
        self.half_life = half_life
        self._lock = threading.Lock()
        #: Held by whoever revalidates the index against the FlexVol.
        self.syncing = threading.Lock()
        self._entries: dict[str, Indexed] = {}
        #: The names each entry had when read: a listing that shows the
        #: same is compared at once.
        self._kinds: dict[str, Kinds] = {}
        self._used = 0
        #: Uses of the entries seen: the clock ``gdsf`` ages hits by.
        self.uses = 0
        #: The FlexVol root's stamp at the last listing, whether that
        #: listing can be trusted to show every change up to it, the stamp
        #: last seen and when it was first seen, and when every record was
        #: last read (None: never).
        self.stamp: object = None
        self.trusted = False
        self.seen: tuple[object, float] = (None, 0.0)
        self.scanned_at: float | None = None
        self._version = 0
        self._members = 0
        self._report_key: tuple[object, ...] | None = None
        self._report = Report((), 0, 0)

    @property
    def count(self) -> int:
        return len(self._entries)

    @property
    def used(self) -> int:
        """Bytes every entry allocates."""
        return self._used

    def get(self, image_id: str) -> Indexed | None:
        return self._entries.get(image_id)

    def entries(self) -> list[Indexed]:
        with self._lock:
            return list(self._entries.values())

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def put(self, found: Indexed) -> None:
        """Add or refresh an entry as just read. The same entry (same
        record creation) keeps its hits, plus one use when its record's
        last use is later than the index's (another host used it)."""
        with self._lock:
            old = self._entries.get(found.image_id)
            if old is not None and _same(old, found):
                return
            if old is None or old.created_at != found.created_at:
                found = dataclasses.replace(found, used_at=self.uses)
            elif found.last_used > old.last_used:
                self.uses += 1
                found = dataclasses.replace(
                    found, used_at=self.uses, hits=eviction.used_again(
                        old.hits, old.used_at, self.uses, self.half_life))
            else:
                found = dataclasses.replace(
                    found, hits=old.hits, used_at=old.used_at,
                    last_used=old.last_used)
            self._set(found, old)
            if old is None or (old.servable, old.allocated) != (
                    found.servable, found.allocated):
                self._members += 1

    def touch(self, image_id: str, now: float) -> None:
        """One use of the entry at time ``now`` (on this host)."""
        with self._lock:
            old = self._entries.get(image_id)
            if old is None:
                return
            self.uses += 1
            self._set(dataclasses.replace(
                old, hits=eviction.used_again(old.hits, old.used_at,
                                              self.uses, self.half_life),
                used_at=self.uses, last_used=max(now, old.last_used)), old)

    def drop(self, image_id: str) -> None:
        with self._lock:
            old = self._entries.pop(image_id, None)
            if old is not None:
                del self._kinds[image_id]
                self._used -= old.allocated
                self._version += 1
                self._members += 1

    def keep_only(self, image_ids: collections.abc.Container[str]) -> None:
        """Drop every entry not in ``image_ids``."""
        for image_id in self.ids():
            if image_id not in image_ids:
                self.drop(image_id)

    def changed(self, names: collections.abc.Mapping[str, Kinds]
                ) -> tuple[list[str], list[str]]:
        """Against a listing's names (``{image id: kinds}``): the image
        ids to read again (new, or a record appeared or went) and the ones
        gone (no entry file any more)."""
        with self._lock:
            if self._kinds == names:  # the usual case
                return [], []
            known = dict(self._kinds)
        differ = names.items() - known.items()
        fresh = [image_id for image_id, kinds in differ if 'entry' in kinds]
        gone = [image_id for image_id in known.keys() - names.keys()] + [
            image_id for image_id, kinds in differ
            if 'entry' not in kinds and image_id in known]
        return fresh, gone

    def report(self, limit: int) -> Report:
        """The servable entries (at most ``limit``: the highest in the
        policy's order, first); rebuilt only when the entries changed
        (when they all fit in ``limit``, only when one came or went)."""
        with self._lock:
            # Uses reorder the entries; they change the report only when
            # it leaves some out.
            cut = self._report_key is None or self._report.count > limit
            key = (limit, cut, self._version if cut else self._members)
            if key == self._report_key:
                return self._report
            servable = [e for e in self._entries.values() if e.servable]
            top = heapq.nlargest(limit, servable, key=_order)
            self._report = Report(tuple(e.image_id for e in top),
                                  len(servable),
                                  sum(e.allocated for e in servable))
            cut = len(servable) > limit
            self._report_key = (limit, cut, self._version if cut
                                 else self._members)
            return self._report

    def _set(self, new: Indexed, old: Indexed | None) -> None:
        # ``new`` was just made by the caller and is not shared yet.
        object.__setattr__(new, 'rank', eviction.priority(
            new, self.policy, self.half_life))
        self._entries[new.image_id] = new
        self._kinds[new.image_id] = new.kinds
        self._used += new.allocated - (old.allocated if old else 0)
        self._version += 1


def _order(entry: Indexed) -> tuple[float, float, str]:
    """The eviction order's key (see :func:`eviction.order`)."""
    return (entry.rank, *eviction.ties(entry))


def _same(old: Indexed, found: Indexed) -> bool:
    """Whether an entry read again is what the index holds."""
    return (old.created_at, old.allocated, old.size, old.servable,
            old.kinds) == (found.created_at, found.allocated, found.size,
                           found.servable, found.kinds) and (
        found.last_used <= old.last_used)
