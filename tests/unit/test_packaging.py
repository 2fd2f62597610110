# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What is shipped: the wheel an operator installs into cinder-volume, the
sdist it is rebuilt from, and the sample configuration.

The wheel must hold the driver, the core, the ONTAP client, the command
line and the simulator, and nothing of the test harness (loop devices,
mkfs, bind mounts); the sdist must hold the tests, docs, tox.ini and
requirements, and build the same wheel.
"""

import difflib
import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HARNESS_COMMANDS = ("'losetup'", "'mkfs.xfs'", "'mount'", "'umount'")


def _build_wheel(source, out):
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                    '-q', '-w', str(out), str(source)],
                   check=True, capture_output=True, timeout=600)
    [name] = [n for n in os.listdir(out) if n.endswith('.whl')]
    return out / name


def _read_wheel(path):
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist()
                if n.endswith(('.py', '.txt', 'METADATA'))}


def _clean_source(directory):
    """The checkout's files (tracked, and new ones not ignored) copied to
    ``directory``: a ``build/`` left in the work tree would put modules
    since removed into the wheel. ROOT itself outside a git checkout."""
    listed = subprocess.run(
        ['git', '-C', ROOT, 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'], capture_output=True, check=False)
    if listed.returncode:
        return ROOT
    for name in filter(None, listed.stdout.decode().split('\0')):
        path = os.path.join(ROOT, name)
        if os.path.isfile(path):
            os.makedirs(directory / os.path.dirname(name), exist_ok=True)
            shutil.copy2(path, directory / name)
    return directory


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    source = _clean_source(tmp_path_factory.mktemp('source'))
    return _read_wheel(_build_wheel(source, tmp_path_factory.mktemp('wheel')))


@pytest.fixture(scope='module')
def sdist(tmp_path_factory):
    out = tmp_path_factory.mktemp('sdist')
    subprocess.run([sys.executable, '-m', 'build', '--sdist', '-o',
                    str(out), ROOT], check=True, capture_output=True,
                   timeout=600)
    [name] = [n for n in os.listdir(out) if n.endswith('.tar.gz')]
    return out / name


def _dist_info(wheel, name):
    [path] = [n for n in wheel if n.endswith('.dist-info/' + name)]
    return wheel[path]


def test_wheel_holds_the_driver_side_the_cli_and_the_simulator(wheel):
    for module in ('netapp_eic/driver.py', 'netapp_eic/core/engine.py',
                   'netapp_eic/ontap/client.py', 'netapp_eic/cmd/main.py',
                   'netapp_eic/cmd/doctor.py',
                   'netapp_eic/simulator/__main__.py'):
        assert module in wheel


def test_wheel_holds_nothing_of_the_harness(wheel):
    assert not [n for n in wheel if n.startswith(('netapp_eic_testing/',
                                                  'tests/'))]
    runs_harness_commands = [
        name for name, text in wheel.items() if name.endswith('.py') and
        any(command in text for command in HARNESS_COMMANDS)]
    assert runs_harness_commands == []


def test_wheel_entry_points_and_requirements(wheel):
    entry_points = _dist_info(wheel, 'entry_points.txt')
    for line in ('netapp-eic = netapp_eic.cmd.main:main',
                 'netapp-eic-sim = netapp_eic.simulator.__main__:main',
                 'netapp-eic-copyoffload-sim = '
                 'netapp_eic.simulator.copyoffload:main',
                 'netapp_eic = netapp_eic.options:list_opts'):
        assert line in entry_points
    metadata = email.parser.Parser().parsestr(_dist_info(wheel, 'METADATA'))
    requires = metadata.get_all('Requires-Dist')
    assert any(r.startswith('cliff') for r in requires)
    assert any(r.startswith('matplotlib') and 'extra == "bench"' in r
               for r in requires)
    assert any(r.startswith('trustme') and 'extra == "simulator"' in r
               for r in requires)
    assert not any(r.startswith('cinder') for r in requires)


def test_sdist_holds_tests_docs_and_rebuilds_the_wheel(sdist, wheel,
                                                       tmp_path):
    with tarfile.open(sdist) as archive:
        names = {n.split('/', 1)[1] for n in archive.getnames() if '/' in n}
        # The 'data' filter where this Python has it (3.11.4 and later).
        archive.extractall(tmp_path, **(
            {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))
    for name in ('tox.ini', 'requirements.txt', 'test-requirements.txt',
                 'README.rst', 'LICENSE', 'tests/functional/test_cli.py',
                 'netapp_eic_testing/stack.py', 'doc/architecture.rst',
                 'etc/netapp-eic-config-generator.conf',
                 'releasenotes/config.yaml'):
        assert name in names, name
    [source] = [p for p in tmp_path.iterdir() if p.is_dir()]
    out = tmp_path / 'wheel'
    out.mkdir()
    rebuilt = _read_wheel(_build_wheel(source, out))
    assert sorted(n for n in rebuilt if not n.startswith('netapp_eic-')) == \
        sorted(n for n in wheel if not n.startswith('netapp_eic-'))


def test_sample_configuration_is_current(tmp_path):
    """etc/netapp-eic.conf.sample is what ``tox -e genconfig`` writes."""
    out = tmp_path / 'sample.conf'
    generator = os.path.join(os.path.dirname(sys.executable),
                             'oslo-config-generator')
    subprocess.run([generator, '--config-file',
                    'etc/netapp-eic-config-generator.conf', '--output-file',
                    str(out)], check=True, capture_output=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    with open(os.path.join(ROOT, 'etc', 'netapp-eic.conf.sample')) as f:
        committed = f.read()
    diff = list(difflib.unified_diff(committed.splitlines(),
                                     out.read_text().splitlines(),
                                     lineterm=''))
    assert diff == [], 'run tox -e genconfig:\n' + '\n'.join(diff)


@pytest.mark.parametrize('name', ['requirements.txt',
                                  'test-requirements.txt'])
def test_requirement_files_parse_and_name_each_package_once(name):
    """pip reads these first on a fresh machine; one bad line (a merge
    conflict marker, say) stops every install before a test runs."""
    from packaging import requirements

    with open(os.path.join(ROOT, name)) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    names = [requirements.Requirement(line).name.lower()
             for line in lines if line]
    assert names, name
    assert len(names) == len(set(names)), sorted(names)
