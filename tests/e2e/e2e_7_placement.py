# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cache-aware placement: the plugin's ImageCacheWeigher in
cinder-scheduler, against Cinder's CapacityWeigher alone.

The volume type names the eic backend only, so the scheduler chooses
between its pools vol_cinder_a and vol_cinder_b. vol_cinder_a is twice the
size (``storage.TOPOLOGY``): by capacity, creates go there. The image is
cached on vol_cinder_b first (one create pinned there), and the test waits
until cinder-volume's periodic stats have brought the pool's
``netapp_eic_cached_images`` to the scheduler. Then the same boot storm,
ten creates sent at once, twice:

* weighers ``CapacityWeigher,ImageCacheWeigher`` (multiplier 2.0, the
  stack's scheduler configuration): every create goes to vol_cinder_b and
  clones its entry, no File Copy;
* cinder-scheduler replaced (a rolling restart) by one with Cinder's
  default weighers (``CapacityWeigher`` alone: the plugin's weigher is not
  loaded): every create goes to vol_cinder_a by capacity, where one pays a
  File Copy and the others wait for the entry it makes (single-flight) or
  clone it.
"""

import time
import typing

import pytest

from tests.e2e import cinder_svc
from tests.e2e import driverlog
from tests.e2e import storage
from tests.e2e.scenario import EIC

POOL_A, POOL_B = storage.EIC_POOLS
CREATES = 10
TITLE = ('Placement of %d parallel creates from an image cached on %s (%s '
         'has more free space); seconds to available:' % (
             CREATES, POOL_B, POOL_A))


class Placed(typing.NamedTuple):
    """One create of a storm: where it went, how long, what the driver
    did."""

    pool: str
    seconds: float
    report: driverlog.Create


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


def _wait_cached_in_scheduler(run, image_id: str, flexvol: str,
                              timeout: float = 60.0) -> float:
    """Seconds until the scheduler's view of the pool (its capabilities
    in ``get_pools``, what the weigher reads) lists the image."""
    name = '%s@%s#%s' % (cinder_svc.CLUSTER, EIC, storage.share(flexvol))
    start = time.monotonic()
    while True:
        capabilities = run.stack.cinder.pools().get(name, {})
        if image_id in (capabilities.get('netapp_eic_cached_images') or ()):
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, (
            'the scheduler does not list image %s in pool %s after %.0f s: '
            '%s' % (image_id, name, timeout, capabilities))
        time.sleep(0.5)


def _storm(run, image_id, image,
           weighers: str) -> tuple[list[Placed], int]:
    """CREATES creates sent at once with the backend-only type, every
    volume's bytes checked; returns them and the number of File Copies
    meanwhile, which go to the table with the per-pool counts and the
    mean time to available."""
    before = len(run.stack.storage.requests())
    times = run.api.storm(image_id, run.volume_type(EIC), CREATES)
    copies = len(run.file_copies_since(before))
    reports = run.driver_reports()
    created = []
    for volume_id, seconds in times.items():
        run.assert_bytes(volume_id, image)
        assert len(reports.get(volume_id, [])) == 1, volume_id
        created.append(Placed(run.pool(volume_id), seconds,
                              reports[volume_id][0]))
    per_pool = {f: sum(1 for c in created if c.pool == storage.share(f))
                for f in (POOL_A, POOL_B)}
    lines = run.table.sections.setdefault(TITLE, [
        '%-34s %12s %12s %11s %7s %7s' % (
            'scheduler weighers', POOL_A, POOL_B, 'File Copies', 'mean s',
            'max s'),
    ])
    lines.append('%-34s %12d %12d %11d %7.2f %7.2f' % (
        weighers, per_pool[POOL_A], per_pool[POOL_B], copies,
        sum(times.values()) / len(times), max(times.values())))
    return created, copies


def test_creates_go_to_the_pool_holding_the_image(run, scheduler_mode):
    scheduler_mode(cinder_svc.SCHEDULER_CACHE_AWARE)
    image_id, image = run.image('glance')
    seeded = run.create(image_id, image, EIC, POOL_B)
    assert seeded.observed == 'file-copy', seeded
    run.stack.timings['cache entry in the scheduler'] = (
        _wait_cached_in_scheduler(run, image_id, POOL_B))

    aware, copies = _storm(run, image_id, image,
                           'CapacityWeigher,ImageCacheWeigher')

    assert copies == 0
    assert {(c.pool, c.report.path) for c in aware} == {
        (storage.share(POOL_B), 'cache-clone')}, aware

    scheduler_mode(cinder_svc.SCHEDULER_CAPACITY)
    by_capacity, copies = _storm(run, image_id, image, 'CapacityWeigher')

    assert copies == 1
    assert {c.pool for c in by_capacity} == {storage.share(POOL_A)}, (
        by_capacity)
    # One create copied; the others waited for its entry or cloned it.
    assert len([c for c in by_capacity if c.report.path == 'file-copy' and
                'concurrent' not in c.report.note]) == 1, by_capacity
    assert run.downloads(image_id) == 0
    assert run.strays(POOL_A) == []
    assert run.strays(POOL_B) == []
