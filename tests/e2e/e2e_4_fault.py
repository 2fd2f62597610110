# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A File Copy that ONTAP refuses ends in a correct volume by download."""

import pytest

from tests.e2e import storage
from tests.e2e.scenario import EIC, FILE_COPY

POOL_B = storage.EIC_POOLS[1]
SMALL_MIB = 64


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


def test_file_copy_failure_falls_back_to_download(run):
    image_id, image = run.image('glance', size_mib=SMALL_MIB)
    before = len(run.stack.storage.requests())
    run.stack.storage.control('POST', 'faults', {
        'method': 'POST', 'path': FILE_COPY, 'status': 500})
    try:
        created = run.create(image_id, image, EIC, POOL_B)
    finally:
        run.stack.storage.control('DELETE', 'faults')

    report = run.driver_report(created.volume_id)
    assert report.path == 'download'
    assert 'file-copy failed' in report.details, report.details
    refused = run.file_copies_since(before)
    assert refused and {r['status'] for r in refused} == {500}, refused
    assert created.observed == 'download'
    assert run.strays(POOL_B) == []
