# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The driver's wheel: what an operator installs into cinder-volume.

It must hold the driver, the core, the ONTAP client and the simulator, and
nothing of the test harness (loop devices, mkfs, bind mounts).
"""

import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HARNESS_COMMANDS = ("'losetup'", "'mkfs.xfs'", "'mount'", "'umount'")


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                    '-q', '-w', str(out), ROOT],
                   check=True, capture_output=True, timeout=300)
    [name] = [n for n in os.listdir(out) if n.endswith('.whl')]
    with zipfile.ZipFile(out / name) as archive:
        yield {n: archive.read(n).decode() for n in archive.namelist()
               if n.endswith('.py')}


def test_wheel_holds_the_driver_side_and_the_simulator(wheel):
    for module in ('netapp_eic/driver.py', 'netapp_eic/core/engine.py',
                   'netapp_eic/ontap/client.py',
                   'netapp_eic/simulator/__main__.py'):
        assert module in wheel


def test_wheel_holds_nothing_of_the_harness(wheel):
    assert not [n for n in wheel if n.startswith(('netapp_eic_testing/',
                                                  'tests/'))]
    runs_harness_commands = [
        name for name, text in wheel.items()
        if any(command in text for command in HARNESS_COMMANDS)]
    assert runs_harness_commands == []
