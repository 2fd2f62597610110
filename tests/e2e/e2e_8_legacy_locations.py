# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The other way of reaching image locations: Glance's
``show_multiple_locations`` and ``show_image_direct_url``, with the
locations API left at its default (service-only) policy.

Runs last (modules run in name order) so that Glance restarts once.
"""

import pytest

from tests.e2e import storage
from tests.e2e.scenario import EIC

POOL_A, POOL_B = storage.EIC_POOLS
SMALL_MIB = 64


@pytest.fixture(autouse=True)
def _legacy_locations(glance_mode):
    glance_mode('legacy')


def _assert_legacy_locations(run, image_id, flexvol):
    shown = run.api.image(image_id)
    shares = [loc['metadata'].get('share_location')
              for loc in shown['locations']]
    assert shares == ['nfs://%s/%s' % (storage.LIF, flexvol)], shown
    # Cinder asked the locations API first and was refused.
    statuses = run.stack.glance.location_requests(image_id)
    assert statuses and set(statuses) == {403}, statuses


def test_file_copy_with_legacy_locations(run):
    image_id, image = run.image('glance', size_mib=SMALL_MIB)
    created = run.create(image_id, image, EIC, POOL_B)
    assert run.driver_report(created.volume_id).path == 'file-copy'
    assert created.observed == 'file-copy'
    _assert_legacy_locations(run, image_id, storage.GLANCE_FLEXVOL)


def test_direct_clone_with_legacy_locations(run):
    image_id, image = run.image('pool_eic', size_mib=SMALL_MIB)
    created = run.create(image_id, image, EIC, POOL_A)
    assert run.driver_report(created.volume_id).path == 'direct-clone'
    assert created.observed == 'clone'
    _assert_legacy_locations(run, image_id, POOL_A)
