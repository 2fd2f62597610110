# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP error bodies and codes as clients see them."""

import pytest

from netapp_eic.simulator import errors
from tests.unit.simulator.helpers import vol_uuid


def test_body_has_string_code_and_optional_target():
    assert errors.NotFound('gone', target='uuid').body() == {
        'error': {'message': 'gone', 'code': '4', 'target': 'uuid'}}
    assert errors.OntapError('x', status=503, code=99).body() == {
        'error': {'message': 'x', 'code': '99'}}
    assert errors.OntapError('x', status=503).status == 503


@pytest.mark.parametrize('path,code', [
    ('/api/storage/volumes/00000000-0000-4000-8000-000000000000', '4'),
    ('/api/cluster/jobs/00000000-0000-4000-8000-000000000000', '4'),
    ('/api/storage/volumes/{vol}/files/missing', '6684674'),
])
def test_missing_objects_are_404(sim, api, path, code):
    r = api.get(sim.url + path.format(vol=vol_uuid(sim, 'vol_cinder_a')))
    assert r.status_code == 404
    assert r.json()['error']['code'] == code
    assert 'Traceback' not in r.text
