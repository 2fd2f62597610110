# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The demo as a newcomer runs it: only the table and the legend on
standard output, nothing on standard error, the services' log and the
cinder.conf in the files the legend names (in a new private directory of
the run's own under the user's cache directory), every volume's data
checked."""

import os
import re
import subprocess
import sys

from netapp_eic_testing import demo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PATHS = ['direct-clone', 'cache-clone', 'direct-clone', 'file-copy',
         'file-copy', 'cache-clone', 'file-copy', 'copy-offload', 'download',
         'cache-clone']


def test_demo_prints_the_table_and_legend_only(tmp_path):
    cache_home = tmp_path / 'cache'
    result = subprocess.run(
        [sys.executable, '-m', 'netapp_eic_testing.demo', '--size-mib', '4',
         '--operator'],
        capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, PYTHONPATH=ROOT, XDG_CACHE_HOME=str(cache_home)))
    assert result.returncode == 0, result.stdout + result.stderr
    [out_dir] = (cache_home / 'netapp-eic').iterdir()
    assert out_dir.name.startswith('demo-')
    assert oct(out_dir.stat().st_mode & 0o777) == '0o700'
    assert result.stderr == ''
    lines = result.stdout.splitlines()
    header = lines.index(next(line for line in lines
                              if line.startswith('scenario')))
    rows = lines[header + 1:header + 1 + len(PATHS)]
    assert [row.split()[-1] for row in rows] == ['ok'] * len(PATHS)
    assert [re.split(r'\s{2,}', row)[1] for row in rows] == PATHS
    assert 'qcow2 conversion' in rows[4]
    # This process's reads (the simulator is another process): the sha512
    # image hashed here (4 MiB), the sha256 one checked by ONTAP's
    # fingerprint (no image byte, only REST answers and database pages).
    host_mib = [float(row.split()[-3]) for row in rows]
    assert host_mib[0] >= 4.0
    assert host_mib[2] < 1.0
    conf = out_dir / 'cinder.conf'
    log = out_dir / 'netapp-eic-demo.log'
    assert 'cinder.conf  %s' % conf in result.stdout
    assert 'service log  %s' % log in result.stdout
    assert 'host bytes   what this process read' in result.stdout
    assert oct(conf.stat().st_mode & 0o777) == '0o600'
    assert '[netapp_eic_tool]' in conf.read_text()
    assert len([line for line in log.read_text().splitlines()
                if ' EIC image ' in line]) == len(PATHS)
    # netapp-eic doctor passed on the demo's backend, explain ran.
    assert '| ONTAP credentials' in result.stdout
    assert '| fail ' not in result.stdout
    assert re.search(r'\| cache-clone +\| try', result.stdout)
    # explain says how the image's bytes would be checked.
    assert re.search(r'\| content check +\| planned', result.stdout)


def test_each_run_gets_a_new_private_directory(tmp_path):
    first = demo.run_directory(str(tmp_path / 'cache'))
    second = demo.run_directory(str(tmp_path / 'cache'))
    assert first != second
    for path in (first, second):
        assert os.path.dirname(path) == str(tmp_path / 'cache')
        assert oct(os.stat(path).st_mode & 0o777) == '0o700'


def test_unusable_cache_directory_falls_back_to_a_private_temporary_one(
        tmp_path):
    (tmp_path / 'file').write_text('')
    path = demo.run_directory(str(tmp_path / 'file' / 'cache'))
    try:
        assert os.path.basename(path).startswith('netapp-eic-demo-')
        assert oct(os.stat(path).st_mode & 0o777) == '0o700'
    finally:
        os.rmdir(path)
