# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File records and file operations on a FlexVol's directory.

What an NFS client writes into the directory is what the files API
reports; a REST delete or rename acts on the same files. Hidden temporary
files of an ongoing clone are never listed. Links are reported as
``type: symlink`` with their ``target`` text and never followed.
"""

import os
import posixpath
import shutil
import stat
from typing import Any
from urllib.parse import quote

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import paths
from netapp_eic.simulator.models.cluster import Cluster, Volume
from netapp_eic.simulator.models.jobs import iso_time
from netapp_eic.simulator.models.qos import Qos

TEMP_MARK = '.sim-clone-'
Record = dict[str, Any]


def file_href(vol: Volume, rel: str) -> str:
    """URL of a path in the files API (``/`` as ``%2F``, ``.`` as
    ``%2E``, as ONTAP's documentation writes them)."""
    encoded = quote(rel, safe='').replace('.', '%2E')
    return f'/api/storage/volumes/{vol.uuid}/files/{encoded}'


def _type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return 'directory'
    return 'symlink' if stat.S_ISLNK(mode) else 'file'


class Files:
    """File operations of every FlexVol of ``cluster``."""

    def __init__(self, cluster: Cluster, qos: Qos) -> None:
        self.cluster = cluster
        self.qos = qos

    def resolve(self, vol: Volume, path: object, allow_root: bool = False,
                write: bool = False,
                field: str = 'path') -> tuple[str, str]:
        """``(relative, absolute)`` path inside ``vol``; see
        :func:`paths.resolve`."""
        return paths.resolve(self.cluster.volumes, vol, path, allow_root,
                             write, field)

    def _lstat(self, vol: Volume, rel: str, target: str) -> os.stat_result:
        try:
            return os.lstat(target)
        except FileNotFoundError:
            raise errors.FileNotFound(
                f'No such file or directory: "{rel}" in volume {vol.name}.',
                target='path') from None

    def record(self, vol: Volume, rel: str, target: str) -> Record:
        """The metadata record of one file, directory or link."""
        st = self._lstat(vol, rel, target)
        rec: Record = {
            'volume': vol.ref(), 'path': rel or '.', 'name': '',
            'type': _type(st.st_mode), 'size': st.st_size,
            'bytes_used': st.st_blocks * 512,
            'accessed_time': iso_time(st.st_atime),
            'modified_time': iso_time(st.st_mtime),
            'changed_time': iso_time(st.st_ctime),
            'creation_time': iso_time(st.st_ctime),
            'unix_permissions': int(oct(st.st_mode & 0o7777)[2:]),
            'owner_id': st.st_uid, 'group_id': st.st_gid,
            'inode_number': st.st_ino, 'hard_links_count': st.st_nlink,
            'is_junction': False, 'is_vm_aligned': False,
            '_links': {'self': {'href': file_href(vol, rel or '.')}}}
        if stat.S_ISLNK(st.st_mode):
            rec['target'] = os.readlink(target)
        if stat.S_ISDIR(st.st_mode):
            rec['is_empty'] = not self._names(target)
        policy = self.qos.policy_of((vol.uuid, rel))
        if policy:
            rec['qos_policy'] = {'name': policy}
        return rec

    @staticmethod
    def _names(target: str) -> list[str]:
        return sorted(n for n in os.listdir(target) if TEMP_MARK not in n)

    def _entry(self, vol: Volume, directory: str, name: str,
               target: str) -> Record:
        """One listing record: ``path`` is the directory, ``name`` the
        entry; a directory links to itself and every entry to its
        metadata, as in ONTAP's documented examples."""
        rel = posixpath.join(directory, name) if directory else name
        rec = self.record(vol, rel, target)
        href = file_href(vol, rel)
        links: Record = {'metadata': {'href': href + '?return_metadata=true'}}
        if rec['type'] == 'directory':
            links['self'] = {'href': href}
        rec.update(path=directory or '.', name=name, _links=links)
        return rec

    def listing(self, vol: Volume, rel: str, target: str) -> list[Record]:
        """A directory's entries with ``.`` and ``..``; a file or link
        lists itself."""
        mode = self._lstat(vol, rel, target).st_mode
        if not stat.S_ISDIR(mode):
            parent, name = posixpath.split(rel)
            return [self._entry(vol, parent, name, target)]
        up = os.path.dirname(target) if rel else target
        out = [self._entry(vol, rel, '.', target),
               self._entry(vol, rel, '..', up)]
        for name in self._names(target):
            try:
                out.append(self._entry(vol, rel, name,
                                       os.path.join(target, name)))
            except errors.FileNotFound:
                continue  # removed while listing
        return out

    def delete(self, vol: Volume, rel: str, target: str,
               recurse: bool = False) -> None:
        mode = self._lstat(vol, rel, target).st_mode
        if stat.S_ISDIR(mode):
            if self._names(target) and not recurse:
                raise errors.BadRequest(
                    f'Directory "{rel}" is not empty; use recurse=true.',
                    target='path')
            shutil.rmtree(target)
        else:
            os.unlink(target)
        self.qos.forget((vol.uuid, rel))

    def rename(self, vol: Volume, rel: str, target: str,
               new_path: str) -> None:
        self._lstat(vol, rel, target)
        new_rel, new_target = self.resolve(vol, new_path, write=True)
        if not os.path.isdir(os.path.dirname(new_target)):
            raise errors.FileNotFound(
                f'Directory of "{new_rel}" does not exist.', target='path')
        os.replace(target, new_target)
        self.qos.move((vol.uuid, rel), (vol.uuid, new_rel))

    def set_qos(self, vol: Volume, rel: str, target: str,
                policy: str) -> None:
        self._lstat(vol, rel, target)
        self.qos.assign((vol.uuid, rel), policy)

    def create(self, vol: Volume, rel: str, target: str, kind: str = 'file',
               link_target: str | None = None,
               permissions: int | None = None) -> None:
        """Create an empty file, a directory or a symlink (never over an
        entry). A link's target is stored as given, never resolved."""
        if os.path.lexists(target):
            raise errors.DestinationExists(f'"{rel}" already exists.',
                                           target='path')
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Directory of "{rel}" does not exist.', target='path')
        if link_target is not None:
            os.symlink(link_target, target)
        elif kind == 'directory':
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                             os.O_NOFOLLOW, 0o644))
        if permissions is not None and link_target is None:
            os.chmod(target, permissions)
