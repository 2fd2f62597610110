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
records do not hold: they are this host's count, and a later last use
found in a record (another host's) counts as one use.
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
    #: Uses aged by the half-life, as of ``last_used``.
    hits: float
    #: The record's creation time (0 without a valid record): another
    #: value means another entry under the same name.
    created_at: float
    #: Has a valid record that lets it be cloned from (see
    #: :meth:`~netapp_eic.core.cachemanager.CacheManager.servable`).
    servable: bool
    #: The names the listing showed for it.
    kinds: Kinds = BOTH


@dataclasses.dataclass(frozen=True)
class Report:
    """What a pool tells the scheduler about its cache."""

    #: Servable entries' image ids, highest priority first, at most the
    #: limit asked for.
    image_ids: tuple[str, ...]
    count: int
    bytes: int


class CacheIndex:
    """One pool's entries by image id, their count and bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Held by whoever revalidates the index against the FlexVol.
        self.syncing = threading.Lock()
        self._entries: dict[str, Indexed] = {}
        self._used = 0
        #: The FlexVol root's stamp at the last listing, and when every
        #: record was last read (None: never).
        self.stamp: object = None
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

    def put(self, found: Indexed, half_life: float) -> None:
        """Add or refresh an entry as just read. The same entry (same
        record creation) keeps its hits, plus one use when its record's
        last use is later than the index's (another host used it)."""
        with self._lock:
            old = self._entries.get(found.image_id)
            if old is not None and old.created_at == found.created_at:
                hits = old.hits
                if found.last_used > old.last_used:
                    hits = eviction.used_again(old.hits, old.last_used,
                                               found.last_used, half_life)
                found = dataclasses.replace(
                    found, hits=hits,
                    last_used=max(found.last_used, old.last_used))
            self._set(found, old)
            if old is None or (old.servable, old.allocated) != (
                    found.servable, found.allocated):
                self._members += 1

    def touch(self, image_id: str, now: float, half_life: float) -> None:
        """One use of the entry at ``now`` (on this host)."""
        with self._lock:
            old = self._entries.get(image_id)
            if old is None:
                return
            self._set(dataclasses.replace(
                old, hits=eviction.used_again(old.hits, old.last_used, now,
                                              half_life),
                last_used=max(now, old.last_used)), old)

    def drop(self, image_id: str) -> None:
        with self._lock:
            old = self._entries.pop(image_id, None)
            if old is not None:
                self._used -= old.allocated
                self._version += 1
                self._members += 1

    def keep_only(self, image_ids: collections.abc.Container[str]) -> None:
        """Drop every entry not in ``image_ids``."""
        for image_id in self.ids():
            if image_id not in image_ids:
                self.drop(image_id)

    def changed(self, names: collections.abc.Mapping[str, collections.abc.
                                                     Set[str]]
                ) -> tuple[list[str], list[str]]:
        """Against a listing's names (``{image id: kinds}``): the image
        ids to read again (new, or a record appeared or went) and the ones
        gone (no entry file any more)."""
        with self._lock:
            known = {image_id: e.kinds for image_id, e in
                     self._entries.items()}
        if known == names:  # the usual case: names the index holds
            return [], []
        fresh = [image_id for image_id, kinds in names.items()
                 if 'entry' in kinds and known.get(image_id) != kinds]
        gone = [image_id for image_id in known
                if 'entry' not in names.get(image_id, ())]
        return fresh, gone

    def report(self, limit: int, policy: eviction.Policy,
               half_life: float) -> Report:
        """The servable entries, the ``limit`` highest in the policy's
        order first; rebuilt only when the entries changed (when they all
        fit in ``limit``, only when one came or went)."""
        with self._lock:
            # Uses reorder the entries; they change the report only when
            # it leaves some out.
            cut = self._report_key is None or self._report.count > limit
            key = (policy, half_life, limit,
                   self._version if cut else self._members)
            if key == self._report_key:
                return self._report
            servable = [e for e in self._entries.values() if e.servable]
            top = heapq.nlargest(limit, servable, key=lambda e: (
                eviction.priority(e, policy, half_life), e.image_id))
            self._report = Report(tuple(e.image_id for e in top),
                                  len(servable),
                                  sum(e.allocated for e in servable))
            self._report_key = key
            return self._report

    def _set(self, new: Indexed, old: Indexed | None) -> None:
        self._entries[new.image_id] = new
        self._used += new.allocated - (old.allocated if old else 0)
        self._version += 1
