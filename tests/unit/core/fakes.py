# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The host interface the core's tests use: the package's own
:class:`~netapp_eic.cmd.localhost.LocalHost` (the simulator's FlexVol
directories as "mounts", commands without a shell, the real ``qemu-img``,
process locks), recording what the core asked of it. Nothing is mocked."""

import collections

from netapp_eic.cmd import localhost


class FakeHost(localhost.LocalHost):
    """LocalHost that records commands, conversions and lock use."""

    def __init__(self, shares, mounted):
        super().__init__(shares, mounted)
        self.commands = []
        self.conversions = []
        self.locks_taken = collections.Counter()
        self.forgotten = []

    def run(self, argv, timeout=None):
        # The driver's own bounded runner: a new process group, killed as
        # a whole on timeout.
        self.commands.append(list(argv))
        super().run(argv, timeout)

    def convert_image(self, source, dest, source_format):
        self.conversions.append((source, dest, source_format))
        super().convert_image(source, dest, source_format)

    def lock(self, name):
        self.locks_taken[name] += 1
        return super().lock(name)

    def forget_lock(self, name):
        self.forgotten.append(name)
        super().forget_lock(name)
