# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What reporting the cache costs, measured on this host: the shipped
``CacheManager.report`` over a real directory of 10,000 entries against
the full listing it replaces, and Cinder's weigher handler with and without
``ImageCacheWeigher`` over pools reporting their caches.
"""

import dataclasses
import datetime
import json
import os
import statistics
import tempfile
import time
import uuid

from netapp_eic.core import cachemanager
from netapp_eic.core.context import Context
from netapp_eic.core import eviction
from netapp_eic.core.pools import Pool
from netapp_eic.core import records
from netapp_eic.core.types import Settings
from netapp_eic import ontap

import cloud_store

TIB = 1024 ** 4


@dataclasses.dataclass
class ReportTimes:
    """Median seconds of one pool report at ``entries`` entries."""

    entries: int
    full_listing: float
    first: float
    unchanged: float
    after_use: float
    after_foreign: float
    runs: int


@dataclasses.dataclass
class WeigherTimes:
    """Median seconds of one request's weighing over ``pools`` pools."""

    pools: int
    ids: int
    capacity_only: float
    with_cache: float
    report_bytes: int


class _Client:
    """The one ONTAP call the manager makes here: the FlexVol's space."""

    def flexvol_space(self, vol):
        return 10 * TIB, 5 * TIB


def _entries(directory, count):
    """``count`` entries (one-byte files) with their records."""
    now = time.time()
    ids = []
    for n in range(count):
        image_id = str(uuid.UUID(int=n + 1, version=4))
        with open(os.path.join(directory, records.entry_name(image_id)),
                  'wb') as f:
            f.write(b'x')
        records.write(directory, records.Record(
            image_id, 'sha512:%s' % image_id, 'raw', 1, now, now - n,
            'file-copy', True, 'bench'))
        ids.append(image_id)
    return ids


def _old_report(pool, settings, max_images):
    """What ``Engine.pool_report`` did before the index: every entry and
    record read, twice (the report, then the pressure), and sorted."""
    entries = [e for e in pool.cache.entries() if e.record is not None and
               e.record.verified]
    entries.sort(key=lambda e: e.last_used, reverse=True)
    lru = dataclasses.replace(settings, cache_eviction_policy='lru')
    eviction.victims([_Listed(e.image_id, e.allocated, e.last_used)
                      for e in pool.cache.entries()], lru)
    return [e.image_id for e in entries[:max_images]]


@dataclasses.dataclass(frozen=True)
class _Listed:
    """An entry as eviction reads it (LRU reads ``last_used``)."""

    image_id: str
    allocated: int
    last_used: float
    hits: float = 1.0
    used_at: float = 0.0


def report_times(count, runs, max_images, workdir=None):
    """Medians of the full listing and of ``CacheManager.report`` at
    ``count`` entries: first (every record read), unchanged, after a use
    (a record rewritten: the directory moved, its names did not) and after
    another host published an entry (one entry read)."""
    settings = Settings()
    with tempfile.TemporaryDirectory(dir=workdir,
                                     prefix='bench-cloud-') as directory:
        ids = _entries(directory, count)
        pool = Pool('10.0.0.1:/bench', '10.0.0.1', '/bench',
                    ontap.FlexVol('bench', 'uuid-bench', 'svm', '/bench'),
                    directory)
        ctx = Context(_Client(), cloud_store.MemoryHost(), None, settings,
                      None)
        times = {'full': [], 'first': [], 'same': [], 'use': [],
                 'foreign': []}
        for run in range(runs):
            start = time.perf_counter()
            _old_report(pool, settings, max_images)
            times['full'].append(time.perf_counter() - start)
            manager = cachemanager.CacheManager(ctx)
            times['first'].append(_timed(manager, pool, max_images))
            times['same'].append(_timed(manager, pool, max_images))
            record = records.read(pool.local(records.record_name(ids[run])),
                                  ids[run])
            pool.cache.mark_used(record, time.time())
            _tick(directory)
            times['use'].append(_timed(manager, pool, max_images))
            _entries_of_another_host(directory, run)
            _tick(directory)
            times['foreign'].append(_timed(manager, pool, max_images))
    return ReportTimes(count, *(statistics.median(times[k]) for k in
                                ('full', 'first', 'same', 'use', 'foreign')),
                       runs)


def _timed(manager, pool, max_images):
    start = time.perf_counter()
    manager.report(pool, max_images)
    return time.perf_counter() - start


def _tick(directory):
    """Make sure the directory's modification time moved (a file system
    with a coarse clock could show two changes at one time)."""
    st = os.stat(directory)
    os.utime(directory, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))


def _entries_of_another_host(directory, run):
    image_id = str(uuid.UUID(int=10 ** 9 + run, version=4))
    with open(os.path.join(directory, records.entry_name(image_id)),
              'wb') as f:
        f.write(b'y')
    now = time.time()
    records.write(directory, records.Record(
        image_id, 'sha512:%s' % image_id, 'raw', 1, now, now, 'file-copy',
        True, 'other host'))


def weigher_times(pools, ids, runs):
    """Medians of Cinder's ``OrderedHostWeightHandler`` weighing
    ``pools`` pools, each reporting ``ids`` cached image ids, with
    ``CapacityWeigher`` alone and with ``ImageCacheWeigher`` too."""
    from cinder import objects
    objects.register_all()
    from cinder.scheduler import host_manager
    from cinder.scheduler import weights
    from cinder.scheduler.weights import capacity

    from netapp_eic import scheduler

    states, sizes = [], []
    wanted = None
    for n in range(pools):
        cached = [str(uuid.uuid4()) for _ in range(ids)]
        wanted = wanted or cached[-1]
        report = {'netapp_eic_version': '1',
                  'netapp_eic_cached_images': cached,
                  'netapp_eic_cached_image_count': ids,
                  'netapp_eic_cache_bytes': ids * 10 * 1024 ** 3,
                  'netapp_eic_cache_pressure': False,
                  'netapp_eic_direct_clone_images': []}
        sizes.append(len(json.dumps(report)))
        state = host_manager.PoolState('cv%d@eic' % n, None, {}, 'pool')
        state.update_from_volume_capability(dict(
            report, pool_name='pool', total_capacity_gb=4096,
            free_capacity_gb=1000 + n, allocated_capacity_gb=0,
            provisioned_capacity_gb=0, thin_provisioning_support=False,
            thick_provisioning_support=True, reserved_percentage=0,
            timestamp=datetime.datetime.now(datetime.timezone.utc)))
        states.append(state)
    props = {'request_spec': {'image_id': wanted,
                              'volume_properties': {'size': 1}},
             'size': 1, 'volume_type': {}}
    handler = weights.OrderedHostWeightHandler('cinder.scheduler.weights')
    plain = [capacity.CapacityWeigher]
    both = plain + [scheduler.ImageCacheWeigher]
    times = {'plain': [], 'both': []}
    for _ in range(runs):
        for key, classes in (('plain', plain), ('both', both)):
            start = time.perf_counter()
            handler.get_weighed_objects(classes, states, props)
            times[key].append(time.perf_counter() - start)
    return WeigherTimes(pools, ids, statistics.median(times['plain']),
                        statistics.median(times['both']),
                        int(statistics.median(sizes)))
