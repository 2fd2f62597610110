# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder 29 api, scheduler and volume services: noauth, MariaDB, RabbitMQ.

One ``cinder.conf`` holds everything shared; each cinder-volume service
adds a small file of its own with its ``host`` (a second service with
another ``host`` is one more :class:`VolumeService`, as the active/active
configuration will need). Every service logs to its own file.

cinder-volume is started the way a root deployment without sudo must be:
privsep helpers run ``privsep-helper`` directly, the ``mount.nfs``
stand-in is first on its PATH, and none of the runner's CA-bundle
variables reach it (see :mod:`tests.e2e.procs`).
"""

import json
import os
import shutil
import urllib.request
from collections.abc import Mapping, Sequence

from tests.e2e import procs

# cinder-api accepts only project ids matching [0-9a-f-]+ in its URLs.
PROJECT = 'e2e0000000000000000000000000000e'
TOKEN = 'e2e:%s' % PROJECT


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
                 bin_dir: str):
        self.run_dir = run_dir
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
                'debug': True,
            },
            'database': {'connection': self.database_url},
            'oslo_concurrency': {'lock_path': os.path.join(self.state,
                                                           'locks')},
            'coordination': {'backend_url': 'file://%s' % os.path.join(
                self.state, 'coordination')},
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
        with open(self.conf_file, 'w') as f:
            for name, options in sections.items():
                f.write('[%s]\n' % name)
                for key, value in options.items():
                    f.write('%s = %s\n' % (key, value))
        os.chmod(self.conf_file, 0o600)

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

    def start_api_and_scheduler(self) -> None:
        self._service('cinder-api', 'cinder-api')
        self._service('cinder-scheduler', 'cinder-scheduler')

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

    def _ready(self) -> bool:
        services = self.request('os-services')['services']
        up = {(s['binary'], s['host']) for s in services
              if s['state'] == 'up' and s['status'] == 'enabled'}
        wanted = {('cinder-scheduler', 'e2e')} | {
            ('cinder-volume', '%s@%s' % (v.host, b))
            for v in self.volume_services for b in v.backends}
        if not wanted <= up:
            return False
        pools = self.request('scheduler-stats/get_pools')['pools']
        hosts = {p['name'].split('#')[0] for p in pools}
        return {w[1] for w in wanted if w[0] == 'cinder-volume'} <= hosts

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
