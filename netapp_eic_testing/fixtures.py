# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""testtools fixtures over the harness, for the functional tests.

:class:`StackFixture` starts one :class:`~netapp_eic_testing.stack.Stack`
(data root, simulator over HTTPS, mounted shares, Glance stand-in) in a
temporary directory and stops it on cleanup, also when setUp fails half-way;
drivers built with ``fixture.stack.driver(...)`` have their periodic tasks
stopped with it.
"""

import os

import fixtures
from testtools import content

from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import glance as glance_mod
from netapp_eic_testing import stack as stack_mod


class StackFixture(fixtures.Fixture):
    """A started :class:`Stack` as ``self.stack``.

    :param standin_on_path: put the ``mount.nfs`` stand-in first on PATH.
    Other keyword arguments go to :class:`Stack`.
    """

    def __init__(self, standin_on_path=False,
                 location_style=glance_mod.LOCATION_FILE, **stack_kwargs):
        super().__init__()
        self.standin_on_path = standin_on_path
        self.stack_kwargs = dict(stack_kwargs, location_style=location_style)
        self.stack = None

    def _setUp(self):
        base_dir = self.useFixture(fixtures.TempDir()).path
        stack = stack_mod.Stack(base_dir=base_dir, **self.stack_kwargs)
        self.addCleanup(stack.stop)
        stack.start()
        self.stack = stack
        if self.standin_on_path:
            self.useFixture(fixtures.EnvironmentVariable(
                'PATH', stack.bin_dir + os.pathsep + os.environ.get(
                    'PATH', '')))
        self.addDetail('storage', content.text_content(stack.describe()))


class InProcessPrivsepFixture(fixtures.Fixture):
    """Run the few privsep entry points the NFS drivers use in-process.

    Cinder's TestCase forbids starting a privsep daemon (it raises "You
    have attempted to start a privsep helper"); the harness runs as root
    anyway, so ``cinder.privsep.path.touch`` (used by the NetApp driver to
    refresh NFS directory caches) and the format inspector behind
    ``image_utils.qemu_img_info`` run the same code directly. Only this
    privsep boundary is replaced; nothing is faked. Without root, Cinder's
    ``run_as_root`` commands (``qemu-img``) would go through ``sudo
    cinder-rootwrap``, which is not set up here: they run as this user
    (:func:`netapp_eic_testing.cinder.root_commands_as_user`).
    """

    def _setUp(self):
        from cinder.privsep import format_inspector
        if os.geteuid() != 0:
            self.useFixture(fixtures.MonkeyPatch(
                'cinder.utils.get_root_helper',
                cinder_mod.root_helper_as_user))
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
