# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Every path, each create through the Block Storage API, on this driver
and on Cinder's in-tree NetApp driver side by side (the table).

Glance gives Cinder the image locations through its locations API only
(the image records show none): the way a current deployment runs.
"""

import subprocess

import pytest

from tests.e2e import storage
from tests.e2e.scenario import EIC, INTREE

POOL_A, POOL_B = storage.EIC_POOLS
INTREE_A, INTREE_B = storage.INTREE_POOLS


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


def _assert_locations_by_api(run, image_id):
    shown = run.api.image(image_id)
    assert 'locations' not in shown and 'direct_url' not in shown, shown
    statuses = run.stack.glance.location_requests(image_id)
    assert statuses and set(statuses) == {200}, statuses


def test_cold_file_copy_then_cache_clone(run):
    image_id, image = run.image('glance')
    eic = run.create(image_id, image, EIC, POOL_B)
    report = run.driver_report(eic.volume_id)
    assert (report.path, report.pool) == ('file-copy', storage.share(POOL_B))
    assert (eic.observed, len(eic.copies)) == ('file-copy', 1)
    _assert_locations_by_api(run, image_id)
    scenario = 'cold: image in vol_glance/images'
    run.record(scenario, eic, report.path)
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_B))

    again = run.create(image_id, image, EIC, POOL_B)
    assert run.driver_report(again.volume_id).path == 'cache-clone'
    assert again.observed == 'clone'
    scenario = 'warm: same image, same pool'
    run.record(scenario, again, 'cache-clone')
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_B))


def test_direct_clone_from_glance_subdirectory_of_the_pool(run):
    image_id, image = run.image('pool_eic')
    eic = run.create(image_id, image, EIC, POOL_A)
    report = run.driver_report(eic.volume_id)
    assert report.path == 'direct-clone'
    assert eic.observed == 'clone'
    _assert_locations_by_api(run, image_id)
    scenario = "cold: image in the pool's FlexVol (subdir)"
    run.record(scenario, eic, report.path)
    # The in-tree backend's pool has its own Glance store subdirectory.
    intree_id, intree_image = run.image('pool_intree')
    run.record(scenario, run.create(intree_id, intree_image, INTREE,
                                    INTREE_A))


def test_download_then_cache_clone(run):
    image_id, image = run.image('local')
    eic = run.create(image_id, image, EIC, POOL_A)
    report = run.driver_report(eic.volume_id)
    assert (report.path, eic.observed) == ('download', 'download')
    assert (image_id, storage.share(POOL_A)) in run.registrations()
    scenario = 'cold: image on a local (non-NFS) store'
    run.record(scenario, eic, report.path)
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_A))

    again = run.create(image_id, image, EIC, POOL_A)
    assert run.driver_report(again.volume_id).path == 'cache-clone'
    assert again.observed == 'clone'
    scenario = 'warm: same image after a download'
    run.record(scenario, again, 'cache-clone')
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_A))


def test_qcow2_is_converted_once(run):
    image_id, image = run.image('glance', 'qcow2')
    eic = run.create(image_id, image, EIC, POOL_A)
    report = run.driver_report(eic.volume_id)
    assert (report.path, eic.observed) == ('file-copy', 'file-copy')
    entry = run.stack.storage.flexvol_dir(POOL_A) + '/img-cache-' + image_id
    info = subprocess.run(['qemu-img', 'info', '--output=json', entry],
                          check=True, capture_output=True, text=True).stdout
    assert '"format": "raw"' in info and str(image.virtual_size) in info
    scenario = 'cold: qcow2 in vol_glance/images'
    run.record(scenario, eic, report.path + ' + convert')
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_A))

    again = run.create(image_id, image, EIC, POOL_A)
    assert run.driver_report(again.volume_id).path == 'cache-clone'
    assert again.observed == 'clone'
    scenario = 'warm: same qcow2, same pool'
    run.record(scenario, again, 'cache-clone')
    run.record(scenario, run.create(image_id, image, INTREE, INTREE_A))


def test_file_copy_from_a_flexvol_root(run):
    """The one layout where the in-tree driver copies inside ONTAP too."""
    image_id, image = run.image('glance_root')
    eic = run.create(image_id, image, EIC, POOL_B)
    report = run.driver_report(eic.volume_id)
    assert (report.path, eic.observed) == ('file-copy', 'file-copy')
    intree = run.create(image_id, image, INTREE, INTREE_B)
    assert intree.observed == 'file-copy'
    scenario = 'cold: image at a FlexVol root'
    run.record(scenario, eic, report.path)
    run.record(scenario, intree)
