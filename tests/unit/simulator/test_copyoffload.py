# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The copy offload stand-in, run as the driver runs it (a subprocess)."""

import os
import subprocess
import sys

import pytest

from netapp_eic.simulator import copyoffload
from tests.unit.simulator.helpers import (
    read,
    subprocess_env,
    vol_dir,
    write_file,
)


@pytest.fixture
def tool(sim, tmp_path):
    return sim.write_copyoffload_tool(str(tmp_path))


def _run(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          env=subprocess_env(), timeout=60, check=False)


def test_success(sim, tool):
    os.makedirs(os.path.join(vol_dir(sim, 'vol_glance'), 'images'))
    src = write_file(sim, 'vol_glance', 'images/abc', 512 * 1024)
    result = _run(tool, '127.0.0.1', '127.0.0.1', '/vol_glance/images/abc',
                  '/vol_cinder_a/tmp-x')
    assert result.returncode == 0, result.stderr
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                             'tmp-x')) == read(src)
    assert any(r['path'] == '/_sim/copyoffload' for r in sim.request_log())


def test_vstorage_disabled(sim, tool):
    write_file(sim, 'vol_vs1', 'abc', data=b'x')
    result = _run(tool, '127.0.0.2', '127.0.0.1', '/vol_vs1/abc',
                  '/vol_cinder_a/tmp-x')
    assert result.returncode == copyoffload.EXIT_FAILED
    assert 'vStorage is disabled on SVM vs1' in result.stderr
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []


def test_across_svms_needs_vstorage_not_a_peer(sim, tool):
    """NetApp documents vStorage on both SVMs for the tool, no SVM peer."""
    sim.backend.svm('vs1').vstorage_enabled = True
    src = write_file(sim, 'vol_vs1', 'abc', 256 * 1024)
    result = _run(tool, '127.0.0.2', '127.0.0.1', '/vol_vs1/abc',
                  '/vol_cinder_a/tmp-x')
    assert result.returncode == 0, result.stderr
    assert sim.backend.cluster.peers == []
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                             'tmp-x')) == read(src)


def test_missing_path(sim, tool):
    result = _run(tool, '127.0.0.1', '127.0.0.1', '/vol_glance/nope',
                  '/vol_cinder_a/tmp-x')
    assert result.returncode == copyoffload.EXIT_FAILED
    assert 'not found' in result.stderr


def test_unknown_ip(sim, tool):
    result = _run(tool, '10.9.9.9', '127.0.0.1', '/vol_glance/x',
                  '/vol_cinder_a/tmp-x')
    assert result.returncode == copyoffload.EXIT_FAILED
    assert '10.9.9.9 is not a data LIF' in result.stderr


def test_usage_error(tool):
    assert _run(tool, 'only-one-arg').returncode == copyoffload.EXIT_USAGE


def test_wrong_password_is_reported(sim, capsys):
    config = {'url': sim.url, 'username': sim.username, 'password': 'nope',
              'ca_file': sim.ca_file}
    status = copyoffload.main(['127.0.0.1', '127.0.0.1', '/vol_glance/a',
                               '/vol_cinder_a/b'], config=config)
    assert status == copyoffload.EXIT_FAILED
    assert '(code 6)' in capsys.readouterr().err


def test_unreachable_simulator(capsys):
    config = {'url': 'https://127.0.0.1:9', 'ca_file': None}
    status = copyoffload.main(['127.0.0.1', '127.0.0.1', '/a/b', '/c/d'],
                              config=config)
    assert status == copyoffload.EXIT_FAILED
    assert 'cannot reach the simulator' in capsys.readouterr().err


def test_console_script_env(sim):
    write_file(sim, 'vol_glance', 'img', data=b'data')
    env = dict(subprocess_env(), NETAPP_EIC_SIM_URL=sim.url,
               NETAPP_EIC_SIM_USER=sim.username,
               NETAPP_EIC_SIM_PASSWORD=sim.password,
               NETAPP_EIC_SIM_CA=sim.ca_file)
    result = subprocess.run(
        [sys.executable, '-m', 'netapp_eic.simulator.copyoffload',
         '127.0.0.1', '127.0.0.1', '/vol_glance/img', '/vol_cinder_b/c'],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_b'), 'c')) == b'data'
