# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ``netapp-eic`` application and its command registry."""

import argparse
import logging
import sys
import typing

from cliff import app
from cliff import command
from cliff import commandmanager
from cliff import help

import netapp_eic
from netapp_eic.cmd import agent
from netapp_eic.cmd import base
from netapp_eic.cmd import bench
from netapp_eic.cmd import cache
from netapp_eic.cmd import doctor
from netapp_eic.cmd import explain

#: Every command, by name. Plugins may also add commands through the
#: ``netapp_eic.cli`` entry point namespace.
COMMANDS: dict[str, type[command.Command]] = {
    'doctor': doctor.Doctor,
    'explain': explain.Explain,
    'bench': bench.Bench,
    'cache list': cache.CacheList,
    'cache warm': cache.CacheWarm,
    'cache evict': cache.CacheEvict,
    'agent': agent.Agent,
    'agent status': agent.AgentStatus,
}

NAMESPACE = 'netapp_eic.cli'


class NetAppEicApp(app.App):
    """The application: global options select the configuration and the
    backend stanza; the configuration is read only when a command needs
    it, so that ``--help`` works anywhere."""

    NAME = 'netapp-eic'
    # Warnings and errors on stderr by default; -v adds the INFO lines
    # (progress of long copies), --debug tracebacks.
    DEFAULT_VERBOSE_LEVEL = 0

    def __init__(self) -> None:
        manager = commandmanager.CommandManager(NAMESPACE)
        for name, command_class in COMMANDS.items():
            manager.add_command(name, command_class)
        super().__init__(
            description='Check, explain and measure netapp-eic, the '
                        'Enhanced Instance Creation driver for Cinder on '
                        'NetApp ONTAP NFS.',
            version=netapp_eic.__version__,
            command_manager=manager,
            deferred_help=True)
        self.redactor = base.Redactor()
        self._backend: base.Backend | None = None

    def build_option_parser(
            self, description: str | None, version: str | None,
            argparse_kwargs: dict[str, typing.Any] | None = None
    ) -> argparse.ArgumentParser:
        parser = super().build_option_parser(description, version,
                                             argparse_kwargs)
        parser.add_argument(
            '--config-file', action='append', default=[],
            metavar='PATH',
            help='cinder.conf to read (repeatable, later files win); '
                 'default: what cinder-volume finds '
                 '(/etc/cinder/cinder.conf).')
        parser.add_argument(
            '--config-dir', metavar='DIR',
            help='directory of *.conf files read after --config-file.')
        parser.add_argument(
            '--backend', metavar='STANZA',
            help='the backend section of cinder.conf; default: the only '
                 'one in enabled_backends.')
        return parser

    def configure_logging(self) -> None:
        # oslo.log puts a handler on the root logger at import (Cinder's
        # config module registers its options); cliff's handlers replace
        # it, so that -v/-q/--debug decide what is shown.
        root = logging.getLogger('')
        for handler in list(root.handlers):
            root.removeHandler(handler)
        super().configure_logging()
        for handler in root.handlers:
            handler.addFilter(self.redactor)

    def backend(self) -> 'base.Backend':
        """The selected backend's configuration, read on first use."""
        if self._backend is None:
            self._backend = base.load_backend(
                self.options.config_file, self.options.config_dir,
                self.options.backend)
            self.redactor.add(self._backend.secrets())
        return self._backend


def main(argv: list[str] | None = None) -> int:
    """Console entry point of ``netapp-eic``."""
    base.drop_ca_environment()
    try:
        return int(NetAppEicApp().run(sys.argv[1:] if argv is None
                                      else argv))
    except help.HelpExit:
        return 0


if __name__ == '__main__':
    sys.exit(main())
