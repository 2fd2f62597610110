# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A whole simulated storage stack for the demo, benchmarks and tests.

:class:`Stack` composes the data root (XFS with reflink as root, else a
plain directory), the ONTAP simulator over HTTPS, the shares "mounted" where
os-brick looks for them, a ``mount.nfs`` stand-in and Glance stand-ins, and
builds Cinder NFS drivers configured against it (:mod:`.cinder`). It is the
one copy of this composition: the test fixtures, the demo and the
benchmarks all use it.
"""

import contextlib
import os
import shutil
import socket
import tempfile

from oslo_utils import units

from netapp_eic.simulator import Simulator
from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import dataroot as dataroot_mod
from netapp_eic_testing import glance as glance_mod
from netapp_eic_testing import nfs as nfs_mod
from netapp_eic_testing import simproc

BACKEND = cinder_mod.BACKEND
DEFAULT_SHARES = cinder_mod.DEFAULT_SHARES
pool_host = cinder_mod.pool_host
GLANCE_VOLUME = 'vol_glance'
GLANCE_STORE_SUBDIR = 'images'


class Stack:
    """Data root + simulator + mounted shares + Glance stand-ins.

    ``with Stack() as stack:`` then ``stack.sim``, ``stack.mounts``,
    ``stack.image_service`` (a Glance stand-in storing images in
    ``vol_glance/images``), ``stack.glance(...)`` for others and
    ``stack.driver(...)``. Everything started is stopped on exit, in
    reverse order, even after errors.

    :param base_dir: where the loop file, data root, mount points and the
        ``mount.nfs`` stand-in live; a temporary directory (removed on stop)
        when None.
    :param want_reflink: False forces a plain data root (clones by copy).
    :param location_style: how ``image_service`` reports locations.
    :param sim_process: run the simulator in a process of its own
        (:mod:`netapp_eic_testing.simproc`): this process's reads are then
        the host's alone. Its faults, request log and state are then not
        reachable as Python objects.
    """

    def __init__(self, base_dir=None, want_reflink=True,
                 size_bytes=16 * units.Gi, topology=None, seed=None,
                 location_style=glance_mod.LOCATION_FILE, sim_process=False):
        self.sim_process = sim_process
        self._own_base = base_dir is None
        self.base_dir = base_dir or tempfile.mkdtemp(prefix='netapp-eic-')
        self.want_reflink = want_reflink
        self.size_bytes = size_bytes
        self.topology = topology
        self.seed = seed
        self.location_style = location_style
        self._exit = contextlib.ExitStack()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        try:
            self.dataroot = self._exit.enter_context(dataroot_mod.DataRoot(
                self.base_dir, self.size_bytes, self.want_reflink))
            data_root = os.path.join(self.dataroot.path, 'data')
            if self.sim_process:
                os.makedirs(data_root, exist_ok=True)
                self.sim = self._exit.enter_context(simproc.SimulatorProcess(
                    data_root, self.topology, self.seed))
            else:
                self.sim = self._exit.enter_context(Simulator(
                    topology=self.topology, seed=self.seed,
                    data_root=data_root))
            self.mount_point_base = os.path.join(self.base_dir, 'mnt')
            self.mounts = self._exit.enter_context(nfs_mod.NfsMounts(
                self.sim.shares, self.mount_point_base))
            self.bin_dir = os.path.join(self.base_dir, 'bin')
            self.mount_nfs_standin = nfs_mod.install_mount_nfs_standin(
                self.bin_dir)
            self.image_service = self.glance(
                GLANCE_VOLUME, GLANCE_STORE_SUBDIR, self.location_style)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self._exit.close()
        if self._own_base:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def clone_mode(self):
        return self.sim.clone_mode

    def describe(self):
        """Which data root, clone and mount modes ran."""
        why = ' (%s)' % self.dataroot.reason if self.dataroot.reason else ''
        return 'data root %s, ONTAP clones by %s, shares by %s mounts%s' % (
            self.dataroot.mode, self.sim.clone_mode, self.mounts.mode, why)

    def share_of(self, flexvol):
        """The share string (``ip:/junction``) of ``flexvol``."""
        for share in self.sim.shares:
            if share.endswith(':/' + flexvol):
                return share
        raise LookupError('no share for FlexVol %s' % flexvol)

    def share_dir(self, share):
        """The directory of ``share`` as a driver sees it (mount point)."""
        return self.mounts.mount_point(share)

    def glance(self, flexvol=GLANCE_VOLUME, subdir=GLANCE_STORE_SUBDIR,
               location_style=glance_mod.LOCATION_FILE,
               hashing_algorithm='sha512'):
        """A Glance stand-in whose file store is ``<flexvol>/<subdir>``,
        hashing new images with ``hashing_algorithm``."""
        share = self.share_of(flexvol)
        local = self.sim.shares[share]
        host, export = share.split(':', 1)
        return glance_mod.FakeImageService(
            store_dir=os.path.join(local, subdir),
            share_location='nfs://%s%s' % (host, export),
            mountpoint=local, location_style=location_style,
            hashing_algorithm=hashing_algorithm)

    def driver(self, driver_class=None, backend=BACKEND,
               shares=DEFAULT_SHARES, setup=True, hostname=None,
               **overrides):
        """A Cinder NFS driver configured for the stack.

        ``driver_class`` None builds Cinder's upstream driver through the
        ``NetAppDriver`` factory, as ``volume_driver =
        cinder.volume.drivers.netapp.common.NetAppDriver`` does.
        ``setup=True`` runs ``do_setup`` and ``check_for_setup_error``; the
        periodic tasks the latter starts are stopped when the stack stops.
        """
        from cinder import context
        if driver_class is None:
            from cinder.volume.drivers.netapp import common
            driver_class = common.NetAppDriver
        config = cinder_mod.make_cinder_configuration(
            self.sim, self.mounts, shares, backend=backend,
            shares_dir=self.base_dir, **overrides)
        drv = cinder_mod.build_driver(
            driver_class, config, self.mounts,
            '%s@%s' % (hostname or socket.gethostname(), backend))
        self._exit.callback(cinder_mod.stop_looping_calls, drv)
        if setup:
            drv.do_setup(context.get_admin_context())
            drv.check_for_setup_error()
        return drv
