# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder 29 api, scheduler and volume services: noauth, MariaDB, RabbitMQ.

One ``cinder.conf`` holds everything shared; each cinder-volume service
adds a small file of its own with its ``host``. Every volume service is a
member of one cluster (:data:`CLUSTER`) and the coordination backend is the
stack's Redis, so a second service with another ``host``, one more
:class:`VolumeService`, makes an active/active deployment: the scheduler
sends creates to the cluster's queue and either service takes them.
cinder-scheduler reads one more file, its weighers (:data:`SCHEDULER_MODES`).
Every service logs to its own file.

cinder-volume is started the way a root deployment without sudo must be:
privsep helpers run ``privsep-helper`` directly, the ``mount.nfs``
stand-in is first on its PATH, and none of the runner's CA-bundle
variables reach it (see :mod:`tests.e2e.procs`).
"""

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Mapping, Sequence

from tests.e2e import procs

# cinder-api accepts only project ids matching [0-9a-f-]+ in its URLs.
PROJECT = 'e2e0000000000000000000000000000e'
TOKEN = 'e2e:%s' % PROJECT
CLUSTER = 'e2e-cluster'
# Volume stats (pool capabilities, the image cache among them) reach the
# scheduler every STATS_SECONDS (Cinder's minimum is 3 s).
STATS_SECONDS = 3
# cinder-scheduler's weighers. ``cache-aware`` is the plugin's
# ImageCacheWeigher next to Cinder's default CapacityWeigher (the
# multiplier above CapacityWeigher's 1.0, so that a cached image wins over
# free space); ``capacity`` is Cinder's default alone.
SCHEDULER_CACHE_AWARE, SCHEDULER_CAPACITY = 'cache-aware', 'capacity'
SCHEDULER_MODES: dict[str, dict[str, object]] = {
    SCHEDULER_CACHE_AWARE: {
        'scheduler_default_weighers': 'CapacityWeigher,ImageCacheWeigher',
        'netapp_eic_image_cache_weight_multiplier': 2.0},
    SCHEDULER_CAPACITY: {'scheduler_default_weighers': 'CapacityWeigher'},
}


class Backend:
    """One ``enabled_backends`` entry: a section of cinder.conf."""

    def __init__(self, name: str, volume_driver: str, shares: Sequence[str],
                 options: Mapping[str, object]):
        self.name = name
        self.volume_driver = volume_driver
        self.shares = list(shares)
        self.options = dict(options)


class Cinder:
    """cinder-api and cinder-scheduler, and the volume services added."""

    def __init__(self, run_dir: str, venv: str, transport_url: str,
                 database_url: str, glance_url: str,
                 backends: Sequence[Backend], mount_point_base: str,
                 bin_dir: str, coordination_url: str):
        self.run_dir = run_dir
        self.coordination_url = coordination_url
        self.database_url = database_url
        self.venv = venv
        self.transport_url = transport_url
        self.glance_url = glance_url
        self.backends = list(backends)
        self.mount_point_base = mount_point_base
        self.bin_dir = bin_dir
        self.port = procs.free_port()
        self.etc = os.path.join(run_dir, 'etc', 'cinder')
        self.state = os.path.join(run_dir, 'cinder')
        self.logs = os.path.join(run_dir, 'logs')
        self.services: list[procs.Service] = []
        self.volume_services: list[VolumeService] = []
        #: Volume services started and stopped since (their logs stay).
        self.stopped_volume_services: list[VolumeService] = []
        self.scheduler_mode = SCHEDULER_CACHE_AWARE
        self.scheduler: procs.Service | None = None

    @property
    def url(self) -> str:
        """The Block Storage v3 endpoint (without project)."""
        return 'http://127.0.0.1:%d/v3' % self.port

    @property
    def conf_file(self) -> str:
        return os.path.join(self.etc, 'cinder.conf')

    def _bin(self, name: str) -> str:
        return os.path.join(self.venv, 'bin', name)

    def configure(self) -> None:
        for path in (self.etc, self.logs, self.state,
                     os.path.join(self.state, 'locks'),
                     os.path.join(self.state, 'conversion')):
            os.makedirs(path, exist_ok=True)
        shutil.copy(os.path.join(self.venv, 'etc', 'cinder',
                                 'api-paste.ini'), self.etc)
        # The NetApp client opens this SSH known-hosts file even unused.
        open(os.path.join(self.state, 'ssh_known_hosts'), 'a').close()
        helper = '%s --config-file %s' % (self._bin('privsep-helper'),
                                          self.conf_file)
        sections: dict[str, dict[str, object]] = {
            'DEFAULT': {
                'auth_strategy': 'noauth',
                'transport_url': self.transport_url,
                'host': 'e2e',
                'my_ip': '127.0.0.1',
                'osapi_volume_listen': '127.0.0.1',
                'osapi_volume_listen_port': self.port,
                'osapi_volume_workers': 1,
                'state_path': self.state,
                'api_paste_config': os.path.join(self.etc, 'api-paste.ini'),
                'glance_api_servers': self.glance_url,
                'image_conversion_dir': os.path.join(self.state,
                                                     'conversion'),
                'enabled_backends': ','.join(b.name for b in self.backends),
                'cluster': CLUSTER,
                'backend_stats_polling_interval': STATS_SECONDS,
                'periodic_interval': 1,
                'periodic_fuzzy_delay': 0,
                'debug': True,
            },
            'database': {'connection': self.database_url},
            'oslo_concurrency': {'lock_path': os.path.join(self.state,
                                                           'locks')},
            'coordination': {'backend_url': self.coordination_url},
            # As root without sudo: the privsep daemons start directly.
            'privsep_osbrick': {'helper_command': helper},
            'cinder_sys_admin': {'helper_command': helper},
            # The service credentials Cinder uses for Glance's locations
            # API. With auth_strategy = noauth Cinder loads this plugin but
            # sends no token; Glance's policy (tests.e2e.glance_svc) grants
            # the call. A keystone deployment puts a service user here.
            'glance': {'auth_type': 'none'},
        }
        for backend in self.backends:
            sections[backend.name] = self._backend_section(backend)
        _write_conf(self.conf_file, sections)
        for mode, options in SCHEDULER_MODES.items():
            _write_conf(self._scheduler_conf(mode), {'DEFAULT': options})

    def _backend_section(self, backend: Backend) -> dict[str, object]:
        shares_file = os.path.join(self.etc, 'shares-%s' % backend.name)
        with open(shares_file, 'w') as f:
            f.write(''.join(share + '\n' for share in backend.shares))
        section: dict[str, object] = {
            'volume_driver': backend.volume_driver,
            'volume_backend_name': backend.name,
            'nfs_shares_config': shares_file,
            'nfs_mount_point_base': self.mount_point_base,
            'nas_secure_file_operations': False,
            'nas_secure_file_permissions': False,
        }
        section.update(backend.options)
        return section

    def db_sync(self) -> procs.Service:
        """The schema migration, a one-shot process (not started)."""
        return procs.Service('cinder-manage', [
            self._bin('cinder-manage'), '--config-file', self.conf_file,
            'db', 'sync'], self.run_dir)

    def _service(self, binary: str, name: str,
                 extra_args: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> procs.Service:
        service = procs.Service(name, [
            self._bin(binary), '--config-file', self.conf_file,
            *extra_args, '--log-file',
            os.path.join(self.logs, name + '.log')], self.run_dir, env=env)
        self.services.append(service)
        return service.start()

    def _scheduler_conf(self, mode: str) -> str:
        return os.path.join(self.etc, 'scheduler-%s.conf' % mode)

    def _start_scheduler(self) -> procs.Service:
        name = 'cinder-scheduler'
        if self.scheduler is not None:  # a replacement, beside the old one
            name += '-' + self.scheduler_mode
        self.scheduler = self._service('cinder-scheduler', name, [
            '--config-file', self._scheduler_conf(self.scheduler_mode)])
        return self.scheduler

    def start_api_and_scheduler(self) -> None:
        self._service('cinder-api', 'cinder-api')
        self._start_scheduler()

    def replace_scheduler(self, mode: str) -> float:
        """Put a cinder-scheduler with the weighers of ``mode`` in place of
        the running one; returns the seconds it took.

        A rolling restart: the new one starts, and only once it has
        received every backend's capabilities (it asks for them when it
        starts) does the old one stop. With no scheduler at all for a
        moment, RabbitMQ would drop the schedulers' fanout exchange and
        the volume services' periodic capability report would fail.
        """
        if mode not in SCHEDULER_MODES:
            raise ValueError('unknown scheduler mode %r' % mode)
        started = time.monotonic()
        old = self.scheduler
        assert old is not None
        self.scheduler_mode = mode
        new = self._start_scheduler()
        # In the old one's place: stop() takes the volume services first.
        self.services.remove(new)
        self.services.insert(self.services.index(old), new)
        log = os.path.join(self.logs, new.name + '.log')
        wanted = ['from Cluster: %s@%s ' % (CLUSTER, b.name)
                  for b in self.backends]

        def received() -> bool:
            with open(log, errors='replace') as text:
                found = [line for line in text
                         if _CAPABILITIES_RECEIVED in line]
            return all(any(w in line for line in found) for w in wanted)
        new.wait_until(received, 'capabilities of %s' % wanted)
        old.stop()
        self.services.remove(old)
        self.wait_ready()
        return time.monotonic() - started

    def add_volume_service(self, host: str = 'e2e') -> 'VolumeService':
        """Start one more cinder-volume with ``host`` (all backends)."""
        override = os.path.join(self.etc, 'volume-%s.conf' % host)
        with open(override, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\n' % host)
        name = 'cinder-volume' if host == 'e2e' else 'cinder-volume-' + host
        path = self.bin_dir + os.pathsep + os.environ.get('PATH', '')
        service = self._service('cinder-volume', name,
                                ['--config-file', override], {'PATH': path})
        volume_service = VolumeService(host, service,
                                       [b.name for b in self.backends])
        self.volume_services.append(volume_service)
        return volume_service

    def stop_volume_service(self, volume_service: 'VolumeService') -> None:
        """Stop one cinder-volume (its log stays readable). In the cluster
        the others go on taking its queue's messages."""
        volume_service.service.stop()
        if volume_service.service in self.services:  # not yet by stop()
            self.services.remove(volume_service.service)
        if volume_service in self.volume_services:
            self.volume_services.remove(volume_service)
            self.stopped_volume_services.append(volume_service)

    @property
    def volume_logs(self) -> list[str]:
        """The logs of every volume service started, running or not."""
        return [v.log_path for v in
                self.volume_services + self.stopped_volume_services]

    def wait_scheduler(self, timeout: float = 120.0) -> float:
        """Seconds until cinder-api answers and the scheduler serves RPC
        (``get_pools`` is a call to it). cinder-volume must start only
        then: the capabilities it publishes when it starts would be lost
        on a scheduler not yet consuming, and the pools would stay unknown
        until its next report a minute later."""
        def answered() -> bool:
            self.request('scheduler-stats/get_pools', timeout=3)
            return True
        return self.services[0].wait_until(answered, 'get_pools answered',
                                           timeout)

    def request(self, path: str, timeout: float = 10) -> dict:
        """GET ``<v3>/<project>/<path>`` (readiness probes only; the
        scenarios use python-cinderclient)."""
        req = urllib.request.Request(
            '%s/%s/%s' % (self.url, PROJECT, path),
            headers={'X-Auth-Token': TOKEN, 'Accept': 'application/json'})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return dict(json.load(resp))

    def pools(self) -> dict[str, dict]:
        """The scheduler's pools with their capabilities, by name
        (``<cluster>@<backend>#<pool>``)."""
        pools = self.request('scheduler-stats/get_pools?detail=true')
        return {p['name']: p['capabilities'] for p in pools['pools']}

    def _ready(self) -> bool:
        services = self.request('os-services')['services']
        up = {(s['binary'], s['host']) for s in services
              if s['state'] == 'up' and s['status'] == 'enabled'}
        wanted = {('cinder-scheduler', 'e2e')} | {
            ('cinder-volume', '%s@%s' % (v.host, b))
            for v in self.volume_services for b in v.backends}
        if not wanted <= up or not all(
                v.rpc_ready() for v in self.volume_services):
            return False
        # A cluster's pools are named after the cluster, not the host.
        hosts = {name.split('#')[0] for name in self.pools()}
        return {'%s@%s' % (CLUSTER, b) for v in self.volume_services
                for b in v.backends} <= hosts

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until every service is up and every backend reported
        its pools to the scheduler."""
        api = self.services[0]

        def ready() -> bool:
            for service in self.services:
                service.check_alive()
            try:
                return self._ready()
            except OSError:
                return False
        return api.wait_until(ready, 'services up, pools reported', timeout)

    def stop(self) -> None:
        """Volume services first (they may be mid-create), then the rest,
        all before RabbitMQ stops (else they hang reconnecting)."""
        errors = []
        for service in reversed(self.services):
            try:
                service.stop()
            except procs.ProcessError as e:
                errors.append(str(e))
        self.services = []
        if errors:
            raise procs.ProcessError('; '.join(errors))


# What cinder-scheduler logs (debug) of each capability report it takes.
_CAPABILITIES_RECEIVED = 'Received volume service update from'
# What each backend process of cinder-volume logs once its RPC servers,
# the cluster's among them, consume.
_RPC_READY = 'Driver post RPC initialization completed successfully.'


def _write_conf(path: str, sections: Mapping[str, Mapping[str, object]]
                ) -> None:
    with open(path, 'w') as f:
        for name, options in sections.items():
            f.write('[%s]\n' % name)
            for key, value in options.items():
                f.write('%s = %s\n' % (key, value))
    os.chmod(path, 0o600)


class VolumeService:
    """A cinder-volume process: ``host`` and the backends it serves."""

    def __init__(self, host: str, service: procs.Service,
                 backends: Sequence[str]):
        self.host = host
        self.service = service
        self.backends = list(backends)

    @property
    def log_path(self) -> str:
        return os.path.join(os.path.dirname(self.service.log_path),
                            self.service.name + '.log')

    def rpc_ready(self) -> bool:
        """Whether every backend process takes RPC messages (its service
        row, which the API lists, exists before its queues do)."""
        try:
            with open(self.log_path, errors='replace') as log:
                done = sum(1 for line in log if _RPC_READY in line)
        except FileNotFoundError:
            return False
        return done >= len(self.backends)
