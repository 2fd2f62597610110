# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A whole simulated storage stack for the demo, benchmarks and tests.

:class:`Stack` composes the data root (XFS with reflink as root, else a
plain directory), the ONTAP simulator over HTTPS, the shares "mounted" where
os-brick looks for them, a ``mount.nfs`` stand-in and Glance stand-ins, and
builds Cinder NFS drivers configured against it. Cinder is imported lazily:
only :func:`make_cinder_configuration` and :meth:`Stack.driver` need it.
"""

import contextlib
import os
import shutil
import socket
import sys
import tempfile

from netapp_eic.simulator import dataroot as dataroot_mod
from netapp_eic.simulator import glance as glance_mod
from netapp_eic.simulator import nfs as nfs_mod
from netapp_eic.simulator import Simulator

BACKEND = 'netapp_eic'
DEFAULT_SHARES = ('127.0.0.1:/vol_cinder_a', '127.0.0.1:/vol_cinder_b')


def pool_host(share, backend=BACKEND, hostname=None):
    """Cinder's ``volume.host`` for a volume in pool ``share``."""
    return '%s@%s#%s' % (hostname or socket.gethostname(), backend, share)


def write_shares_file(path, shares):
    """Write an ``nfs_shares_config`` file listing ``shares``."""
    with open(path, 'w') as shares_file:
        shares_file.write(''.join('%s\n' % share for share in shares))
    return path


def _register_driver_opts(config):
    """Register, in the backend group, every option a NetApp NFS driver
    (and netapp-eic) reads."""
    from cinder.volume import driver as volume_driver
    from cinder.volume.drivers.netapp import options as na_opts
    from cinder.volume.drivers import nfs, remotefs

    from netapp_eic import options
    for opts in (volume_driver.volume_opts, remotefs.nas_opts,
                 remotefs.volume_opts, nfs.nfs_opts, na_opts.netapp_proxy_opts,
                 na_opts.netapp_connection_opts,
                 na_opts.netapp_transport_opts,
                 na_opts.netapp_basicauth_opts,
                 na_opts.netapp_certificateauth_opts,
                 na_opts.netapp_provisioning_opts,
                 na_opts.netapp_cluster_opts,
                 na_opts.netapp_img_cache_opts,
                 na_opts.netapp_nfs_extra_opts,
                 na_opts.netapp_san_opts,
                 na_opts.netapp_replication_opts,
                 na_opts.netapp_support_opts,
                 na_opts.netapp_migration_opts,
                 options.eic_opts):
        config.append_config_values(opts)


def make_cinder_configuration(sim, mounts, shares=DEFAULT_SHARES,
                              backend=BACKEND, shares_dir=None, **overrides):
    """A real ``cinder.volume.configuration.Configuration`` for ``sim``.

    The values are loaded into oslo.config exactly as a ``[backend]``
    section of ``cinder.conf`` would be (raw strings, parsed by the option
    types), so code that looks the section up by name, such as NetApp's
    ``get_client_for_backend``, finds it. TLS verification is on, with the
    simulator's CA as the trusted bundle. ``overrides`` win over the values
    here; None drops an option.
    """
    from cinder.common import config as cinder_config
    from cinder.volume import configuration
    from cinder.volume import driver as volume_driver
    from oslo_config import fixture as config_fixture

    shares_dir = shares_dir or os.path.dirname(mounts.mount_point_base)
    shares_file = write_shares_file(
        os.path.join(shares_dir, '%s-shares.conf' % backend), shares)
    values = {
        'volume_driver': 'cinder.volume.drivers.netapp.common.NetAppDriver',
        'volume_backend_name': backend,
        'netapp_storage_family': 'ontap_cluster',
        'netapp_storage_protocol': 'nfs',
        'netapp_use_legacy_client': False,
        'netapp_server_hostname': sim.host,
        'netapp_server_port': sim.port,
        'netapp_transport_type': 'https' if sim.ca_file else 'http',
        'netapp_ssl_cert_path': sim.ca_file,
        'netapp_ssl_cert_verify': True,
        'netapp_login': sim.username,
        'netapp_password': sim.password,
        'netapp_vserver': sim.vserver,
        'netapp_async_rest_timeout': 60,
        'nfs_shares_config': shares_file,
        'nfs_mount_point_base': mounts.mount_point_base,
        'nas_secure_file_operations': 'false',
        'nas_secure_file_permissions': 'false',
    }
    values.update(overrides)
    values = {name: value for name, value in values.items()
              if value is not None}
    conf = cinder_config.CONF
    # load_raw_values only adds a parsed "file" to the namespace (newest
    # wins), as reading cinder.conf does; it needs no fixture setUp.
    config_fixture.Config(conf).load_raw_values(group=backend, **values)
    config = configuration.Configuration(volume_driver.volume_opts,
                                         config_group=backend)
    # Registering clears oslo.config's value cache, so nothing read
    # before the raw values were loaded can linger.
    _register_driver_opts(config)
    return config


def build_driver(driver_class, configuration, mounts, host):
    """Instantiate a Cinder NFS driver whose commands go through
    ``mounts.execute``.

    NfsDriver hands ``execute`` to its os-brick client only; the driver's
    own ``_execute`` (mount.nfs probe, stat, du, rm, chmod...) stays
    ``cinder.utils.execute``, so it is replaced too, as Cinder's own driver
    tests do.
    """
    driver = driver_class(configuration=configuration,
                          execute=mounts.execute, host=host)
    driver._execute = mounts.execute
    return driver


def stop_looping_calls(driver):
    """Stop the driver's periodic tasks (EMS, housekeeping, cache, SSC)."""
    looping = getattr(driver, 'loopingcalls', None)
    for task in getattr(looping, 'tasks', ()):
        task.looping_call.stop()


def setup_cinder_process(workdir):
    """Set this process up the way cinder-volume would be, minus the
    service, for a standalone program (the demo, the benchmarks) that runs
    a driver against the simulator. Returns ``(CONF, context, objects)``.

    * native threads, not eventlet (the simulator serves from threads);
    * ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` removed: ``requests`` lets
      them override a session's CA bundle, and clients must verify the
      simulator against its own CA;
    * a sqlite database, state, lock and image conversion directories under
      ``workdir`` (NetApp's client opens the SSH known-hosts file in the
      state directory even when it never uses SSH);
    * privileged helpers (the format inspector behind ``qemu_img_info``)
      through a real privsep daemon started without sudo.
    """
    os.environ['OS_CINDER_DISABLE_EVENTLET_PATCHING'] = '1'
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        os.environ.pop(name, None)
    from cinder import monkey_patch
    monkey_patch.patch()
    from cinder.common import config as cinder_config
    from cinder import context
    from cinder.db import migration
    from cinder import objects
    conf = cinder_config.CONF
    conf([], project='cinder', default_config_files=[])
    objects.register_all()
    conf.set_override('connection', 'sqlite:///%s' % os.path.join(
        workdir, 'cinder.sqlite'), group='database')
    migration.db_sync()
    dirs = {name: os.path.join(workdir, name)
            for name in ('state', 'locks', 'conversion')}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    open(os.path.join(dirs['state'], 'ssh_known_hosts'), 'a').close()
    conf.set_override('state_path', dirs['state'])
    conf.set_override('lock_path', dirs['locks'], group='oslo_concurrency')
    conf.set_override('image_conversion_dir', dirs['conversion'])
    helper = os.path.join(os.path.dirname(sys.executable), 'privsep-helper')
    conf.set_override('helper_command', helper, group='cinder_sys_admin')
    return conf, context, objects


class Stack:
    """Data root + simulator + mounted shares + Glance stand-ins.

    ``with Stack() as stack:`` then ``stack.sim``, ``stack.mounts``,
    ``stack.glance(...)`` and ``stack.driver(...)``. Everything started is
    stopped on exit, in reverse order, even after errors.
    """

    def __init__(self, base_dir=None, want_reflink=True,
                 size_bytes=16 * dataroot_mod.GiB, topology=None, seed=None):
        self._own_base = base_dir is None
        self.base_dir = base_dir or tempfile.mkdtemp(prefix='netapp-eic-')
        self.want_reflink = want_reflink
        self.size_bytes = size_bytes
        self.topology = topology
        self.seed = seed
        self._exit = contextlib.ExitStack()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        try:
            self.dataroot = self._exit.enter_context(dataroot_mod.DataRoot(
                self.base_dir, self.size_bytes, self.want_reflink))
            self.sim = self._exit.enter_context(Simulator(
                topology=self.topology, seed=self.seed,
                data_root=os.path.join(self.dataroot.path, 'data')))
            self.mounts = self._exit.enter_context(nfs_mod.NfsMounts(
                self.sim.shares, os.path.join(self.base_dir, 'mnt')))
            self.bin_dir = os.path.join(self.base_dir, 'bin')
            nfs_mod.install_mount_nfs_standin(self.bin_dir)
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
        for share in self.sim.shares:
            if share.endswith(':/' + flexvol):
                return share
        raise LookupError('no share for FlexVol %s' % flexvol)

    def glance(self, flexvol='vol_glance', subdir='images',
               location_style=glance_mod.LOCATION_FILE):
        """A Glance stand-in whose file store is ``<flexvol>/<subdir>``."""
        share = self.share_of(flexvol)
        local = self.sim.shares[share]
        host, export = share.split(':', 1)
        return glance_mod.FakeImageService(
            store_dir=os.path.join(local, subdir),
            share_location='nfs://%s%s' % (host, export),
            mountpoint=local, location_style=location_style)

    def driver(self, driver_class, backend=BACKEND, shares=DEFAULT_SHARES,
               setup=True, **overrides):
        """A Cinder NFS driver of ``driver_class`` configured for the stack;
        its periodic tasks are stopped when the stack stops."""
        from cinder import context
        config = make_cinder_configuration(
            self.sim, self.mounts, shares, backend=backend,
            shares_dir=self.base_dir, **overrides)
        drv = build_driver(driver_class, config, self.mounts,
                           '%s@%s' % (socket.gethostname(), backend))
        self._exit.callback(stop_looping_calls, drv)
        if setup:
            drv.do_setup(context.get_admin_context())
            drv.check_for_setup_error()
        return drv
