# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.ontap.cluster against the simulator."""

import pytest

from netapp_eic import exception
from netapp_eic.ontap import cluster
from tests.unit.ontap.helpers import flexvol


def test_cluster_version(client):
    assert client.cluster_version() == (9, 14, 1)


def test_svm_for_ip(client):
    assert client.svm_for_ip('127.0.0.1') == 'vs0'
    assert client.svm_for_ip('127.0.0.2') == 'vs1'
    assert client.svm_for_ip('127.0.0.9') is None


def test_flexvols_cached_until_invalidate(client, sim):
    names = {v.name for v in client.flexvols('vs0')}
    assert {'vol_cinder_a', 'vol_glance', 'vol_nested'} <= names
    glance = flexvol(client, 'vol_glance')
    assert glance.junction == '/vol_glance' and glance.svm == 'vs0'
    before = len(sim.request_log())
    client.flexvols('vs0')
    assert len(sim.request_log()) == before
    client.invalidate()
    client.flexvols('vs0')
    assert len(sim.request_log()) == before + 1


@pytest.mark.parametrize('ip,export,vol,path', [
    ('127.0.0.1', '/vol_glance/images/abc', 'vol_glance', 'images/abc'),
    ('127.0.0.1', '/vol_glance/nested/img', 'vol_nested', 'img'),
    ('127.0.0.1', '/vol_glance/nestedx/img', 'vol_glance', 'nestedx/img'),
    ('127.0.0.1', '/vol_ab/x', 'vol_ab', 'x'),
    ('127.0.0.1', '/vol_a/x', 'vol_a', 'x'),
    ('127.0.0.2', '/vol_vs1/d/e', 'vol_vs1', 'd/e'),
])
def test_resolve(client, ip, export, vol, path):
    resolved = client.resolve(ip, export)
    assert (resolved.flexvol.name, resolved.path) == (vol, path)


@pytest.mark.parametrize('ip,export,reason', [
    ('127.0.0.9', '/vol_glance/x', 'no data LIF'),
    ('127.0.0.1', '/vol_vs1/x', 'no FlexVol'),
    ('127.0.0.1', '/nowhere/x', 'no FlexVol'),
    ('127.0.0.1', '/vol_glance', 'junction'),
    ('127.0.0.1', '/vol_glance/nested', 'junction'),
])
def test_resolve_rejects(client, ip, export, reason):
    with pytest.raises(exception.LocationRejected, match=reason):
        client.resolve(ip, export)


def test_vstorage_enabled(client):
    assert client.vstorage_enabled('vs0') is True
    assert client.vstorage_enabled('vs1') is False


# -- errors, TLS, configuration -----------------------------------------------

@pytest.mark.parametrize('export,junction,inside', [
    ('/vol_a/x', '/vol_a', 'x'),
    ('/vol_ab/x', '/vol_a', None),
    ('/vol_a', '/vol_a', ''),
    ('/vol_a/x', '/vol_a/', 'x'),
    ('/anything/x', '/', 'anything/x'),
])
def test_under_junction(export, junction, inside):
    assert cluster.under_junction(export, junction) == inside


# -- lookups expire -----------------------------------------------------------

def test_moved_lif_is_picked_up_after_the_ttl(client, sim):
    assert client.svm_for_ip('127.0.0.2') == 'vs1'
    # The simulator has no API to migrate a LIF: its model is changed in
    # place, which is what ONTAP then reports.
    vs0, vs1 = sim.backend.svms[:2]
    lif = vs1.lifs.pop()
    vs0.lifs.append(lif)
    assert client.svm_for_ip('127.0.0.2') == 'vs1'  # cached
    client.lookup_ttl = 0.0
    assert client.svm_for_ip('127.0.0.2') == 'vs0'


def test_recreated_flexvol_is_picked_up_after_the_ttl(client, sim):
    old = flexvol(client, 'vol_cinder_a').uuid
    [vol] = [v for v in sim.backend.volumes if v.name == 'vol_cinder_a']
    vol.uuid = sim.backend.new_uuid()
    assert flexvol(client, 'vol_cinder_a').uuid == old  # cached
    client.lookup_ttl = 0.0
    assert flexvol(client, 'vol_cinder_a').uuid == vol.uuid


def test_unknown_flexvol_uuid_is_not_a_missing_file(client, sim):
    glance = flexvol(client, 'vol_glance')
    [vol] = [v for v in sim.backend.volumes if v.name == 'vol_glance']
    vol.uuid = sim.backend.new_uuid()
    with pytest.raises(exception.OntapApiError) as err:
        client.file_info(glance, 'images/anything')
    assert err.value.status == 404
