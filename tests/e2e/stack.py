# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The whole end-to-end stack: storage, MariaDB, RabbitMQ, Glance, Cinder.

:meth:`E2EStack.start` brings everything up on 127.0.0.1 and
:meth:`E2EStack.stop` takes down everything that was started, in reverse
order, also when the start failed half-way or was interrupted (Ctrl-C).
Before starting, whatever a previous run killed with SIGKILL left in the
same run directory (process groups, mounts, loop devices) is removed.

Two backends share the stack: ``eic`` (this plugin, pools
``vol_cinder_a/b``) and ``intree`` (Cinder's unchanged in-tree NetApp
driver through ``NetAppDriver``, pools ``vol_intree_a/b``), on one
simulated cluster. The volume services form a Cinder cluster coordinated
through the stack's Redis (:mod:`tests.e2e.redis_svc`), so that a scenario
can add a second one for active/active.
"""

import contextlib
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

from tests.e2e import cinder_svc
from tests.e2e import glance_svc
from tests.e2e import mariadb
from tests.e2e import procs
from tests.e2e import rabbit
from tests.e2e import redis_svc
from tests.e2e import storage

LOG = logging.getLogger(__name__)

EIC_DRIVER = 'netapp_eic.driver.NetAppEicNfsDriver'
INTREE_DRIVER = 'cinder.volume.drivers.netapp.common.NetAppDriver'
EIC, INTREE = 'eic', 'intree'
# Glance stores: name -> (FlexVol or None for a local disk, subdirectory).
STORES = {
    'glance': (storage.GLANCE_FLEXVOL, 'images'),
    'glance_root': (storage.GLANCE_ROOT_FLEXVOL, ''),
    'pool_eic': (storage.EIC_POOLS[0], 'glance-images'),
    'pool_intree': (storage.INTREE_POOLS[0], 'glance-images'),
    'other_svm': (storage.OTHER_GLANCE_FLEXVOL, 'images'),
    'local': (None, ''),
}

# Run-directory entries holding data only (never a mount point).
_DATA_DIRS = ('images', 'glance-local', 'glance', 'cinder', 'mariadb',
              'rabbitmq', 'redis')


class E2EStack:
    """Everything of one end-to-end run under ``run_dir``."""

    def __init__(self, run_dir: str, venv: str):
        self.run_dir = os.path.abspath(run_dir)
        self.venv = os.path.abspath(venv)
        self.storage = storage.Storage(self.run_dir, self.venv)
        self.mariadb = mariadb.MariaDB(self.run_dir)
        self.rabbit: rabbit.RabbitMQ | None = None
        self.redis = redis_svc.Redis(self.run_dir)
        self.glance: glance_svc.Glance | None = None
        self.cinder: cinder_svc.Cinder | None = None
        self.volume: cinder_svc.VolumeService | None = None
        self.timings: dict[str, float] = {}
        self.swept: list[str] = []
        self._exit = contextlib.ExitStack()

    # ------------------------------------------------------------ start
    def start(self) -> 'E2EStack':
        started = time.monotonic()
        try:
            self._clean_run_dir()
            self._check_installed_plugin()
            self._exit.callback(self.storage.stop)
            self.storage.start()
            self._exit.callback(self.mariadb.stop)
            self.mariadb.start()
            self._configure()
            self._db_sync()
            self._start_services()
        except BaseException:
            self.stop()
            raise
        self.timings['start'] = time.monotonic() - started
        return self

    def _clean_run_dir(self) -> None:
        if os.path.isdir(self.run_dir):
            self.swept = procs.sweep(self.run_dir) + storage.sweep_mounts(
                self.run_dir)
            for what in self.swept:
                LOG.warning('removed %s left by an earlier run', what)
            shutil.rmtree(self.run_dir)
        os.makedirs(os.path.join(self.run_dir, 'logs'))
        os.chmod(self.run_dir, 0o700)

    def _check_installed_plugin(self) -> None:
        """cinder-volume must import the plugin pip installed into the
        environment, not this checkout."""
        out = subprocess.run(
            [os.path.join(self.venv, 'bin', 'python'), '-c',
             'import netapp_eic; print(netapp_eic.__file__)'],
            env=procs.service_env(), cwd=self.run_dir, capture_output=True,
            text=True, check=False)
        path = out.stdout.strip()
        if out.returncode != 0 or os.sep + 'site-packages' + os.sep not in (
                path):
            raise procs.ProcessError(
                'netapp_eic is not installed in %s (found %r, %s); run '
                'bash tools/quickstart e2e' % (self.venv, path,
                                               out.stderr.strip()[-300:]))

    def _configure(self) -> None:
        self.rabbit = rabbit.RabbitMQ(self.run_dir)
        self.glance = glance_svc.Glance(
            self.run_dir, self.venv, self._stores(),
            notification_url=self.rabbit.transport_url)
        self.glance.configure()
        netapp = self.storage.netapp_options()
        backends = [
            # As README recommends: Glance's FlexVols mounted beside the
            # pools, so a File Copy's source is hashed while ONTAP copies.
            cinder_svc.Backend(EIC, EIC_DRIVER,
                               [storage.share(v) for v in storage.EIC_POOLS],
                               dict(netapp, netapp_eic_image_shares=','.join(
                                   storage.Storage.image_shares()))),
            cinder_svc.Backend(INTREE, INTREE_DRIVER,
                               [storage.share(v) for v in
                                storage.INTREE_POOLS], netapp),
        ]
        self.mariadb.wait_ready()
        self.cinder = cinder_svc.Cinder(
            self.run_dir, self.venv, self.rabbit.transport_url,
            self.mariadb.create_database('cinder'), self.glance.url,
            backends, self.storage.mount_point_base, self.storage.bin_dir,
            self.redis.url)
        self.cinder.configure()

    def _stores(self) -> list[glance_svc.Store]:
        stores = []
        for name, (flexvol, subdir) in STORES.items():
            if flexvol is None:
                stores.append(glance_svc.Store(name, os.path.join(
                    self.run_dir, 'glance-local')))
                continue
            mountpoint = self.storage.flexvol_dir(flexvol)
            stores.append(glance_svc.Store(
                name, os.path.join(mountpoint, subdir).rstrip(os.sep),
                (mountpoint, 'nfs://%s/%s' % (storage.lif_of(flexvol),
                                              flexvol))))
        return stores

    def _db_sync(self) -> None:
        """Both schema migrations at once."""
        assert self.glance is not None and self.cinder is not None
        started = time.monotonic()
        syncs = [self.glance.db_sync(), self.cinder.db_sync()]
        try:
            for sync in syncs:
                sync.start()
            for sync in syncs:
                sync.wait_done()
        finally:
            for sync in syncs:
                sync.stop()
        # Glance keeps SQLite (one writer: the image uploads). In WAL mode
        # its readers never block that writer's commit.
        with contextlib.closing(sqlite3.connect(self.glance.database)) as db:
            db.execute('PRAGMA journal_mode=WAL')
        self.timings['db sync'] = time.monotonic() - started

    def _start_services(self) -> None:
        """RabbitMQ, Glance, cinder-api and -scheduler start together
        (Redis, their lock store, just before: it is ready at once);
        cinder-volume once the shares are mounted and RabbitMQ answers.
        The timings say when each was ready, from the first start."""
        assert self.rabbit and self.glance and self.cinder
        started = time.monotonic()
        self._exit.callback(self.redis.stop)
        self.redis.start()
        self._exit.callback(self.rabbit.stop)
        self.rabbit.start()
        self.redis.wait_ready()
        self._exit.callback(self.glance.stop)
        self.glance.start()
        self._exit.callback(self.cinder.stop)
        self.cinder.start_api_and_scheduler()
        self.rabbit.wait_ready()
        self.timings['rabbitmq up'] = time.monotonic() - started
        self.cinder.wait_scheduler()
        self.timings['scheduler up'] = time.monotonic() - started
        self.volume = self.cinder.add_volume_service('e2e')
        self.glance.wait_ready()
        self.timings['glance up'] = time.monotonic() - started
        self.cinder.wait_ready()
        self.timings['cinder up'] = time.monotonic() - started

    # ------------------------------------------------------------ stop
    def stop(self) -> None:
        """Stop everything started, newest first. Ctrl-C is ignored while
        this runs, so that a second one cannot leave half of it behind."""
        in_main = _in_main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if (
            in_main) else None
        started = time.monotonic()
        try:
            self._exit.close()
            self._prune()
        finally:
            self.timings['stop'] = time.monotonic() - started
            if in_main:
                signal.signal(signal.SIGINT, previous)

    def _prune(self) -> None:
        """Remove the bulky data of the stopped services (images, database,
        broker state); configuration and logs stay for a post-mortem.
        Only directories that are never mount points are touched."""
        for name in _DATA_DIRS:
            shutil.rmtree(os.path.join(self.run_dir, name),
                          ignore_errors=True)

    # ------------------------------------------------------------ facts
    def processes(self) -> list[int]:
        """PIDs of every live process of the stack's services."""
        pids: list[int] = []
        for service in self._services():
            if service.pid is not None:
                pids += list(procs.family(service.pid))
        return pids

    def _services(self) -> list[procs.Service]:
        services = [self.storage.sim_service, self.mariadb.service,
                    self.redis.service]
        if self.rabbit is not None:
            services += [self.rabbit.epmd, self.rabbit.server]
        if self.glance is not None:
            services.append(self.glance.service)
        if self.cinder is not None:
            services += self.cinder.services
        return [s for s in services if s is not None]

    def memory(self) -> dict[str, float]:
        """Resident memory of the stack's processes, in MiB: the sum of
        RSS (shared pages counted per process) and of PSS."""
        rss = pss = 0
        pids = self.processes()
        for pid in pids:
            rss += _status_kib(pid, 'VmRSS')
            pss += _rollup_kib(pid, 'Pss')
        return {'processes': len(pids), 'rss_mib': rss / 1024.0,
                'pss_mib': pss / 1024.0}


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _status_kib(pid: int, key: str) -> int:
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _rollup_kib(pid: int, key: str) -> int:
    try:
        with open('/proc/%d/smaps_rollup' % pid) as rollup:
            for line in rollup:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0
