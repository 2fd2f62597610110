# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The inventory through the real netapp_ontap library."""

import pytest
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import (
    Cluster,
    IpInterface,
    NfsService,
    SvmPeer,
    Volume,
)

from netapp_eic.simulator import Simulator, errors
from netapp_eic.simulator.models.cluster import peer_applications
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


class TestSvmPeers:
    """Intracluster SVM peers: peered at once, one record per side."""

    @staticmethod
    def _create(apps=('file_copy',)):
        peer = SvmPeer(svm={'name': 'vs0'}, peer={'svm': {'name': 'vs1'}},
                       applications=list(apps))
        peer.post(poll_interval=0.05)
        return peer

    def test_none_by_default(self, sim, conn):
        assert list(SvmPeer.get_collection(connection=conn)) == []
        assert sim.backend.cluster.peers == []

    def test_post_lists_both_sides(self, sim, conn):
        peer = self._create()
        cluster = sim.backend.cluster
        vs0, vs1 = cluster.svm('vs0'), cluster.svm('vs1')
        assert peer.uuid == cluster.peers[0].uuids()[0]  # from Location
        sides = {p.svm.name: p for p in SvmPeer.get_collection(
            connection=conn, fields='*')}
        assert set(sides) == {'vs0', 'vs1'}
        assert sides['vs0'].uuid == peer.uuid != sides['vs1'].uuid
        for local, other in ((vs0, vs1), (vs1, vs0)):
            side = sides[local.name]
            assert (side.name, side.peer.svm.name, side.peer.svm.uuid) == (
                other.name, other.name, other.uuid)
            assert side.svm.uuid == local.uuid
            assert (side.peer.cluster.name, side.peer.cluster.uuid) == (
                'cluster1', cluster.uuid)
            assert (side.state, side.applications) == ('peered',
                                                       ['file_copy'])

    def test_get_one_side_and_filter(self, sim, conn):
        self._create(['snapmirror', 'file_copy'])
        vs1_side = sim.backend.cluster.peers[0].uuids()[1]
        one = SvmPeer(uuid=vs1_side)
        one.get()
        assert (one.svm.name, one.peer.svm.name) == ('vs1', 'vs0')
        assert one.applications == ['snapmirror', 'file_copy']
        found = list(SvmPeer.get_collection(
            connection=conn, **{'svm.name': 'vs1', 'name': 'vs0'}))
        assert [p.uuid for p in found] == [vs1_side]
        assert SvmPeer.count_collection(
            connection=conn, applications='file_copy') == 2
        assert SvmPeer.count_collection(
            connection=conn, applications='flexcache') == 0

    def test_patch_either_side_changes_the_relationship(self, sim, conn):
        self._create()
        vs1_side = sim.backend.cluster.peers[0].uuids()[1]
        peer = SvmPeer(uuid=vs1_side)
        peer.get()
        peer.applications = ['snapmirror', 'lun_copy']
        peer.patch(poll_interval=0.05)
        assert {tuple(p.applications) for p in SvmPeer.get_collection(
            connection=conn, fields='applications')} == {
                ('snapmirror', 'lun_copy')}

    def test_delete_either_side_removes_both(self, sim, conn):
        self._create()
        vs1_side = sim.backend.cluster.peers[0].uuids()[1]
        SvmPeer(uuid=vs1_side).delete(poll_interval=0.05)
        assert list(SvmPeer.get_collection(connection=conn)) == []
        with pytest.raises(NetAppRestError) as ctx:
            SvmPeer(uuid=vs1_side).get()
        assert ctx.value.status_code == 404

    def test_duplicate_in_either_direction_is_409(self, sim, conn):
        self._create()
        reverse = SvmPeer(svm={'name': 'vs1'}, peer={'svm': {'name': 'vs0'}},
                          applications=['snapmirror'])
        with pytest.raises(NetAppRestError) as ctx:
            reverse.post()
        assert ctx.value.status_code == 409
        assert ctx.value.response_body['error']['code'] == '26345580'
        assert len(sim.backend.cluster.peers) == 1

    def test_peering_lookup_and_allows(self, sim, conn):
        cluster = sim.backend.cluster
        vs0, vs1 = cluster.svm('vs0'), cluster.svm('vs1')
        assert cluster.peering(vs0, vs1) is None
        self._create(['snapmirror'])
        relationship = cluster.peering(vs1, vs0)
        assert relationship is cluster.peering(vs0, vs1) is not None
        assert relationship.allows('snapmirror')
        assert not relationship.allows('file_copy')
        assert cluster.svm_peer(relationship.uuids()[1]) is relationship
        with pytest.raises(errors.NotFound):
            cluster.svm_peer('nope')

    def test_topology_peers_and_reset(self, tmp_path):
        topology = {'svms': [
            {'name': 'a', 'lifs': ['127.0.0.3'], 'volumes': ['va']},
            {'name': 'b', 'lifs': ['127.0.0.4'], 'volumes': ['vb']},
            {'name': 'c', 'lifs': ['127.0.0.5'], 'volumes': ['vc']}],
            'svm_peers': [{'svm': 'a', 'peer': 'b',
                           'applications': ['file_copy']}]}
        with Simulator(topology=topology, data_root=str(tmp_path),
                       tls=False, seed=3) as sim:
            cluster = sim.backend.cluster
            (relationship,) = cluster.peers
            uuids = relationship.uuids()
            assert relationship.joins(cluster.svm('b'), cluster.svm('a'))
            cluster.set_peer_applications(relationship, ['snapmirror'])
            cluster.create_peer(cluster.svm('a'), cluster.svm('c'),
                                ['flexcache'])
            sim.reset()
            assert [p.uuids() for p in cluster.peers] == [uuids]
            assert relationship.applications == ['file_copy']


@pytest.mark.parametrize('value,field', [
    (None, 'applications'), ([], 'applications'),
    (['file_copy', 'bogus'], 'applications[1]'),
    (['file-copy'], 'applications[0]'),
])
def test_peer_applications_are_checked(value, field):
    with pytest.raises(errors.InvalidValue) as ctx:
        peer_applications(value)
    assert ctx.value.target == field
    assert ctx.value.code == '262197'


def test_peer_applications_drop_duplicates():
    assert peer_applications(['file_copy', 'snapmirror', 'file_copy']) == [
        'file_copy', 'snapmirror']
