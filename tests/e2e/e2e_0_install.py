# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The plugin as an operator installs it: ``pip install .[simulator]``
into an environment with Cinder from PyPI (the end-to-end environment,
built by ``bash tools/quickstart e2e``). Every console script and every
command's ``--help`` work from there, without a configuration file, and
Cinder finds the driver and the weigher through their import paths and
entry points."""

import os
import subprocess

import pytest

COMMANDS = ([], ['doctor'], ['explain'], ['bench'], ['cache', 'list'],
            ['cache', 'warm'], ['cache', 'evict'])


def _run(venv, tmp_path, *argv):
    # Run from an empty directory, so that the installed package is
    # imported, not this checkout's sources.
    return subprocess.run([os.path.join(venv, 'bin', argv[0]), *argv[1:]],
                          cwd=tmp_path, text=True, capture_output=True,
                          timeout=120, check=False)


@pytest.mark.parametrize('command', COMMANDS, ids=' '.join)
def test_every_command_help_works_from_the_installed_wheel(e2e_venv,
                                                           tmp_path, command):
    result = _run(e2e_venv, tmp_path, 'netapp-eic', *command, '--help')
    assert result.returncode == 0, result.stderr
    usage = 'usage: netapp-eic %s' % ' '.join(command) if command else \
        'usage: netapp-eic'
    assert usage in result.stdout
    assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('script', ['netapp-eic-sim',
                                    'netapp-eic-copyoffload-sim'])
def test_simulator_scripts_help(e2e_venv, tmp_path, script):
    result = _run(e2e_venv, tmp_path, script, '--help')
    assert result.returncode == 0, result.stderr
    assert 'usage:' in result.stdout


def test_cinder_finds_the_installed_driver_and_weigher(e2e_venv, tmp_path):
    code = (
        'import importlib.metadata as m, netapp_eic, '
        'netapp_eic.driver as d, netapp_eic.options as o\n'
        'from cinder.scheduler import weights\n'
        'names = [w.__name__ for w in '
        'weights.OrderedHostWeightHandler("cinder.scheduler.weights")'
        '.get_all_classes()]\n'
        'print(netapp_eic.__file__)\n'
        'print(d.NetAppEicNfsDriver.VERSION, m.version("netapp-eic"))\n'
        'print("ImageCacheWeigher" in names, len(o.list_opts()) > 0)\n')
    result = _run(e2e_venv, tmp_path, 'python', '-c', code)
    assert result.returncode == 0, result.stderr
    location, versions, found = result.stdout.splitlines()
    assert location.startswith(os.path.join(e2e_venv, 'lib'))
    driver_version, package_version = versions.split()
    assert driver_version == package_version
    assert found == 'True True'
