# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cluster's inventory: nodes, aggregates, SVMs, LIFs, FlexVols and
the SVM peer relationships between its SVMs.

Built once from a topology; uuids come from the backend's (optionally
seeded) generator, so a seeded simulator always answers the same ids. Every
FlexVol is a real directory ``<data_root>/<volume name>`` and its space is
computed from the files in it. SVM peers are intracluster only: peered at
once, no accept step (ONTAP's ``vserver peer create`` within a cluster).
"""

import os
import posixpath
import threading
from collections.abc import Callable
from typing import Any

from netapp_eic.simulator import errors, fsops
from netapp_eic.simulator import topology as topo

Record = dict[str, Any]


class Svm:
    """An SVM and its data LIFs (``[{name, ip, uuid}]``)."""

    def __init__(self, spec: Record, new_uuid: Callable[[], str]) -> None:
        self.name: str = spec['name']
        self.uuid = new_uuid()
        self.vstorage_enabled: bool = spec['vstorage_enabled']
        self.lifs: list[Record] = [dict(lif, uuid=new_uuid())
                                   for lif in spec['lifs']]

    def ref(self) -> dict[str, str]:
        return {'name': self.name, 'uuid': self.uuid}


class SvmPeer:
    """An intracluster SVM peer relationship, seen from both sides.

    ONTAP lists it once from each SVM (``svm`` the local side, ``peer.svm``
    the other), each record with its own uuid; a change or a deletion
    through either uuid applies to the relationship.
    """

    def __init__(self, svm: Svm, peer: Svm, applications: list[str],
                 new_uuid: Callable[[], str]) -> None:
        self.sides: tuple[tuple[Svm, Svm, str], ...] = (
            (svm, peer, new_uuid()), (peer, svm, new_uuid()))
        self.applications = list(applications)
        self.state = 'peered'

    def uuids(self) -> tuple[str, ...]:
        return tuple(side[2] for side in self.sides)

    def joins(self, one: Svm, other: Svm) -> bool:
        """Whether this relationship is between ``one`` and ``other``."""
        return {id(one), id(other)} == {id(s[0]) for s in self.sides}

    def allows(self, application: str) -> bool:
        """Peered, with ``application`` among its applications."""
        return self.state == 'peered' and application in self.applications

    def records(self, cluster: dict[str, str]) -> list[Record]:
        """One record per side; ``name`` is the peer SVM's local name."""
        return [{'uuid': uuid, 'name': peer.name, 'svm': svm.ref(),
                 'peer': {'svm': peer.ref(), 'cluster': dict(cluster)},
                 'state': self.state,
                 'applications': list(self.applications)}
                for svm, peer, uuid in self.sides]


def peer_applications(value: object,
                      field: str = 'applications') -> list[str]:
    """A validated, non-empty list of SVM peer applications (duplicates
    dropped); 400 ``262197`` otherwise."""
    choices = '<{}>'.format('|'.join(topo.PEER_APPLICATIONS))
    if not isinstance(value, list) or not value:
        raise errors.InvalidValue(field, value, choices)
    for i, item in enumerate(value):
        if item not in topo.PEER_APPLICATIONS:
            raise errors.InvalidValue(f'{field}[{i}]', item, choices)
    return list(dict.fromkeys(value))


class Volume:
    """A FlexVol: a directory under the data root, mounted at a junction."""

    def __init__(self, spec: Record, svm: Svm, data_root: str,
                 new_uuid: Callable[[], str]) -> None:
        self.name: str = spec['name']
        self.uuid = new_uuid()
        self.svm = svm
        self.junction: str = spec['junction']
        self.size: int = spec['size']
        self.aggregate: str = spec['aggregate']
        self.reserve_percent: int = spec['snapshot_reserve_percent']
        self.path = os.path.join(data_root, self.name)

    def ref(self) -> dict[str, str]:
        return {'name': self.name, 'uuid': self.uuid}

    def space(self) -> Record:
        """The ``space`` sub-record, computed from the files on disk."""
        used = fsops.allocated_bytes(self.path)
        afs_total = self.size * (100 - self.reserve_percent) // 100
        return {'size': self.size, 'afs_total': afs_total, 'used': used,
                'available': max(0, afs_total - used),
                'snapshot': {'reserve_percent': self.reserve_percent,
                             'used': 0}}


class Cluster:
    """Topology objects, their lookups and their REST records."""

    def __init__(self, spec: Record, data_root: str,
                 new_uuid: Callable[[], str]) -> None:
        self.spec = spec
        self.uuid = new_uuid()
        self.nodes = [dict(n, uuid=new_uuid()) for n in spec['nodes']]
        self.aggregates = [dict(a, uuid=new_uuid())
                           for a in spec['aggregates']]
        self.svms: list[Svm] = []
        self.volumes: list[Volume] = []
        for svm_spec in spec['svms']:
            svm = Svm(svm_spec, new_uuid)
            self.svms.append(svm)
            for vol_spec in svm_spec['volumes']:
                vol = Volume(vol_spec, svm, data_root, new_uuid)
                os.makedirs(vol.path, exist_ok=True)
                self.volumes.append(vol)
        self._new_uuid = new_uuid
        self._peer_lock = threading.Lock()
        self.peers = [SvmPeer(self.svm(p['svm']), self.svm(p['peer']),
                              p['applications'], new_uuid)
                      for p in spec.get('svm_peers') or []]
        self._topology_peers = [(p, list(p.applications))
                                for p in self.peers]

    # -- lookups -----------------------------------------------------------

    def ref(self) -> dict[str, str]:
        """``{name, uuid}`` of the cluster itself."""
        return {'name': self.spec['cluster']['name'], 'uuid': self.uuid}

    def volume(self, volume_uuid: str) -> Volume:
        for vol in self.volumes:
            if vol.uuid == volume_uuid:
                return vol
        raise errors.NotFound(f'Volume "{volume_uuid}" not found.',
                              target='uuid')

    def volume_by_name(self, name: object,
                       svm_name: str | None = None) -> Volume:
        for vol in self.volumes:
            if vol.name == name and svm_name in (None, vol.svm.name):
                return vol
        raise errors.NotFound(f'Volume "{name}" not found.',
                              target='volume.name')

    def svm(self, key: str, target: str = 'svm') -> Svm:
        """An SVM by uuid or name (404 naming ``target`` otherwise)."""
        for svm in self.svms:
            if key in (svm.uuid, svm.name):
                return svm
        raise errors.NotFound(f'SVM "{key}" not found.', target=target)

    def svm_by_name(self, name: str) -> Svm | None:
        for svm in self.svms:
            if svm.name == name:
                return svm
        return None

    def svm_for_ip(self, ip: object) -> Svm | None:
        """The SVM owning data LIF ``ip`` (None when no LIF has it)."""
        for svm in self.svms:
            if any(lif['ip'] == ip for lif in svm.lifs):
                return svm
        return None

    def volume_for_junction(self, svm: Svm, nfs_path: str
                            ) -> tuple[Volume, str]:
        """``(volume, relative path)`` for an NFS path such as ``/vol_a/x``."""
        nfs_path = posixpath.normpath('/' + nfs_path.lstrip('/'))
        best = None
        for vol in self.volumes:
            if vol.svm is not svm:
                continue
            j = vol.junction
            inside = nfs_path == j or nfs_path.startswith(
                j.rstrip('/') + '/')
            if inside and (best is None or len(j) > len(best.junction)):
                best = vol
        if best is None:
            raise errors.FileNotFound(
                f'No volume of SVM {svm.name} is mounted at {nfs_path}.')
        return best, nfs_path[len(best.junction):].lstrip('/')

    def default_vserver(self) -> str:
        return self.svms[0].name

    def shares(self) -> dict[str, str]:
        """``{'IP:/junction': directory}`` for every FlexVol."""
        return {'{}:{}'.format(vol.svm.lifs[0]['ip'], vol.junction): vol.path
                for vol in self.volumes if vol.svm.lifs}

    # -- SVM peers ---------------------------------------------------------

    def peering(self, one: Svm, other: Svm) -> SvmPeer | None:
        """The relationship between two SVMs (either direction), if any."""
        with self._peer_lock:
            for peer in self.peers:
                if peer.joins(one, other):
                    return peer
        return None

    def svm_peer(self, peer_uuid: str) -> SvmPeer:
        """The relationship one of whose records has ``peer_uuid``."""
        with self._peer_lock:
            for peer in self.peers:
                if peer_uuid in peer.uuids():
                    return peer
        raise errors.NotFound(
            f'SVM peer relationship "{peer_uuid}" not found.', target='uuid')

    def create_peer(self, svm: Svm, peer: Svm,
                    applications: list[str]) -> SvmPeer:
        """Peer two SVMs of this cluster (peered at once)."""
        if svm is peer:
            raise errors.PeerToItself(
                f'SVM "{svm.name}" cannot be peered with itself.',
                target='peer.svm.name')
        with self._peer_lock:
            if any(known.joins(svm, peer) for known in self.peers):
                raise errors.PeerExists(
                    f'An SVM peer relationship between "{svm.name}" and '
                    f'"{peer.name}" already exists.', target='peer.svm.name')
            relationship = SvmPeer(svm, peer, applications, self._new_uuid)
            self.peers.append(relationship)
        return relationship

    def set_peer_applications(self, peer: SvmPeer,
                              applications: list[str]) -> None:
        with self._peer_lock:
            peer.applications = list(applications)

    def delete_peer(self, peer: SvmPeer) -> None:
        with self._peer_lock:
            if peer in self.peers:
                self.peers.remove(peer)

    def reset_peers(self) -> None:
        """Back to the topology's relationships, with their uuids."""
        with self._peer_lock:
            self.peers = [p for p, _ in self._topology_peers]
            for peer, applications in self._topology_peers:
                peer.applications = list(applications)
                peer.state = 'peered'

    def _node_ref(self, name: str) -> dict[str, str]:
        for node in self.nodes:
            if node['name'] == name:
                return {'name': name, 'uuid': node['uuid']}
        return {'name': name}

    def _aggr_ref(self, vol: Volume) -> dict[str, str]:
        for aggr in self.aggregates:
            if aggr['name'] == vol.aggregate:
                return {'name': aggr['name'], 'uuid': aggr['uuid']}
        return {'name': vol.aggregate}

    # -- records -----------------------------------------------------------

    def cluster_record(self) -> Record:
        version = self.spec['cluster']['version']
        gen, major, minor = topo.parse_version(version)
        return {**self.ref(),
                'version': {'full': f'NetApp Release {version}: simulated',
                            'generation': gen, 'major': major,
                            'minor': minor}}

    def node_records(self) -> list[Record]:
        return [{'uuid': n['uuid'], 'name': n['name'], 'model': n['model'],
                 'is_all_flash_optimized': n['all_flash'],
                 'is_all_flash_select_optimized': False,
                 'state': 'up', 'serial_number': 'SIM{}'.format(n['uuid'][:8])}
                for n in self.nodes]

    def svm_records(self) -> list[Record]:
        return [{'uuid': s.uuid, 'name': s.name, 'state': 'running',
                 'subtype': 'default', 'nfs': {'enabled': True},
                 'ip_interfaces': [{'name': lif['name'], 'uuid': lif['uuid'],
                                    'ip': {'address': lif['ip']}}
                                   for lif in s.lifs]}
                for s in self.svms]

    def lif_records(self) -> list[Record]:
        return [{'uuid': lif['uuid'], 'name': lif['name'],
                 'ip': {'address': lif['ip'], 'netmask': '24',
                        'family': 'ipv4'},
                 'state': 'up', 'enabled': True, 'scope': 'svm',
                 'services': ['data_core', 'data_nfs'],
                 'svm': s.ref(),
                 'location': {'home_node': self._node_ref(
                     self.nodes[0]['name'])}}
                for s in self.svms for lif in s.lifs]

    def aggregate_records(self) -> list[Record]:
        return [self._aggregate_record(aggr) for aggr in self.aggregates]

    def _aggregate_record(self, aggr: Record) -> Record:
        used = sum(fsops.allocated_bytes(v.path) for v in self.volumes
                   if v.aggregate == aggr['name'])
        used = min(used, aggr['size'])
        return {
            'uuid': aggr['uuid'], 'name': aggr['name'], 'state': 'online',
            'home_node': self._node_ref(aggr['node']),
            'node': self._node_ref(aggr['node']),
            'block_storage': {
                'primary': {'raid_type': aggr['raid_type'],
                            'disk_type': aggr['disk_type'].lower()},
                'storage_type': aggr['storage_type']},
            'space': {'block_storage': {
                'size': aggr['size'], 'used': used,
                'available': aggr['size'] - used}}}

    def disk_records(self) -> list[Record]:
        return [{'name': f'1.0.{i}', 'effective_type': aggr['disk_type'],
                 'type': aggr['disk_type'].lower(),
                 'aggregates': [{'name': aggr['name'], 'uuid': aggr['uuid']}],
                 'node': self._node_ref(aggr['node'])}
                for i, aggr in enumerate(self.aggregates)]

    def volume_record(self, vol: Volume) -> Record:
        return {
            'uuid': vol.uuid, 'name': vol.name, 'style': 'flexvol',
            'type': 'rw', 'state': 'online', 'is_svm_root': False,
            'error_state': {'is_inconsistent': False},
            'svm': vol.svm.ref(), 'aggregates': [self._aggr_ref(vol)],
            'nas': {'path': vol.junction, 'security_style': 'unix'},
            'guarantee': {'type': 'none', 'honored': True},
            'space': vol.space(), 'snapshot_policy': {'name': 'none'},
            'language': 'c.utf_8', 'qos': {},
            'efficiency': {'state': 'disabled', 'compression': 'none',
                           'volume_path': f'/vol/{vol.name}'},
            'encryption': {'enabled': False},
            'snapshot_directory_access_enabled': True}

    def volume_records(self) -> list[Record]:
        return [self.volume_record(v) for v in self.volumes]

    def peer_records(self) -> list[Record]:
        """Both sides of every SVM peer relationship."""
        with self._peer_lock:
            peers = list(self.peers)
        return [rec for p in peers for rec in p.records(self.ref())]

    def nfs_records(self) -> list[Record]:
        return [{'svm': s.ref(), 'enabled': True, 'state': 'online',
                 'vstorage_enabled': s.vstorage_enabled,
                 'protocol': {'v3_enabled': True, 'v40_enabled': True,
                              'v41_enabled': True}}
                for s in self.svms]

    def efficiency_records(self) -> list[Record]:
        """Rows of the private CLI ``volume efficiency show``."""
        return [{'vserver': v.svm.name, 'volume': v.name,
                 'logical_data_size': fsops.allocated_bytes(v.path),
                 'logical_data_limit': v.size}
                for v in self.volumes]

    def split_status_records(self) -> list[Record]:
        return [{'volume': v.ref(), 'svm': v.svm.ref(), 'unsplit_size': 0,
                 'pending_splits': 0}
                for v in self.volumes]
