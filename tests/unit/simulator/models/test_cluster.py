# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The inventory through the real netapp_ontap library."""

from netapp_ontap.resources import Cluster, IpInterface, NfsService, Volume

from netapp_eic.simulator import errors
from tests.unit.simulator.helpers import MIB, vol_uuid, write_file


def test_collection_filters_and_fields(sim, conn):
    vols = list(Volume.get_collection(
        connection=conn, fields='nas.path,space', **{'svm.name': 'vs0'}))
    assert sorted(v.name for v in vols) == [
        'vol_cinder_a', 'vol_cinder_b', 'vol_glance']
    assert all(v.nas.path == '/' + v.name for v in vols)
    by_path = list(Volume.get_collection(
        connection=conn, **{'nas.path': '/vol_vs1'}))
    assert [v.name for v in by_path] == ['vol_vs1']


def test_space_reflects_files(sim, conn):
    vol = Volume(uuid=vol_uuid(sim, 'vol_cinder_a'))
    vol.get(fields='space')
    before = vol.space.available
    write_file(sim, 'vol_cinder_a', 'f', 4 * MIB)
    vol.get(fields='space')
    assert before - vol.space.available >= 4 * MIB
    assert vol.space.used >= 4 * MIB
    assert vol.space.afs_total == vol.space.size * 95 // 100


def test_ip_interface(sim, conn):
    lifs = list(IpInterface.get_collection(
        connection=conn, fields='svm,ip,state',
        **{'ip.address': '127.0.0.2'}))
    assert len(lifs) == 1
    assert lifs[0].svm.name == 'vs1'
    assert lifs[0].state == 'up'


def test_nfs_service_vstorage(sim, conn):
    services = {s.svm.name: s.vstorage_enabled for s in
                NfsService.get_collection(
                    connection=conn, fields='vstorage_enabled,svm.name')}
    assert services == {'vs0': True, 'vs1': False}
    one = NfsService(svm={'uuid': sim.backend.svm('vs0').uuid})
    one.get(fields='vstorage_enabled')
    assert one.vstorage_enabled is True


def test_cluster_version(sim, conn):
    cluster = Cluster()
    cluster.get(fields='version')
    assert (cluster.version.generation, cluster.version.major,
            cluster.version.minor) == (9, 14, 1)


def test_lookups(sim):
    cluster = sim.backend.cluster
    vs1 = cluster.svm('vs1')
    assert cluster.svm(vs1.uuid) is vs1
    assert cluster.svm_for_ip('127.0.0.2') is vs1
    assert cluster.svm_for_ip('10.0.0.1') is None
    vol, rel = cluster.volume_for_junction(vs1, '/vol_vs1/a/../b')
    assert (vol.name, rel) == ('vol_vs1', 'b')
    for call in (lambda: cluster.volume_for_junction(vs1, '/vol_glance/x'),
                 lambda: cluster.svm('nope'),
                 lambda: cluster.volume_by_name('vol_glance', 'vs1')):
        try:
            call()
        except errors.NotFound:
            continue
        raise AssertionError('expected NotFound')
