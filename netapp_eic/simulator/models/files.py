# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File records and file operations on a FlexVol's directory.

What an NFS client writes into the directory is what the files API
reports; a REST delete or rename acts on the same files. Hidden temporary
files of an ongoing clone are never listed.
"""

import os
import posixpath
import shutil
import stat
from typing import Any

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import paths
from netapp_eic.simulator.models.cluster import Cluster, Volume
from netapp_eic.simulator.models.jobs import iso_time
from netapp_eic.simulator.models.qos import Qos

TEMP_MARK = '.sim-clone-'
Record = dict[str, Any]


class Files:
    """File operations of every FlexVol of ``cluster``."""

    def __init__(self, cluster: Cluster, qos: Qos) -> None:
        self.cluster = cluster
        self.qos = qos

    def resolve(self, vol: Volume, path: object,
                allow_root: bool = False) -> tuple[str, str]:
        """``(relative, absolute)`` path inside ``vol``; see
        :func:`paths.resolve`."""
        return paths.resolve(self.cluster.volumes, vol, path, allow_root)

    def record(self, vol: Volume, rel: str, target: str) -> Record:
        """The files API record of one file or directory."""
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise errors.FileNotFound(
                f'No such file or directory: "{rel}" in volume {vol.name}.',
                target='path') from None
        ftype = ('directory' if stat.S_ISDIR(st.st_mode) else
                 'symlink' if stat.S_ISLNK(st.st_mode) else 'file')
        rec = {'volume': vol.ref(), 'path': rel or '.',
               'name': os.path.basename(rel) or '.', 'type': ftype,
               'size': st.st_size, 'bytes_used': st.st_blocks * 512,
               'accessed_time': iso_time(st.st_atime),
               'modified_time': iso_time(st.st_mtime),
               'changed_time': iso_time(st.st_ctime),
               'creation_time': iso_time(st.st_ctime),
               'unix_permissions': int(oct(st.st_mode & 0o7777)[2:]),
               'owner_id': st.st_uid, 'group_id': st.st_gid,
               'inode_number': st.st_ino, 'hard_links_count': st.st_nlink}
        policy = self.qos.policy_of((vol.uuid, rel))
        if policy:
            rec['qos_policy'] = {'name': policy}
        return rec

    def list_dir(self, vol: Volume, rel: str, target: str) -> list[Record]:
        """Records of a directory's entries (hidden temp files skipped)."""
        if not os.path.isdir(target):
            return [self.record(vol, rel, target)]
        out = []
        for name in sorted(os.listdir(target)):
            if TEMP_MARK in name:
                continue
            child = posixpath.join(rel, name) if rel else name
            try:
                out.append(self.record(vol, child,
                                       os.path.join(target, name)))
            except errors.FileNotFound:
                continue
        return out

    def delete(self, vol: Volume, rel: str, target: str,
               recurse: bool = False) -> None:
        self.record(vol, rel, target)
        if os.path.isdir(target) and not os.path.islink(target):
            if os.listdir(target) and not recurse:
                raise errors.BadRequest(
                    f'Directory "{rel}" is not empty; use recurse=true.',
                    target='path')
            shutil.rmtree(target)
        else:
            os.unlink(target)
        self.qos.forget((vol.uuid, rel))

    def rename(self, vol: Volume, rel: str, target: str,
               new_path: str) -> None:
        self.record(vol, rel, target)
        new_rel, new_target = self.resolve(vol, new_path)
        if not os.path.isdir(os.path.dirname(new_target)):
            raise errors.FileNotFound(
                f'Directory of "{new_rel}" does not exist.', target='path')
        os.replace(target, new_target)
        self.qos.move((vol.uuid, rel), (vol.uuid, new_rel))

    def set_qos(self, vol: Volume, rel: str, target: str,
                policy: str) -> None:
        self.record(vol, rel, target)
        self.qos.assign((vol.uuid, rel), policy)

    def create(self, vol: Volume, rel: str, target: str,
               kind: str = 'file') -> None:
        """Create an empty file or a directory (never over an entry)."""
        if os.path.lexists(target):
            raise errors.DestinationExists(f'"{rel}" already exists.',
                                           target='path')
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Directory of "{rel}" does not exist.', target='path')
        if kind == 'directory':
            os.mkdir(target)
        else:
            open(target, 'xb').close()
