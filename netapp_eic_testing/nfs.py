# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Make simulator FlexVol directories look like mounted NFS shares.

This machine has no kernel NFS client. os-brick's ``RemoteFsClient.mount``
only checks whether its mount point, ``nfs_mount_point_base/md5(share)``,
appears in ``/proc/mounts``; it never looks at the device or the file
system type. So, as root, :class:`NfsMounts` bind-mounts each FlexVol
directory exactly there, and the driver then finds its shares "already
mounted". Without root the mount point becomes a symbolic link to the
directory (os-brick then calls ``mount`` every time, which
:meth:`NfsMounts.execute` answers).

:meth:`NfsMounts.execute` has the signature of
``oslo_concurrency.processutils.execute`` and is meant to be injected into
Cinder drivers (``execute=mounts.execute``): it runs commands locally
without a root helper, turns ``mount -t nfs SHARE PATH`` into the bind
mount or link, and answers the ``mount.nfs`` probe of ``NfsDriver``.
"""

import contextlib
import hashlib
import logging
import os
import stat
import subprocess
import threading

LOG = logging.getLogger(__name__)

# Keyword arguments of processutils.execute that only make sense with a
# root helper; the harness runs commands directly (as root, or not at all).
_ROOT_KWARGS = ('run_as_root', 'root_helper')

_MOUNT_NFS_STANDIN = """#!/bin/sh
# mount.nfs stand-in written by netapp_eic_testing.nfs: this machine has no
# NFS client. With no argument it answers the probe Cinder's NfsDriver makes;
# a real mount is refused so that a share the harness did not bind-mount
# fails loudly instead of silently writing to a local directory.
if [ "$#" -eq 0 ]; then
    echo "usage: mount.nfs remotetarget dir [-rvVwfnsh] [-o nfsoptions]" >&2
    exit 0
fi
echo "mount.nfs stand-in: refusing to mount $1 on $2: no NFS client here;" \\
     "the netapp_eic harness bind-mounts simulator shares instead" >&2
exit 32
"""


def mount_point_for(share, mount_point_base):
    """Return the directory os-brick uses for ``share``.

    Computed by os-brick itself when it is importable, so that the harness
    can never disagree with the driver; md5 of the share string otherwise.
    """
    try:
        from os_brick.remotefs import remotefs
    except ImportError:
        digest = hashlib.md5(share.encode('utf-8'),
                             usedforsecurity=False).hexdigest()
        return os.path.join(mount_point_base, digest)
    client = remotefs.RemoteFsClient('nfs', root_helper=None,
                                     execute=_refuse_execute,
                                     nfs_mount_point_base=mount_point_base)
    return client.get_mount_point(share)


def _refuse_execute(*cmd, **kwargs):
    """Execute stand-in for the os-brick client used only to hash names."""
    raise RuntimeError(f'unexpected command {cmd}')


def read_mount_points():
    """Return the set of mount points listed in /proc/mounts."""
    with open('/proc/mounts') as mounts:
        return {line.split()[1] for line in mounts if line.strip()}


def install_mount_nfs_standin(directory):
    """Write an executable ``mount.nfs`` stand-in into ``directory``.

    It exits 0 when called without arguments (the NfsDriver probe) and
    refuses any real mount with exit status 32 and a clear message.
    Returns the path of the script.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, 'mount.nfs')
    with open(path, 'w') as script:
        script.write(_MOUNT_NFS_STANDIN)
    mode = os.stat(path).st_mode
    os.chmod(path, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class NfsMounts:
    """Present local directories as NFS shares mounted where os-brick looks.

    :param shares: ``{'127.0.0.1:/vol_cinder_a': '/data/vol_cinder_a', ...}``
    :param mount_point_base: the driver's ``nfs_mount_point_base``.
    :param use_bind_mounts: default: True when running as root.
    """

    def __init__(self, shares, mount_point_base, use_bind_mounts=None):
        self.shares = dict(shares)
        self.mount_point_base = os.path.realpath(mount_point_base)
        if use_bind_mounts is None:
            use_bind_mounts = os.geteuid() == 0
        self.use_bind_mounts = use_bind_mounts
        self.commands = []
        self.intercepted = []
        self._attached = []
        self._lock = threading.Lock()

    @property
    def mode(self):
        """'bind' (real bind mounts) or 'symlink'."""
        return 'bind' if self.use_bind_mounts else 'symlink'

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def mount_point(self, share):
        """Return the mount point os-brick computes for ``share``."""
        return mount_point_for(share, self.mount_point_base)

    def start(self):
        """Attach every share at its mount point; return self."""
        os.makedirs(self.mount_point_base, exist_ok=True)
        try:
            for share in self.shares:
                self.attach(share, self.mount_point(share))
        except Exception:
            self.stop()
            raise
        return self

    def attach(self, share, path):
        """Bind-mount (or link) the directory of ``share`` at ``path``."""
        local_dir = self.shares[share]
        with self._lock:
            if self._is_attached(path):
                return
            if self.use_bind_mounts:
                self._bind_mount(local_dir, path)
            else:
                self._symlink(local_dir, path)
            self._attached.append(path)

    def _is_attached(self, path):
        """True if ``path`` already shows the share (mount or link)."""
        if self.use_bind_mounts:
            return path in read_mount_points()
        return os.path.islink(path)

    @staticmethod
    def _bind_mount(local_dir, path):
        """``mount --bind local_dir path`` (no shell)."""
        os.makedirs(path, exist_ok=True)
        subprocess.run(['mount', '--bind', local_dir, path], check=True,
                       capture_output=True, text=True)

    @staticmethod
    def _symlink(local_dir, path):
        """Replace an empty directory at ``path`` by a link to local_dir."""
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        os.symlink(local_dir, path)

    def stop(self):
        """Unmount (or unlink) everything this object attached."""
        with self._lock:
            while self._attached:
                path = self._attached.pop()
                try:
                    self._detach(path)
                except (OSError, subprocess.CalledProcessError) as exc:
                    LOG.warning('could not detach %s: %s', path, exc)

    def _detach(self, path):
        """Undo one attach; tolerate a share the driver already unmounted."""
        if not self.use_bind_mounts:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        if path in read_mount_points():
            result = subprocess.run(['umount', path], check=False,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                subprocess.run(['umount', '--lazy', path], check=True,
                               capture_output=True, text=True)
        with contextlib.suppress(OSError):
            os.rmdir(path)

    def execute(self, *cmd, **kwargs):
        """``processutils.execute`` for drivers, without a root helper.

        Returns ``(stdout, stderr)`` like processutils; raises
        ``ProcessExecutionError`` on a failed command.
        """
        for key in _ROOT_KWARGS:
            kwargs.pop(key, None)
        cmd = [str(arg) for arg in cmd]
        self.commands.append(list(cmd))
        answer = self._intercept(cmd)
        if answer is not None:
            self.intercepted.append(list(cmd))
            return answer
        from oslo_concurrency import processutils
        return processutils.execute(*cmd, **kwargs)

    def _intercept(self, cmd):
        """Answer NFS-specific commands; None lets the command run."""
        if cmd and os.path.basename(cmd[0]) == 'mount.nfs':
            return self._mount_nfs_probe(cmd)
        if _is_nfs_mount(cmd):
            return self._nfs_mount(cmd[-2], cmd[-1])
        return None

    @staticmethod
    def _mount_nfs_probe(cmd):
        """``mount.nfs`` with no argument is a presence probe: succeed."""
        if len(cmd) == 1:
            return ('', '')
        return _failure(cmd, 32, 'mount.nfs stand-in: real NFS mounts are '
                        'not possible here')

    def _nfs_mount(self, share, path):
        """``mount -t nfs SHARE PATH`` -> bind mount or link of the share."""
        if share not in self.shares:
            return _failure(['mount', '-t', 'nfs', share, path], 32,
                            'mount.nfs: access denied by server while '
                            f'mounting {share} (not a simulator share)')
        self.attach(share, os.path.abspath(path))
        return ('', '')


def _is_nfs_mount(cmd):
    """True for ``mount ... -t nfs|nfs4 ... SHARE PATH``."""
    if not cmd or os.path.basename(cmd[0]) != 'mount' or '-t' not in cmd:
        return False
    index = cmd.index('-t')
    return index + 1 < len(cmd) and cmd[index + 1] in ('nfs', 'nfs4')


def _failure(cmd, exit_code, stderr):
    """Raise processutils.ProcessExecutionError like a failed command."""
    from oslo_concurrency import processutils
    raise processutils.ProcessExecutionError(
        stdout='', stderr=stderr, exit_code=exit_code,
        cmd=' '.join(cmd))
