# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cloud replay's traces: synthetic ones with stated parameters, and
an operator's own history as CSV.

A trace is a time-ordered list of :class:`Event`: a boot (a volume
created from an image, placed on one of its candidate pools), an upload
(the image appears in Glance) or a delete (it goes). The synthetic model
(:class:`Params`; every figure of ``bench_cloud.py`` names them):

* a catalogue of ``images`` images ranked by popularity; a boot picks rank
  *r* with probability proportional to 1 / *r* ^ ``zipf``;
* sizes log-uniform between ``min_gib`` and ``max_gib`` GiB (median 6.3,
  mean 10.6 GiB for 1 to 40), independent of popularity;
* ``uploads`` new images a day, ``hot_share`` of them new releases that
  enter the ranking at a rank drawn like a boot's (so often near the top),
  the others at a uniform rank; ``deletes`` a day leave it, drawn
  uniformly from its less popular half;
* ``boots`` boots a day at uniform random times, each in one of
  ``zones`` availability zones (its candidates: that zone's pools);
* ``storms`` boot storms a day: ``storm_boots`` boots of one image (drawn
  like a boot's) in one zone within ``storm_minutes`` minutes.

CSV (``--trace FILE``; ``--write-trace`` writes a synthetic one): a header
and one row per event, columns ``time`` (seconds from the start, or an ISO
8601 time), ``image_id``, ``image_size`` (bytes), ``candidate_pools``
(pool names separated by ``;``, empty: every pool) and, optionally,
``event`` (``boot``, the default; ``upload``; ``delete``).
"""

import bisect
import csv
import dataclasses
import datetime
import itertools
import math
import random
import uuid

GIB = 1024 ** 3
DAY = 86400.0
BOOT, UPLOAD, DELETE = 'boot', 'upload', 'delete'
COLUMNS = ('time', 'image_id', 'image_size', 'candidate_pools', 'event')


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    time: float
    kind: str
    image_id: str
    size: int
    #: Pool names; empty: every pool.
    candidates: tuple = ()


@dataclasses.dataclass(frozen=True)
class Params:
    """The synthetic trace's parameters (defaults: the README's)."""

    days: int = 365
    images: int = 10000
    zipf: float = 1.0
    min_gib: float = 1.0
    max_gib: float = 40.0
    boots: int = 2000
    uploads: int = 20
    deletes: int = 20
    hot_share: float = 0.1
    storms: int = 1
    storm_boots: int = 100
    storm_minutes: float = 10.0
    pools: int = 50
    zones: int = 5
    seed: int = 1

    def describe(self):
        return ('%d days, %d images, Zipf %.1f, sizes log-uniform %g-%g '
                'GiB, %d boots/day in %d zones of %d pools, %d uploads '
                '(%d%% new releases) and %d deletes/day, %d storm/day of %d '
                'boots in %g min' % (
                    self.days, self.images, self.zipf, self.min_gib,
                    self.max_gib, self.boots, self.zones,
                    self.pools // self.zones, self.uploads,
                    round(100 * self.hot_share), self.deletes, self.storms,
                    self.storm_boots, self.storm_minutes))


def pool_names(count):
    return ['pool-%02d' % n for n in range(count)]


class _Catalogue:
    """The images ranked by popularity, and their sizes."""

    def __init__(self, params, rng):
        self.params = params
        self.rng = rng
        self.sizes = {}
        self.ranking = [self._new() for _ in range(params.images)]
        longest = params.images + params.days * params.uploads + 1
        weights = (1.0 / (r + 1) ** params.zipf for r in range(longest))
        self.cumulative = list(itertools.accumulate(weights))

    def _new(self):
        image_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        low, high = math.log(self.params.min_gib), math.log(
            self.params.max_gib)
        self.sizes[image_id] = int(math.exp(self.rng.uniform(low, high)) *
                                   GIB)
        return image_id

    def rank(self):
        """A rank drawn by popularity."""
        count = len(self.ranking)
        return min(bisect.bisect(self.cumulative, self.rng.random() *
                                 self.cumulative[count - 1]), count - 1)

    def popular(self):
        return self.ranking[self.rank()]

    def upload(self):
        image_id = self._new()
        hot = self.rng.random() < self.params.hot_share
        at = self.rank() if hot else self.rng.randrange(len(self.ranking) + 1)
        self.ranking.insert(at, image_id)
        return image_id

    def delete(self):
        half = len(self.ranking) // 2
        return self.ranking.pop(self.rng.randrange(half, len(self.ranking)))


def synthetic(params):
    """The events of ``params``' trace, in time order."""
    rng = random.Random(params.seed)
    catalogue = _Catalogue(params, rng)
    names = pool_names(params.pools)
    per_zone = max(1, params.pools // params.zones)
    zones = [tuple(names[z * per_zone:(z + 1) * per_zone])
             for z in range(params.zones)]
    events = []
    for day in range(params.days):
        start = day * DAY
        changes = sorted([(start + rng.random() * DAY, UPLOAD)
                          for _ in range(params.uploads)] +
                         [(start + rng.random() * DAY, DELETE)
                          for _ in range(params.deletes)])
        boots = [(start + rng.random() * DAY, None)
                 for _ in range(params.boots)]
        for _ in range(params.storms):
            at = start + rng.random() * (DAY - params.storm_minutes * 60)
            storm = [rng.choice(zones), None]  # the image: at its first boot
            boots += [(at + rng.random() * params.storm_minutes * 60, storm)
                      for _ in range(params.storm_boots)]
        boots.sort(key=lambda b: b[0])
        pending = iter(changes)
        change = next(pending, None)
        for at, storm in boots:
            while change is not None and change[0] <= at:
                events.append(_change(catalogue, *change))
                change = next(pending, None)
            if storm is None:
                image_id, zone = catalogue.popular(), rng.choice(zones)
            else:
                if storm[1] is None:
                    storm[1] = catalogue.popular()
                zone, image_id = storm
                if image_id not in catalogue.sizes:  # deleted meanwhile
                    continue
            events.append(Event(at, BOOT, image_id,
                                catalogue.sizes[image_id], zone))
        while change is not None:
            events.append(_change(catalogue, *change))
            change = next(pending, None)
    events.sort(key=lambda e: e.time)
    return events


def _change(catalogue, at, kind):
    image_id = catalogue.upload() if kind == UPLOAD else catalogue.delete()
    size = catalogue.sizes[image_id]
    if kind == DELETE:
        del catalogue.sizes[image_id]
    return Event(at, kind, image_id, size)


def write_csv(events, path):
    with open(path, 'w', newline='') as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for e in events:
            out.writerow(('%.3f' % e.time, e.image_id, e.size,
                          ';'.join(e.candidates), e.kind))


def read_csv(path):
    """The events of a CSV trace, in time order (times from the first)."""
    events = []
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            kind = (row.get('event') or BOOT).strip()
            if kind not in (BOOT, UPLOAD, DELETE):
                raise ValueError('%s: unknown event %r' % (path, kind))
            pools = (row.get('candidate_pools') or '').strip()
            events.append(Event(
                _seconds(row['time']), kind, row['image_id'].strip(),
                int(float(row['image_size'])),
                tuple(p for p in pools.split(';') if p)))
    if not events:
        return events
    first = min(e.time for e in events)
    return sorted((dataclasses.replace(e, time=e.time - first)
                   for e in events), key=lambda e: e.time)


def pools_of(events):
    """The pool names a CSV trace names, sorted."""
    return sorted({p for e in events for p in e.candidates})


def _seconds(text):
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        return when.timestamp()
