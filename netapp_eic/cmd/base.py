# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What the commands share: the backend's configuration, the host view of
its mounts, and output that never shows a secret.

:func:`load_backend` parses ``cinder.conf`` into Cinder's global ``CONF``
exactly as cinder-volume does (same option registrations, same search for
the default file) and returns the backend stanza's ``Configuration``.
"""

import argparse
import base64
import collections.abc
import contextlib
import dataclasses
import logging
import os
import typing

from cliff import lister

from netapp_eic import backend as backend_mod
from netapp_eic import exception

LOG = logging.getLogger(__name__)


#: ``requests`` lets these override the CA bundle a client was given
#: (``netapp_ssl_cert_path``); the command line drops them at start and
#: ``doctor`` says they were set.
CA_ENVIRONMENT = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')
ignored_environment: dict[str, str] = {}


def drop_ca_environment() -> None:
    for name in CA_ENVIRONMENT:
        value = os.environ.pop(name, None)
        if value is not None:
            ignored_environment[name] = value


class CommandError(Exception):
    """A command cannot run; the message says why (exit status 1)."""


@dataclasses.dataclass
class Backend:
    """One backend stanza of cinder.conf, read."""

    name: str
    config: typing.Any
    conf: typing.Any
    config_files: list[str]

    def secrets(self) -> list[str]:
        """Values that must never be shown: the ONTAP password and its
        HTTP basic authorization token."""
        password = self.config.safe_get('netapp_password')
        if not password:
            return []
        login = self.config.safe_get('netapp_login') or ''
        token = base64.b64encode(
            ('%s:%s' % (login, password)).encode()).decode()
        return [password, token]

    def raw_option(self, name: str) -> str | None:
        """An option of the stanza as written in the files, for options
        this program does not register (``volume_driver`` belongs to
        Cinder's volume manager)."""
        from oslo_config import cfg
        value = None
        for path in self.config_files:
            sections: dict[str, dict[str, list[str]]] = {}
            cfg.ConfigParser(path, sections).parse()
            values = sections.get(self.name, {}).get(name)
            if values:
                value = values[-1]
        return value

    def shares(self) -> list[str]:
        path = self.config.safe_get('nfs_shares_config')
        if not path:
            raise CommandError('nfs_shares_config is not set in [%s]'
                               % self.name)
        try:
            return backend_mod.read_shares(path)
        except OSError as e:
            raise CommandError('cannot read nfs_shares_config %s: %s' % (
                path, e.strerror)) from e

    def image_shares(self) -> list[str]:
        """``netapp_eic_image_shares``: Glance's FlexVols mounted at
        start."""
        return list(self.config.safe_get('netapp_eic_image_shares') or [])

    def mount_point(self, share: str) -> str:
        return backend_mod.mount_point(
            self.config.safe_get('nfs_mount_point_base'), share)

    def settings(self) -> typing.Any:
        return backend_mod.settings_from(
            self.config, bool(self.conf.image_conversion_disable),
            self.conf.state_path)

    def ontap_client(self) -> typing.Any:
        from netapp_eic import ontap
        return ontap.OntapClient.from_configuration(self.config)


def load_backend(config_files: list[str], config_dir: str | None,
                 name: str | None) -> Backend:
    """Parse the configuration as cinder-volume does and pick the stanza.

    :raises CommandError: unreadable files, no such stanza, or no stanza
        named and not exactly one in ``enabled_backends``.
    """
    try:
        from cinder.common import config as cinder_config
    except ImportError as e:
        raise CommandError('Cinder is not installed in this Python '
                           'environment (%s); netapp-eic reads the backend '
                           'configuration with Cinder\'s own options, so '
                           'run it where cinder-volume runs' % e) from e
    # image_utils first: importing cinder.image.glance on its own is a
    # circular import in Cinder.
    from cinder.image import image_utils  # noqa: F401 - conversion opts
    from cinder.image import glance  # noqa: F401 - [glance]
    from cinder import coordination  # noqa: F401 - [coordination]
    from oslo_config import cfg
    conf = cinder_config.CONF
    for path in config_files:
        if not os.path.isfile(path):
            raise CommandError('configuration file %s not found' % path)
    args: list[str] = []
    for path in config_files:
        args += ['--config-file', path]
    if config_dir:
        args += ['--config-dir', config_dir]
    try:
        conf(args, project='cinder',
             default_config_files=[] if config_files else None)
    except cfg.Error as e:
        raise CommandError('cannot read the configuration: %s' % e) from e
    _register_cluster_opt(conf)
    used = list(conf.config_file or [])
    if config_dir:
        used += sorted(os.path.join(config_dir, n)
                       for n in os.listdir(config_dir) if n.endswith('.conf'))
    name = name or _only_backend(conf, used)
    if name not in conf.list_all_sections():
        raise CommandError('no section [%s] in %s' % (
            name, ', '.join(used) or 'any configuration file'))
    return Backend(name, backend_mod.configuration(name), conf, used)


def _register_cluster_opt(conf: typing.Any) -> None:
    """``[DEFAULT] cluster`` (active/active) is registered by
    ``cinder.cmd.volume``, which cannot be imported here (it patches the
    process for the service); register it when it is missing."""
    from oslo_config import cfg
    if 'cluster' not in conf:
        conf.register_opt(cfg.StrOpt(
            'cluster', help='Name of the cluster of cinder-volume hosts '
                            'serving a backend active/active.'))


def _only_backend(conf: typing.Any, used: list[str]) -> str:
    enabled = list(conf.enabled_backends or [])
    if len(enabled) == 1:
        return str(enabled[0])
    if not used:
        raise CommandError('no configuration file found: pass '
                           '--config-file /etc/cinder/cinder.conf')
    raise CommandError('pass --backend: enabled_backends lists %s' % (
        ', '.join(enabled) or 'no backend'))


class Redactor(logging.Filter):
    """Replaces secrets by ``***`` in log records and output cells."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[str] = []

    def add(self, secrets: collections.abc.Iterable[str]) -> None:
        self._secrets.extend(s for s in secrets if s)

    def scrub(self, value: typing.Any) -> typing.Any:
        if not isinstance(value, str):
            return value
        for secret in self._secrets:
            value = value.replace(secret, '***')
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            scrubbed = self.scrub(message)
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


class MountHost:
    """:class:`~netapp_eic.core.host.Host` of a command that only reads:
    the backend's shares where os-brick mounts them on this host. Running
    commands, converting and locking are refused, so a plan computed
    through it cannot change anything."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._images = backend.image_shares()

    def mount_point(self, share: str) -> str:
        return self.backend.mount_point(share)

    def mounted_shares(self) -> collections.abc.Sequence[str]:
        mounted = backend_mod.mounted_paths()
        return [share for share in self.backend.shares() + self._images
                if self.mount_point(share) in mounted]

    def image_shares(self) -> collections.abc.Sequence[str]:
        mounted = backend_mod.mounted_paths()
        return [share for share in self._images
                if self.mount_point(share) in mounted]

    def mount_image_share(self, share: str) -> None:
        """Nothing is mounted here; a Glance FlexVol cinder-volume mounted
        on this host (where os-brick mounts it) is used as it is."""
        if self.mount_point(share) not in backend_mod.mounted_paths():
            self._refuse('mounting %s' % share)
        if share not in self._images:
            self._images.append(share)

    def _refuse(self, what: str) -> typing.NoReturn:
        raise exception.EicError(reason='%s refused: this command changes '
                                        'nothing' % what)

    def run(self, argv: collections.abc.Sequence[str],
            timeout: float | None = None) -> None:
        self._refuse('running %s' % argv[0])

    def convert_image(self, source: str, dest: str,
                      source_format: str) -> None:
        self._refuse('converting %s' % source)

    def lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        self._refuse('locking %s' % name)

    def forget_lock(self, name: str) -> None:
        self._refuse('forgetting lock %s' % name)

    def try_lock(self, name: str) -> contextlib.AbstractContextManager[bool]:
        self._refuse('locking %s' % name)


class EicApp(typing.Protocol):
    """What commands use of :class:`netapp_eic.cmd.main.NetAppEicApp`."""

    redactor: Redactor

    def backend(self) -> Backend:
        """The selected backend, read on first use."""


class EicLister(lister.Lister):
    """A listing whose cells pass through the app's :class:`Redactor`
    and whose exit status the command sets (``self.exit_status``)."""

    exit_status = 0

    @property
    def eic_app(self) -> EicApp:
        return typing.cast(EicApp, self.app)

    def produce_output(self, parsed_args: argparse.Namespace,
                       column_names: collections.abc.Sequence[str],
                       data: collections.abc.Iterable[typing.Any]) -> int:
        redactor = self.eic_app.redactor
        rows = [tuple(redactor.scrub(cell) for cell in row) for row in data]
        return int(super().produce_output(parsed_args, column_names, rows))

    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            super().run(parsed_args)
        except CommandError as e:
            LOG.error('%s', self.eic_app.redactor.scrub(str(e)))
            return 1
        return self.exit_status
