# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cluster, SVMs, LIFs and FlexVols: where a share or an image lives.

The FlexVol lists and LIF owners are cached, since they change rarely, but
not forever: an entry older than ``lookup_ttl`` seconds is read again, a
miss refreshes the list once (a FlexVol added, recreated with a new UUID or
remounted), and :meth:`ClusterCalls.invalidate` forgets everything (the
core calls it when an ONTAP call fails).
"""

import threading
import time
import typing

from netapp_ontap import host_connection

from netapp_eic import exception
from netapp_eic.i18n import _
from netapp_eic.ontap import calls

#: Seconds a FlexVol list or a LIF owner is reused before ONTAP is asked
#: again: long enough to spare a lookup per create, short enough that a
#: recreated FlexVol or a moved LIF is seen within a minute.
LOOKUP_TTL = 60.0

class ClusterCalls:
    """The cluster-level calls of :class:`~netapp_eic.ontap.OntapClient`."""

    connection: host_connection.HostConnection
    lookup_ttl: float
    _flexvols: dict[str, tuple[float, list[calls.FlexVol]]]
    _svm_by_ip: dict[str, tuple[float, str]]
    _lock: threading.Lock

    def _fresh(self, stamp: float) -> bool:
        return time.monotonic() - stamp < self.lookup_ttl

    def cluster_version(self) -> tuple[int, int, int]:
        """ONTAP version as ``(generation, major, minor)``."""
        cluster = calls.resources.Cluster()
        cluster.set_connection(self.connection)
        with calls.api('GET /cluster'):
            cluster.get(fields='version')
        version = cluster.version
        return (int(version.generation), int(version.major),
                int(version.minor))

    def svm_for_ip(self, ip: str) -> str | None:
        """Name of the SVM owning the data LIF with address ``ip``; a found
        owner is cached for ``lookup_ttl`` seconds (a LIF can move)."""
        with self._lock:
            cached = self._svm_by_ip.get(ip)
        if cached is not None and self._fresh(cached[0]):
            return cached[1]
        svm = self._lookup_svm(ip)
        with self._lock:
            if svm is None:
                self._svm_by_ip.pop(ip, None)
            else:
                self._svm_by_ip[ip] = (time.monotonic(), svm)
        return svm

    def _lookup_svm(self, ip: str) -> str | None:
        with calls.api('GET /network/ip/interfaces'):
            lifs = list(calls.resources.IpInterface.get_collection(
                connection=self.connection, fields='svm.name,ip.address',
                **{'ip.address': ip}))
        for lif in lifs:
            svm = getattr(lif, 'svm', None)
            name = getattr(svm, 'name', None) if svm is not None else None
            if name:
                return str(name)
        return None

    def flexvols(self, svm: str) -> list[calls.FlexVol]:
        """The FlexVols of ``svm``, cached for ``lookup_ttl`` seconds."""
        with self._lock:
            cached = self._flexvols.get(svm)
        if cached is not None and self._fresh(cached[0]):
            return list(cached[1])
        with calls.api('GET /storage/volumes'):
            records = list(calls.resources.Volume.get_collection(
                connection=self.connection,
                fields='name,uuid,nas.path,svm.name,style',
                **{'svm.name': svm}))
        vols = [_flexvol(rec, svm) for rec in records]
        with self._lock:
            self._flexvols[svm] = (time.monotonic(), vols)
        return list(vols)

    def flexvol_space(self, vol: calls.FlexVol) -> tuple[int, int]:
        """``(usable size, available bytes)`` of a FlexVol, now."""
        record = calls.resources.Volume(uuid=vol.uuid)
        record.set_connection(self.connection)
        with calls.api('GET /storage/volumes/{uuid}'):
            record.get(fields='space.afs_total,space.available')
        space = record.space
        return int(space.afs_total), int(space.available)

    def forget_flexvols(self, svm: str) -> None:
        """Read the FlexVols of ``svm`` again at the next lookup (a miss)."""
        with self._lock:
            self._flexvols.pop(svm, None)

    def invalidate(self) -> None:
        """Forget the cached FlexVol lists and LIF owners."""
        with self._lock:
            self._flexvols.clear()
            self._svm_by_ip.clear()

    def resolve(self, ip: str, export_path: str) -> calls.ResolvedPath:
        """Map ``ip:export_path`` to a FlexVol and a path inside it.

        The SVM is the one owning the data LIF ``ip``; the FlexVol is the one
        with the longest junction path that is a prefix of ``export_path`` on
        segment boundaries (``/vol_a`` does not contain ``/vol_ab/x``). The
        cached FlexVol list is refreshed once on a miss.

        :raises LocationRejected: unknown IP, no FlexVol, or the path is a
            junction itself.
        """
        location = f'{ip}:{export_path}'
        svm = self.svm_for_ip(ip)
        if svm is None:
            raise exception.LocationRejected(
                location=location,
                reason=_('no data LIF of this cluster has this IP address'))
        found = self._longest_match(svm, export_path)
        if found is None:
            self.forget_flexvols(svm)
            found = self._longest_match(svm, export_path)
        if found is None:
            raise exception.LocationRejected(
                location=location,
                reason=_('no FlexVol of SVM %s contains this path') % svm)
        vol, inside = found
        if vol.style == 'flexgroup':
            raise exception.LocationRejected(
                location=location,
                reason=_('the path is in FlexGroup %s; only FlexVols are '
                         'supported') % vol.name)
        if not inside:
            raise exception.LocationRejected(
                location=location,
                reason=_('the path is the junction of FlexVol %s, not a '
                         'file') % vol.name)
        return calls.ResolvedPath(flexvol=vol, path=inside)

    def _longest_match(self, svm: str, export_path: str
                       ) -> tuple[calls.FlexVol, str] | None:
        best: tuple[calls.FlexVol, str] | None = None
        best_len = -1
        for vol in self.flexvols(svm):
            if not vol.junction:
                continue
            inside = under_junction(export_path, vol.junction)
            if inside is not None and len(vol.junction) > best_len:
                best, best_len = (vol, inside), len(vol.junction)
        return best

    def vstorage_enabled(self, svm: str) -> bool:
        """Whether the NFS service of ``svm`` has vStorage enabled."""
        with calls.api('GET /protocols/nfs/services'):
            services = list(calls.resources.NfsService.get_collection(
                connection=self.connection,
                fields='vstorage_enabled,svm.name', **{'svm.name': svm}))
        return any(bool(getattr(s, 'vstorage_enabled', False))
                   for s in services)

    def svm_peer(self, svm: str, peer: str) -> calls.SvmPeer | None:
        """The peer relationship of ``svm`` with ``peer`` as ``svm`` sees
        it, or None when there is none (read each time: an operator may
        create one at any moment)."""
        with calls.api('GET /svm/peers'):
            found = list(calls.resources.SvmPeer.get_collection(
                connection=self.connection,
                fields='uuid,state,applications,svm.name,peer.svm.name',
                **{'svm.name': svm, 'peer.svm.name': peer}))
        if not found:
            return None
        record = found[0]
        return calls.SvmPeer(
            str(record.uuid), svm, peer, str(record.state),
            tuple(str(a) for a in getattr(record, 'applications', ())))

    def allow_file_copy(self, svm: str, peer: str) -> str:
        """Make File Copy possible between ``svm`` and ``peer`` (an
        intracluster SVM peer relationship with the ``file_copy``
        application), as Cinder's in-tree driver does before it copies a
        volume to another SVM; returns what was done."""
        current = self.svm_peer(svm, peer)
        if current is not None and current.allows_file_copy:
            return 'SVM peer %s-%s already allows file_copy' % (svm, peer)
        if current is not None and current.state != 'peered':
            raise exception.EicError(reason=_(
                'SVM peer %(svm)s-%(peer)s is %(state)s, not peered') % {
                    'svm': svm, 'peer': peer, 'state': current.state})
        if current is None:
            record = calls.resources.SvmPeer(
                svm={'name': svm}, peer={'svm': {'name': peer}},
                applications=[calls.FILE_COPY_APPLICATION])
            record.set_connection(self.connection)
            with calls.api('POST /svm/peers'):
                record.post(hydrate=False)
            return 'created SVM peer %s-%s for file_copy' % (svm, peer)
        record = calls.resources.SvmPeer(uuid=current.uuid)
        record.set_connection(self.connection)
        record.applications = sorted(set(current.applications) |
                                     {calls.FILE_COPY_APPLICATION})
        with calls.api('PATCH /svm/peers'):
            record.patch()
        return 'added file_copy to SVM peer %s-%s' % (svm, peer)


def _flexvol(record: typing.Any, svm: str) -> calls.FlexVol:
    """A FlexVol from a ``Volume`` record."""
    nas = getattr(record, 'nas', None)
    junction = getattr(nas, 'path', None) if nas is not None else None
    return calls.FlexVol(
        name=str(record.name), uuid=str(record.uuid), svm=svm,
        junction=str(junction) if junction else None,
        style=str(getattr(record, 'style', None) or 'flexvol'))




def under_junction(export_path: str, junction: str) -> str | None:
    """Path of ``export_path`` inside a FlexVol mounted at ``junction``.

    Matches on segment boundaries only; returns ``''`` when the path is the
    junction itself and None when it is not below it.
    """
    if junction == '/':
        return export_path.lstrip('/')
    base = junction.rstrip('/')
    if export_path == base:
        return ''
    if export_path.startswith(base + '/'):
        return export_path[len(base) + 1:]
    return None
