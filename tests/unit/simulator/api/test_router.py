# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The URL table: matching, decoding, "not implemented" answers."""

import pytest

from netapp_eic.simulator import errors
from netapp_eic.simulator.api import ROUTER
from netapp_eic.simulator.api.router import Response, Router


def test_path_parameters_are_decoded_except_file_paths():
    _, args = ROUTER.match('GET', '/api/storage/disks/1.0%2E0')
    assert args == {'name': '1.0.0'}
    _, args = ROUTER.match('GET', '/api/storage/volumes/u/files/a%2Fb')
    assert args == {'uuid': 'u', 'path': 'a%2Fb'}


def test_unknown_method_and_path():
    with pytest.raises(errors.MethodNotAllowed):
        ROUTER.match('PUT', '/api/cluster')
    with pytest.raises(errors.NotImplementedApi):
        ROUTER.match('GET', '/api/storage/luns')


def test_first_registered_route_wins():
    router = Router()
    router.register([('/a/{x}', {'GET': lambda req: Response(200, 'one')}),
                     ('/a/b', {'GET': lambda req: Response(200, 'two')})])
    handler, args = router.match('GET', '/a/b')
    assert handler(None).body == 'one' and args == {'x': 'b'}


def test_unknown_endpoint_is_explicit_and_logged(sim, api):
    r = api.get(sim.url + '/api/storage/luns')
    assert r.status_code == 404
    assert r.json()['error']['code'] == '3'
    assert 'not implemented' in r.json()['error']['message']
    log = sim.request_log()
    assert (log[-1]['path'], log[-1]['status']) == ('/api/storage/luns', 404)
