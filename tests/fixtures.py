# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fixtures shared by every functional test, the demo and the benchmarks.

:class:`StorageFixture` builds the whole storage side: a data root (XFS
reflink loop file as root, a plain directory otherwise), the ONTAP REST
simulator over HTTPS on it, every simulator share "mounted" where os-brick
looks for it, and a Glance-like image service on the Glance FlexVol.
:func:`make_cinder_configuration` and :class:`DriverFixture` then build a
real Cinder driver against it, with TLS verification on.

Everything a fixture creates (processes, mounts, loop devices, temporary
files, driver periodic tasks) is removed by its cleanups, which also run
when setUp fails half-way.
"""

import os
import socket

import fixtures
from testtools import content

from netapp_eic.simulator import dataroot as dataroot_mod
from netapp_eic.simulator import glance as glance_mod
from netapp_eic.simulator import nfs as nfs_mod
from netapp_eic.simulator import stack
from netapp_eic.simulator.stack import make_cinder_configuration
from netapp_eic.simulator.stack import stop_looping_calls

BACKEND = 'netapp_eic_test'
HOST = f'{socket.gethostname()}@{BACKEND}'
GLANCE_VOLUME = 'vol_glance'
GLANCE_STORE_SUBDIR = 'images'
DEFAULT_SHARES = ('127.0.0.1:/vol_cinder_a', '127.0.0.1:/vol_cinder_b')


def pool_host(share, host=HOST):
    """The ``volume.host`` of a volume in pool ``share``."""
    return f'{host}#{share}'


class DataRootFixture(fixtures.Fixture):
    """A :class:`DataRoot` under ``base_dir``, stopped on cleanup."""

    def __init__(self, base_dir, want_reflink=True,
                 size_bytes=16 * dataroot_mod.GiB):
        super().__init__()
        self.base_dir = base_dir
        self.want_reflink = want_reflink
        self.size_bytes = size_bytes
        self.dataroot = None

    def _setUp(self):
        self.dataroot = dataroot_mod.DataRoot(
            self.base_dir, self.size_bytes, self.want_reflink)
        self.addCleanup(self.dataroot.stop)
        self.dataroot.start()
        self.addDetail('dataroot', content.text_content(
            f'mode={self.dataroot.mode} path={self.dataroot.path} '
            f'reason={self.dataroot.reason}'))


class SimulatorFixture(fixtures.Fixture):
    """The ONTAP REST simulator over HTTPS on ``data_root``; ``.sim``."""

    def __init__(self, data_root, topology=None, tls=True, seed=None):
        super().__init__()
        self.data_root = data_root
        self.topology = topology
        self.tls = tls
        self.seed = seed
        self.sim = None

    def _setUp(self):
        from netapp_eic.simulator import Simulator
        os.makedirs(self.data_root, exist_ok=True)
        sim = Simulator(topology=self.topology, data_root=self.data_root,
                        tls=self.tls, seed=self.seed)
        entered = sim.__enter__()
        self.addCleanup(sim.__exit__, None, None, None)
        self.sim = entered if entered is not None else sim


class NfsMountsFixture(fixtures.Fixture):
    """:class:`NfsMounts` for ``shares`` under ``mount_point_base``."""

    def __init__(self, shares, mount_point_base, use_bind_mounts=None):
        super().__init__()
        self.shares = shares
        self.mount_point_base = mount_point_base
        self.use_bind_mounts = use_bind_mounts
        self.mounts = None

    def _setUp(self):
        self.mounts = nfs_mod.NfsMounts(self.shares, self.mount_point_base,
                                        self.use_bind_mounts)
        self.addCleanup(self.mounts.stop)
        self.mounts.start()


class StorageFixture(fixtures.Fixture):
    """Data root + simulator + NFS mounts + Glance-like image service.

    Attributes after setUp: ``base_dir``, ``dataroot`` (its ``mode`` is
    'xfs-reflink' or 'plain'), ``sim``, ``clone_mode`` (the simulator's,
    'reflink' or 'copy'), ``mounts``, ``mount_point_base``,
    ``image_service``, ``glance_dir`` (the Glance FlexVol directory),
    ``bin_dir`` holding the ``mount.nfs`` stand-in (``mount_nfs_standin``).
    ``describe()`` says which modes ran.
    """

    def __init__(self, want_reflink=True, topology=None, seed=None,
                 location_style=glance_mod.LOCATION_FILE,
                 size_bytes=16 * dataroot_mod.GiB, standin_on_path=False):
        super().__init__()
        self.want_reflink = want_reflink
        self.topology = topology
        self.seed = seed
        self.location_style = location_style
        self.size_bytes = size_bytes
        self.standin_on_path = standin_on_path

    def _setUp(self):
        self.base_dir = self.useFixture(fixtures.TempDir()).path
        self.dataroot = self.useFixture(DataRootFixture(
            self.base_dir, self.want_reflink, self.size_bytes)).dataroot
        self.sim = self.useFixture(SimulatorFixture(
            os.path.join(self.dataroot.path, 'data'), self.topology,
            seed=self.seed)).sim
        self.clone_mode = self.sim.clone_mode
        self.mount_point_base = os.path.join(self.base_dir, 'mnt')
        self.mounts = self.useFixture(NfsMountsFixture(
            self.sim.shares, self.mount_point_base)).mounts
        self._install_standin()
        self.image_service = self._make_image_service()
        self.addDetail('storage', content.text_content(
            self.describe()))

    def _install_standin(self):
        """``mount.nfs`` stand-in, on PATH only if asked."""
        self.bin_dir = os.path.join(self.base_dir, 'bin')
        self.mount_nfs_standin = nfs_mod.install_mount_nfs_standin(
            self.bin_dir)
        if self.standin_on_path:
            path = os.environ.get('PATH', '')
            self.useFixture(fixtures.EnvironmentVariable(
                'PATH', self.bin_dir + os.pathsep + path))

    def _make_image_service(self):
        """FakeImageService storing images in ``vol_glance/images``."""
        share = self.glance_share()
        self.glance_dir = self.sim.shares[share]
        host, export = share.split(':', 1)
        return glance_mod.FakeImageService(
            store_dir=os.path.join(self.glance_dir, GLANCE_STORE_SUBDIR),
            share_location=f'nfs://{host}{export}',
            mountpoint=self.glance_dir,
            location_style=self.location_style)

    def glance_share(self):
        """The share string of the Glance FlexVol."""
        for share in self.sim.shares:
            if share.endswith(':/' + GLANCE_VOLUME):
                return share
        raise LookupError(f'the simulator topology has no {GLANCE_VOLUME}')

    def share_dir(self, share):
        """The directory of ``share`` as the driver sees it (mount point)."""
        return self.mounts.mount_point(share)

    def describe(self):
        """One line: which data root, clone and mount modes ran."""
        why = f' ({self.dataroot.reason})' if self.dataroot.reason else ''
        return (f'dataroot={self.dataroot.mode} clone_mode={self.clone_mode} '
                f'mounts={self.mounts.mode}{why}')


class DriverFixture(fixtures.Fixture):
    """A Cinder NetApp NFS driver wired to a :class:`StorageFixture`.

    ``driver_class`` None builds Cinder's upstream driver through the
    ``NetAppDriver`` factory (what ``volume_driver =
    cinder.volume.drivers.netapp.common.NetAppDriver`` does); otherwise the
    class is instantiated directly. ``setup=True`` runs ``do_setup`` and
    ``check_for_setup_error``. The periodic tasks started by the latter
    are stopped on cleanup.
    """

    def __init__(self, storage, driver_class=None, shares=DEFAULT_SHARES,
                 host=HOST, setup=True, **overrides):
        super().__init__()
        self.storage = storage
        self.driver_class = driver_class
        self.shares = shares
        self.host = host
        self.setup = setup
        self.overrides = overrides

    def _setUp(self):
        from cinder import context
        self.context = context.get_admin_context()
        self.configuration = make_cinder_configuration(
            self.storage.sim, self.storage.mounts, self.shares,
            backend=self.host.split('@', 1)[1], **self.overrides)
        self.driver = self._build()
        self.addCleanup(stop_looping_calls, self.driver)
        if self.setup:
            self.driver.do_setup(self.context)
            self.driver.check_for_setup_error()

    def _build(self):
        driver_class = self.driver_class
        if driver_class is None:
            from cinder.volume.drivers.netapp import common
            driver_class = common.NetAppDriver
        return stack.build_driver(driver_class, self.configuration,
                                  self.storage.mounts, self.host)


class InProcessPrivsepFixture(fixtures.Fixture):
    """Run the few privsep entry points the NFS drivers use in-process.

    Cinder's TestCase forbids starting a privsep daemon (it raises "You
    have attempted to start a privsep helper"); the harness runs as root
    anyway, so ``cinder.privsep.path.touch`` (used by the NetApp driver to
    refresh NFS directory caches) and the format inspector behind
    ``image_utils.qemu_img_info`` run the same code directly. Only this
    privsep boundary is replaced; nothing is faked.
    """

    def _setUp(self):
        from cinder.privsep import format_inspector
        self.useFixture(fixtures.MonkeyPatch('cinder.privsep.path.touch',
                                             _touch))
        self.useFixture(fixtures.MonkeyPatch(
            'cinder.privsep.format_inspector.get_format_if_safe',
            format_inspector._get_format_if_safe))


def _touch(path):
    """What ``cinder.privsep.path.touch`` does, without the daemon."""
    if os.path.exists(path):
        os.utime(path, None)
    else:
        with open(path, 'a'):
            pass
