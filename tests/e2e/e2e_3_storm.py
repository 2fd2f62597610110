# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A boot storm: parallel creates from one new image make one File Copy.

The first test measures a storm as it comes (for the table); whether the
other creates arrive while the copy still runs then depends on timing.
The second makes the copy last a few seconds (the simulator paces it, as
a larger image would take) so that they do, and checks that they waited
for the one copy instead of starting their own.
"""

import time

import pytest

from tests.e2e import storage
from tests.e2e.scenario import EIC, FILE_COPY, INTREE

POOL_B = storage.EIC_POOLS[1]
INTREE_B = storage.INTREE_POOLS[1]
STORM = 5
SMALL_MIB = 64


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


def _storm(run, image_id, backend, flexvol):
    """Send STORM creates at once; returns (volume ids, seconds until the
    last is available, File Copy requests meanwhile)."""
    before = len(run.stack.storage.requests())
    start = time.monotonic()
    volume_ids = run.api.create_many(image_id,
                                     run.volume_type(backend, flexvol), STORM)
    run.api.wait_available(volume_ids)
    return (volume_ids, time.monotonic() - start,
            run.file_copies_since(before))


def test_boot_storm_copies_the_image_once(run):
    image_id, image = run.image('glance')

    volume_ids, seconds, copies = _storm(run, image_id, EIC, POOL_B)

    assert len(copies) == 1, copies
    assert run.downloads(image_id) == 0
    reports = [run.driver_report(volume_id) for volume_id in volume_ids]
    for volume_id, report in zip(volume_ids, reports, strict=True):
        run.assert_bytes(volume_id, image)
        assert report.cloned, report
    assert run.strays(POOL_B) == []
    # Creates that waited for the one copy instead of starting their own.
    waited = sum(1 for r in reports if 'concurrent' in r.note)
    scenario = 'boot storm: %d creates, until the last' % STORM
    run.table.add(scenario, EIC, seconds, '1 copy, %d waited' % waited)

    downloads = run.downloads(image_id)
    volume_ids, seconds, copies = _storm(run, image_id, INTREE, INTREE_B)
    for volume_id in volume_ids:
        run.assert_bytes(volume_id, image)
    run.table.add(scenario, INTREE, seconds, '%d downl.' % (
        run.downloads(image_id) - downloads))


def test_parallel_creates_wait_for_the_one_copy(run):
    image_id, image = run.image('glance', size_mib=SMALL_MIB)
    run.stack.storage.control('POST', 'faults', {
        'method': 'POST', 'path': FILE_COPY, 'count': 1,
        'throttle_bps': SMALL_MIB * 1024 ** 2 // 4})
    try:
        volume_ids, _, copies = _storm(run, image_id, EIC, POOL_B)
    finally:
        run.stack.storage.control('DELETE', 'faults')

    assert len(copies) == 1, copies
    reports = [run.driver_report(volume_id) for volume_id in volume_ids]
    waited = [r for r in reports if 'concurrent' in r.note]
    assert waited, reports
    for volume_id, report in zip(volume_ids, reports, strict=True):
        run.assert_bytes(volume_id, image)
        assert report.cloned, report
    assert run.downloads(image_id) == 0
    assert run.strays(POOL_B) == []
