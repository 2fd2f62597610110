# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The simulator's data root: an XFS reflink loop file system, or a directory.

As root, with ``mkfs.xfs`` installed, :class:`DataRoot` builds a sparse loop
file, formats it XFS with ``reflink=1``, attaches it with direct I/O (no
double page cache) and mounts it; every FlexVol of the simulator is then a
directory on a file system where FICLONE works, as on ONTAP. Anywhere else
it falls back to a plain directory and says why in ``reason``.

Everything :meth:`DataRoot.start` sets up, :meth:`DataRoot.stop` tears down,
in reverse order, even when an earlier step failed.
"""

import contextlib
import logging
import os
import shutil
import subprocess

from oslo_utils import units

from netapp_eic.simulator import fsops

LOG = logging.getLogger(__name__)

MODE_XFS_REFLINK = 'xfs-reflink'
MODE_PLAIN = 'plain'


def _run(argv):
    """Run ``argv`` (no shell); raise CalledProcessError with its stderr."""
    LOG.debug('running %s', argv)
    return subprocess.run(argv, check=True, capture_output=True, text=True)


def why_not_xfs(want_reflink=True):
    """Return why an XFS loop file cannot be used here, or None if it can."""
    if not want_reflink:
        return 'reflink not requested'
    if os.geteuid() != 0:
        return 'not root: loop devices and mounts need root'
    for tool in ('mkfs.xfs', 'losetup', 'mount', 'umount'):
        if shutil.which(tool) is None:
            return f'{tool} not found on PATH'
    return None


class DataRoot:
    """A data root directory, on XFS with reflink when possible.

    :param base_dir: existing directory holding the loop file and mounts.
    :param size_bytes: apparent size of the sparse loop file.
    :param want_reflink: False forces the plain-directory mode.

    After :meth:`start`: ``path`` is the data root, ``mode`` is
    ``'xfs-reflink'`` or ``'plain'``, ``reason`` says why the plain mode
    was used (None otherwise), ``image_file`` and ``loop_device`` name the
    loop file and device in XFS mode.
    """

    def __init__(self, base_dir, size_bytes=16 * units.Gi, want_reflink=True):
        self.base_dir = os.path.abspath(base_dir)
        self.size_bytes = size_bytes
        self.want_reflink = want_reflink
        self.path = None
        self.mode = None
        self.reason = None
        self.image_file = None
        self.loop_device = None
        self._undo = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        """Set up the data root and return self."""
        if self.path is not None:
            return self
        why_not = why_not_xfs(self.want_reflink)
        if why_not is None:
            try:
                self._start_xfs()
            except (OSError, subprocess.CalledProcessError) as exc:
                self.stop()
                why_not = f'XFS loop setup failed: {_describe(exc)}'
        if why_not is not None:
            self._start_plain(why_not)
        return self

    def _start_xfs(self):
        """Loop file + mkfs.xfs + losetup + mount, each step undoable."""
        self.image_file = os.path.join(self.base_dir, 'xfs.img')
        with open(self.image_file, 'wb') as image:
            image.truncate(self.size_bytes)
        self._undo.append(self._remove_image_file)
        _run(['mkfs.xfs', '-q', '-m', 'reflink=1', self.image_file])
        self.loop_device = self._attach_loop()
        self._undo.append(self._detach_loop)
        mount_dir = os.path.join(self.base_dir, 'xfs')
        os.makedirs(mount_dir, exist_ok=True)
        _run(['mount', self.loop_device, mount_dir])
        self.path = mount_dir
        self._undo.append(self._unmount)
        self.mode = MODE_XFS_REFLINK
        self.reason = None
        if not fsops.probe_reflink(self.path):
            raise OSError('FICLONE does not work on the new XFS mount')

    def _attach_loop(self):
        """Attach the image file to a free loop device, direct I/O if able."""
        base = ['losetup', '--find', '--show']
        try:
            out = _run(base + ['--direct-io=on', self.image_file]).stdout
        except subprocess.CalledProcessError:
            out = _run(base + [self.image_file]).stdout
        return out.strip()

    def _start_plain(self, reason):
        """Use a plain directory under base_dir."""
        self.path = os.path.join(self.base_dir, 'plain')
        os.makedirs(self.path, exist_ok=True)
        self.mode = MODE_PLAIN
        self.reason = reason
        LOG.info('data root is a plain directory: %s', reason)

    def stop(self):
        """Undo every setup step that ran, newest first; never raises."""
        while self._undo:
            step = self._undo.pop()
            try:
                step()
            except (OSError, subprocess.CalledProcessError) as exc:
                LOG.warning('data root cleanup step %s failed: %s',
                            step.__name__, _describe(exc))
        self.path = None

    def _unmount(self):
        """Unmount the XFS; lazily if it is still busy."""
        try:
            _run(['umount', self.path])
        except subprocess.CalledProcessError:
            _run(['umount', '--lazy', self.path])
        with contextlib.suppress(OSError):
            os.rmdir(self.path)

    def _detach_loop(self):
        """Detach the loop device."""
        _run(['losetup', '--detach', self.loop_device])
        self.loop_device = None

    def _remove_image_file(self):
        """Remove the loop file."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.image_file)


def _describe(exc):
    """One-line description of an OSError or CalledProcessError."""
    if isinstance(exc, subprocess.CalledProcessError):
        return '{}: {}'.format(' '.join(exc.cmd), (exc.stderr or '').strip())
    return str(exc)
