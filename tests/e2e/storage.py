# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The storage side of the end-to-end stack, from the project's harness.

* :class:`netapp_eic_testing.dataroot.DataRoot`: an XFS file system with
  reflink in a loop file, so ONTAP clones are real copy-on-write clones;
* the ONTAP simulator, the ``netapp-eic-sim`` console script of the
  installed package, in a process of its own;
* :class:`netapp_eic_testing.nfs.NfsMounts`: every share (the pools, and
  Glance's FlexVols for ``netapp_eic_image_shares``) bind-mounted where
  os-brick looks for it, before cinder-volume starts, and the ``mount.nfs``
  stand-in for cinder-volume's PATH.
"""

import base64
import json
import os
import ssl
import subprocess
import urllib.request

from netapp_eic_testing import dataroot
from netapp_eic_testing import nfs
from tests.e2e import procs

LIF = '127.0.0.1'
SVM = 'vs0'
EIC_POOLS = ('vol_cinder_a', 'vol_cinder_b')
INTREE_POOLS = ('vol_intree_a', 'vol_intree_b')
GLANCE_FLEXVOL = 'vol_glance'
GLANCE_ROOT_FLEXVOL = 'vol_glance_root'
# Glance on an SVM of its own (issue 20): its own data LIF.
OTHER_SVM, OTHER_LIF, OTHER_GLANCE_FLEXVOL = 'vs1', '127.0.0.2', 'vol_vs1'

# The default topology's FlexVols plus the in-tree driver's pools and a
# FlexVol whose root is a Glance store (the only layout in which the
# in-tree driver's File Copy finds the image's FlexVol). vol_cinder_a is
# twice the default size (100 GiB): the pool Cinder's CapacityWeigher
# prefers when a volume type leaves the eic pool to the scheduler.
LARGE_SIZE = '200GiB'
TOPOLOGY = {
    'svms': [
        {'name': SVM, 'lifs': [LIF], 'vstorage_enabled': True,
         'volumes': [{'name': EIC_POOLS[0], 'size': LARGE_SIZE}] + [
             {'name': name} for name in (
                 EIC_POOLS[1:] + (GLANCE_FLEXVOL, GLANCE_ROOT_FLEXVOL)
                 + INTREE_POOLS)]},
        {'name': OTHER_SVM, 'lifs': [OTHER_LIF], 'vstorage_enabled': False,
         'volumes': [{'name': OTHER_GLANCE_FLEXVOL}]},
    ],
}


def lif_of(flexvol: str) -> str:
    """The data LIF of the SVM holding ``flexvol``."""
    return OTHER_LIF if flexvol == OTHER_GLANCE_FLEXVOL else LIF


def share(flexvol: str) -> str:
    """The NFS share string of a FlexVol, as in ``nfs_shares``."""
    return '%s:/%s' % (lif_of(flexvol), flexvol)


class Storage:
    """Data root, simulator process and mounted shares."""

    def __init__(self, run_dir: str, venv: str,
                 size_bytes: int = 32 * 1024 ** 3):
        self.run_dir = run_dir
        self.venv = venv
        self.size_bytes = size_bytes
        self.mount_point_base = os.path.join(run_dir, 'mnt')
        self.bin_dir = os.path.join(run_dir, 'bin')
        self.data_root: dataroot.DataRoot | None = None
        self.sim_service: procs.Service | None = None
        self.info: dict = {}
        self.mounts: nfs.NfsMounts | None = None

    def start(self) -> None:
        """Data root, simulator, mounts; each undone by :meth:`stop`."""
        self.data_root = dataroot.DataRoot(self.run_dir, self.size_bytes)
        self.data_root.start()
        if self.data_root.mode != dataroot.MODE_XFS_REFLINK:
            raise procs.ProcessError(
                'the end-to-end run needs an XFS reflink data root in a '
                'loop device: %s' % self.data_root.reason)
        topology = os.path.join(self.run_dir, 'topology.json')
        with open(topology, 'w') as f:
            json.dump(TOPOLOGY, f)
        self.sim_service = procs.Service('simulator', [
            os.path.join(self.venv, 'bin', 'netapp-eic-sim'),
            '--config', topology,
            '--data-root', os.path.join(self.data_root.path, 'data')],
            self.run_dir)
        self.sim_service.start()
        self.info = self._read_info()
        mounted = self.cinder_shares() + self.image_shares()
        self.mounts = nfs.NfsMounts(
            {s: d for s, d in self.info['shares'].items() if s in mounted},
            self.mount_point_base)
        self.mounts.start()
        nfs.install_mount_nfs_standin(self.bin_dir)

    def _read_info(self, timeout: float = 60.0) -> dict:
        """The JSON line the simulator prints once it serves."""
        service = self.sim_service
        assert service is not None
        found: dict = {}

        def printed() -> bool:
            with open(service.log_path, errors='replace') as out:
                for line in out:
                    if line.startswith('{'):
                        found.update(json.loads(line))
                        return True
            return False
        service.wait_until(printed, 'its JSON line', timeout)
        return found

    @staticmethod
    def cinder_shares() -> list[str]:
        return [share(v) for v in EIC_POOLS + INTREE_POOLS]

    @staticmethod
    def image_shares() -> list[str]:
        """Glance's FlexVols, which the eic backend mounts as
        ``netapp_eic_image_shares`` (README: hashing during the copy)."""
        return [share(v) for v in (GLANCE_FLEXVOL, GLANCE_ROOT_FLEXVOL,
                                   OTHER_GLANCE_FLEXVOL)]

    def flexvol_dir(self, flexvol: str) -> str:
        """The FlexVol's directory on the data root (the "NFS server")."""
        return str(self.info['volumes'][flexvol]['path'])

    @property
    def control_url(self) -> str:
        return str(self.info['control_url'])

    def control(self, method: str, path: str,
                body: dict | None = None) -> dict:
        """Call the simulator's control API (``<control_url>/<path>``)
        over HTTPS, verified against its CA, with its credentials."""
        return self._call('%s/%s' % (self.control_url, path), method, body)

    def _call(self, url: str, method: str, body: dict | None) -> dict:
        context = ssl.create_default_context(cafile=self.info['ca_file'])
        token = base64.b64encode(('%s:%s' % (
            self.info['username'], self.info['password'])).encode()).decode()
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method,
            headers={'Authorization': 'Basic ' + token,
                     'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, context=context,
                                    timeout=30) as resp:
            text = resp.read()
        return dict(json.loads(text)) if text else {}

    def rest(self, method: str, path: str, body: dict | None = None
             ) -> dict:
        """An ONTAP REST call (``/api/<path>``), as an operator's script
        would make it: HTTPS verified against the simulator's CA."""
        return self._call('https://%s:%s/api/%s' % (
            self.info['host'], self.info['port'], path), method, body)

    def requests(self) -> list[dict]:
        """The simulator's request log (every ONTAP REST call so far)."""
        return list(self.control('GET', 'requests')['records'])

    def netapp_options(self) -> dict[str, object]:
        """The connection options of a NetApp NFS backend section; TLS is
        verified against the simulator's own CA."""
        return {
            'netapp_storage_family': 'ontap_cluster',
            'netapp_storage_protocol': 'nfs',
            'netapp_use_legacy_client': False,
            'netapp_server_hostname': self.info['host'],
            'netapp_server_port': self.info['port'],
            'netapp_transport_type': 'https',
            'netapp_ssl_cert_path': self.info['ca_file'],
            'netapp_ssl_cert_verify': True,
            'netapp_login': self.info['username'],
            'netapp_password': self.info['password'],
            'netapp_vserver': self.info['vserver'],
            'netapp_async_rest_timeout': 60,
        }

    def stop(self) -> None:
        """Unmount, stop the simulator, remove the data root; each step
        runs even if an earlier one failed, the first error is raised."""
        first: BaseException | None = None
        for step in (self._stop_mounts, self._stop_sim, self._stop_root):
            try:
                step()
            except Exception as e:  # the other steps must still run
                first = first or e
        if first is not None:
            raise first

    def _stop_mounts(self) -> None:
        if self.mounts is not None:
            self.mounts.stop()
            self.mounts = None

    def _stop_sim(self) -> None:
        if self.sim_service is not None:
            self.sim_service.stop()
            self.sim_service = None

    def _stop_root(self) -> None:
        if self.data_root is not None:
            self.data_root.stop()
            self.data_root = None


def sweep_mounts(run_dir: str) -> list[str]:
    """Undo mounts and loop devices under ``run_dir`` that a previous,
    killed run left (deepest mount first); returns what was undone."""
    undone = []
    prefix = os.path.realpath(run_dir) + os.sep
    with open('/proc/mounts') as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted((p for p in points if p.startswith(prefix)),
                        key=len, reverse=True):
        subprocess.run(['umount', '--lazy', point], check=True,
                       capture_output=True)
        undone.append('mount ' + point)
    loops = subprocess.run(['losetup', '--list', '--noheadings', '--output',
                            'NAME,BACK-FILE'], check=True,
                           capture_output=True, text=True).stdout
    for line in loops.splitlines():
        name, _, back = line.strip().partition(' ')
        if back.strip().startswith(prefix):
            subprocess.run(['losetup', '--detach', name], check=True,
                           capture_output=True)
            undone.append('loop ' + name)
    return undone
