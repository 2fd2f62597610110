# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Helpers shared by the simulator tests."""

import os

MIB = 1024 * 1024


def vol_dir(sim, name):
    return sim.backend.volume_by_name(name).path


def vol_uuid(sim, name):
    return sim.backend.volume_by_name(name).uuid


def write_file(sim, vol, name, size=MIB, sparse_gap=0, data=None):
    """Write ``size`` random bytes (or ``data``) into a FlexVol file.

    With ``sparse_gap`` the data is preceded and followed by holes of that
    many bytes.
    """
    path = os.path.join(vol_dir(sim, vol), name)
    payload = data if data is not None else os.urandom(size)
    with open(path, 'wb') as f:
        f.seek(sparse_gap)
        f.write(payload)
        f.truncate(sparse_gap * 2 + len(payload))
    return path


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def xfs_available():
    """Why an XFS loop cannot be made here, or None when it can."""
    import shutil
    if os.geteuid() != 0:
        return 'needs root to mount an XFS loop file'
    for tool in ('mkfs.xfs', 'losetup', 'mount', 'umount'):
        if shutil.which(tool) is None:
            return f'{tool} is not installed'
    return None


class XfsLoop:
    """An XFS (reflink=1) filesystem in a loop file, mounted at ``mnt``."""

    def __init__(self, directory, size=512 * MIB):
        self.image = os.path.join(directory, 'xfs.img')
        self.mnt = os.path.join(directory, 'xfs')
        self.size = size
        self.device = None
        self.mounted = False

    def _run(self, *cmd):
        import subprocess
        return subprocess.run(cmd, check=True, capture_output=True,
                              text=True).stdout.strip()

    def __enter__(self):
        try:
            with open(self.image, 'wb') as f:
                f.truncate(self.size)
            self._run('mkfs.xfs', '-q', '-m', 'reflink=1', self.image)
            self.device = self._run('losetup', '--find', '--show',
                                    self.image)
            os.makedirs(self.mnt, exist_ok=True)
            self._run('mount', self.device, self.mnt)
            self.mounted = True
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        import subprocess
        if self.mounted:
            subprocess.run(['umount', self.mnt], check=False)
            self.mounted = False
        if self.device:
            subprocess.run(['losetup', '-d', self.device], check=False)
            self.device = None
        if os.path.exists(self.image):
            os.unlink(self.image)
