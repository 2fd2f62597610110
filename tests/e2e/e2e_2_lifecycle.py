# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Re-image and delete through the Block Storage API."""

import os

import pytest

from tests.e2e import storage
from tests.e2e.scenario import EIC

POOL_A, POOL_B = storage.EIC_POOLS
SMALL_MIB = 64


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


def test_reimage_registers_the_image_in_the_pool_cache(run):
    first_id, first = run.image('glance', size_mib=SMALL_MIB)
    volume = run.create(first_id, first, EIC, POOL_A)
    second_id, second = run.image('glance', size_mib=SMALL_MIB)

    run.api.reimage(volume.volume_id, second_id)

    run.assert_bytes(volume.volume_id, second)
    assert (second_id, storage.share(POOL_A)) in run.registrations()
    again = run.create(second_id, second, EIC, POOL_A)
    assert run.driver_report(again.volume_id).path == 'cache-clone'
    assert again.observed == 'clone'


def test_delete_removes_the_volume_files_and_keeps_the_cache(run):
    image_id, image = run.image('glance', size_mib=SMALL_MIB)
    volumes = [run.create(image_id, image, EIC, POOL_B) for _ in range(2)]
    files = [run.volume_file(v.volume_id, v.pool) for v in volumes]
    assert all(os.path.exists(f) for f in files)

    run.api.delete_volumes([v.volume_id for v in volumes])

    assert [f for f in files if os.path.exists(f)] == []
    entries = run.flexvol_entries(POOL_B)
    assert 'img-cache-' + image_id in entries
    assert [e for e in entries
            if any(v.volume_id in e for v in volumes)] == []
    assert run.strays(POOL_B) == []
