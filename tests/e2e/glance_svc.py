# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance 33 under gunicorn: noauth, sqlite, file stores on FlexVols.

Glance has no standalone server any more; ``glance.wsgi.api:application``
runs under gunicorn and reads ``glance-api.conf`` from
``$OS_GLANCE_CONFIG_DIR``. Every store is a ``file`` store of the
multi-store configuration; an NFS store has a
``filesystem_store_metadata_file`` mapping its directory (the FlexVol as
Glance's host sees it) to ``nfs://<ip>/<junction>``, which is what Cinder's
NetApp drivers read from the image's locations.

Two ways for Cinder to get those locations, one per :data:`MODES` entry:

* ``api``: Glance's locations API (``GET /v2/images/<id>/locations``,
  service role by default). With noauth every request is the same
  role-less context, so the policy grants it to everyone; the image
  records themselves show no locations.
* ``legacy``: ``show_multiple_locations`` and ``show_image_direct_url``,
  the locations API left at its default policy (Cinder gets a 403 there
  and falls back to the image record).

With ``notification_url``, Glance sends its notifications there
(``messagingv2``), as an operator enables them for ``netapp-eic agent``.
"""

import json
import os
import shutil
import urllib.request

from tests.e2e import procs

MODE_API = 'api'
MODE_LEGACY = 'legacy'
MODES = (MODE_API, MODE_LEGACY)


class Store:
    """A Glance file store.

    :param datadir: where Glance writes the image files.
    :param share: ``(mountpoint, 'nfs://ip/junction')`` for an NFS store
        (``mountpoint`` is the FlexVol directory as Glance sees it), None
        for a store on a local disk.
    """

    def __init__(self, name: str, datadir: str,
                 share: tuple[str, str] | None = None):
        self.name = name
        self.datadir = datadir
        self.share = share


class Glance:
    """glance-api on ``url`` once started."""

    def __init__(self, run_dir: str, venv: str, stores: list[Store],
                 mode: str = MODE_API,
                 notification_url: str | None = None):
        self.run_dir = run_dir
        self.venv = venv
        self.stores = stores
        self.mode = mode
        #: Where Glance sends its notifications (oslo.messaging
        #: ``messagingv2``, exchange ``glance``, topic ``notifications``):
        #: the stack's RabbitMQ, for ``netapp-eic agent``. None: none sent
        #: (Glance's default, ``noop``).
        self.notification_url = notification_url
        self.port = procs.free_port()
        self.etc = os.path.join(run_dir, 'etc', 'glance')
        self.data = os.path.join(run_dir, 'glance')
        self.logs = os.path.join(run_dir, 'logs')
        self.access_log = os.path.join(self.logs, 'glance-access.log')
        self.service: procs.Service | None = None

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d' % self.port

    @property
    def database(self) -> str:
        return os.path.join(self.data, 'glance.sqlite')

    @property
    def conf_file(self) -> str:
        return os.path.join(self.etc, 'glance-api.conf')

    def _env(self) -> dict[str, str]:
        return {'OS_GLANCE_CONFIG_DIR': self.etc}

    def configure(self) -> None:
        """Write the configuration for :attr:`mode` (stores included)."""
        if self.mode not in MODES:
            raise ValueError('Glance mode must be one of %s' % (MODES,))
        for path in (self.etc, self.logs, os.path.join(self.data, 'locks'),
                     os.path.join(self.data, 'staging'),
                     os.path.join(self.data, 'tasks')):
            os.makedirs(path, exist_ok=True)
        shutil.copy(os.path.join(self.venv, 'etc', 'glance',
                                 'glance-api-paste.ini'), self.etc)
        legacy = self.mode == MODE_LEGACY
        policy = os.path.join(self.etc, 'policy.json')
        with open(policy, 'w') as f:
            json.dump({} if legacy else {'fetch_image_location': '@'}, f)
        lines = [
            '[DEFAULT]',
            'enabled_backends = %s' % ', '.join(
                '%s:file' % s.name for s in self.stores),
            'show_multiple_locations = %s' % legacy,
            'show_image_direct_url = %s' % legacy,
            'enabled_import_methods = []',
            'log_file = %s' % os.path.join(self.logs, 'glance-api.log'),
            '[database]',
            'connection = sqlite:///%s' % self.database,
            '[paste_deploy]',
            'config_file = %s' % os.path.join(self.etc,
                                              'glance-api-paste.ini'),
            '[glance_store]',
            'default_backend = %s' % self.stores[0].name,
            '[os_glance_staging_store]',
            'filesystem_store_datadir = %s' % os.path.join(self.data,
                                                           'staging'),
            '[os_glance_tasks_store]',
            'filesystem_store_datadir = %s' % os.path.join(self.data,
                                                           'tasks'),
            '[oslo_concurrency]',
            'lock_path = %s' % os.path.join(self.data, 'locks'),
            '[oslo_policy]',
            # noauth gives a role-less context: the new defaults refuse it.
            'enforce_new_defaults = False',
            'policy_file = %s' % policy,
        ]
        if self.notification_url:
            lines += ['[oslo_messaging_notifications]',
                      'driver = messagingv2',
                      'transport_url = %s' % self.notification_url]
        for store in self.stores:
            os.makedirs(store.datadir, exist_ok=True)
            lines += ['[%s]' % store.name,
                      'filesystem_store_datadir = %s' % store.datadir]
            if store.share is not None:
                lines.append('filesystem_store_metadata_file = %s'
                             % self._metadata_file(store))
        with open(self.conf_file, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _metadata_file(self, store: Store) -> str:
        assert store.share is not None
        mountpoint, share_location = store.share
        path = os.path.join(self.etc, 'store-%s.json' % store.name)
        with open(path, 'w') as f:
            json.dump({'id': store.name, 'mountpoint': mountpoint,
                       'type': 'nfs', 'share_location': share_location}, f)
        return path

    def db_sync_argv(self) -> list[str]:
        return [os.path.join(self.venv, 'bin', 'glance-manage'),
                '--config-file', self.conf_file, 'db_sync']

    def db_sync(self) -> procs.Service:
        """The schema migration, a one-shot process (not started)."""
        return procs.Service('glance-manage', self.db_sync_argv(),
                             self.run_dir, env=self._env())

    def start(self) -> None:
        self.service = procs.Service('glance-api', [
            os.path.join(self.venv, 'bin', 'gunicorn'),
            '--bind', '127.0.0.1:%d' % self.port, '--workers', '1',
            '--worker-class', 'gthread', '--threads', '8',
            '--timeout', '600', '--no-control-socket',
            '--access-logfile', self.access_log,
            'glance.wsgi.api:application'], self.run_dir, env=self._env())
        self.service.start()

    def _answers(self) -> bool:
        with urllib.request.urlopen(self.url + '/v2/images',
                                    timeout=5) as resp:
            return bool(resp.status == 200)

    def wait_ready(self, timeout: float = 120.0) -> float:
        assert self.service is not None
        return self.service.wait_until(self._answers, 'GET /v2/images',
                                       timeout)

    def restart(self, mode: str) -> float:
        """Stop, reconfigure for ``mode``, start; seconds until ready."""
        self.stop()
        self.mode = mode
        self.configure()
        self.start()
        return self.wait_ready()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def location_requests(self, image_id: str) -> list[int]:
        """HTTP statuses of ``GET /v2/images/<id>/locations`` so far, from
        gunicorn's access log (what Cinder's get_location tried first)."""
        needle = 'GET /v2/images/%s/locations ' % image_id
        statuses = []
        with open(self.access_log, errors='replace') as log:
            for line in log:
                if needle in line:
                    after = line.split(needle, 1)[1]
                    # ... HTTP/1.1" 200 1234 ...
                    statuses.append(int(after.split('"', 1)[1].split()[0]))
        return statuses
