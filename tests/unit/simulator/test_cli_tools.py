# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The CLI, the copy offload stand-in, seeding and topology files."""

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from netapp_eic.simulator import (
    DEFAULT_TOPOLOGY,
    Simulator,
    load_topology,
    topology,
)
from tests.unit.simulator.helpers import read, vol_dir, write_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _env():
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop('REQUESTS_CA_BUNDLE', None)
    env.pop('CURL_CA_BUNDLE', None)
    return env


def test_cli_serves_and_exits_cleanly_on_sigterm(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, '-m', 'netapp_eic.simulator', '--seed', '1',
         '--data-root', str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
        text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert info['vserver'] == 'vs0' and info['clone_mode'] == 'copy'
        assert info['shares']['127.0.0.1:/vol_cinder_a'] == str(
            tmp_path / 'vol_cinder_a')
        r = requests.get(info['url'] + '/api/cluster', verify=info['ca_file'],
                         auth=(info['username'], info['password']))
        assert r.json()['version']['major'] == 14
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not os.path.exists(info['ca_file'])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_seeded_uuids_are_deterministic(tmp_path):
    def uuids(seed, root):
        root.mkdir()
        with Simulator(data_root=str(root), seed=seed, tls=False) as sim:
            write_file(sim, 'vol_cinder_a', 'f', data=b'x')
            job = sim.backend.clone(sim.backend.volumes[0], 'f', 'g')
            return ([v.uuid for v in sim.backend.volumes] +
                    [sim.backend.cluster_uuid, job.uuid])
    first = uuids(7, tmp_path / 'a')
    assert first == uuids(7, tmp_path / 'b')
    assert first != uuids(8, tmp_path / 'c')


class TestCopyOffload:
    @pytest.fixture
    def tool(self, sim, tmp_path):
        return sim.write_copyoffload_tool(str(tmp_path))

    def _run(self, tool, *args):
        return subprocess.run([tool, *args], capture_output=True, text=True,
                              env=_env(), timeout=60, check=False)

    def test_success(self, sim, tool):
        os.makedirs(os.path.join(vol_dir(sim, 'vol_glance'), 'images'))
        src = write_file(sim, 'vol_glance', 'images/abc', 512 * 1024)
        result = self._run(tool, '127.0.0.1', '127.0.0.1',
                           '/vol_glance/images/abc', '/vol_cinder_a/tmp-x')
        assert result.returncode == 0, result.stderr
        assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                                 'tmp-x')) == read(src)
        assert any(r['path'] == '/_sim/copyoffload'
                   for r in sim.request_log())

    def test_vstorage_disabled(self, sim, tool):
        write_file(sim, 'vol_vs1', 'abc', data=b'x')
        result = self._run(tool, '127.0.0.2', '127.0.0.1', '/vol_vs1/abc',
                           '/vol_cinder_a/tmp-x')
        assert result.returncode != 0
        assert 'vStorage is disabled on SVM vs1' in result.stderr
        assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == []

    def test_missing_path(self, sim, tool):
        result = self._run(tool, '127.0.0.1', '127.0.0.1',
                           '/vol_glance/nope', '/vol_cinder_a/tmp-x')
        assert result.returncode != 0
        assert 'not found' in result.stderr

    def test_unknown_ip(self, sim, tool):
        result = self._run(tool, '10.9.9.9', '127.0.0.1',
                           '/vol_glance/x', '/vol_cinder_a/tmp-x')
        assert result.returncode != 0
        assert '10.9.9.9 is not a data LIF' in result.stderr

    def test_console_script_env(self, sim, tmp_path):
        write_file(sim, 'vol_glance', 'img', data=b'data')
        env = dict(_env(), NETAPP_EIC_SIM_URL=sim.url,
                   NETAPP_EIC_SIM_USER=sim.username,
                   NETAPP_EIC_SIM_PASSWORD=sim.password,
                   NETAPP_EIC_SIM_CA=sim.ca_file)
        result = subprocess.run(
            [sys.executable, '-m', 'netapp_eic.simulator.copyoffload',
             '127.0.0.1', '127.0.0.1', '/vol_glance/img', '/vol_cinder_b/c'],
            capture_output=True, text=True, env=env, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert read(os.path.join(vol_dir(sim, 'vol_cinder_b'), 'c')) == b'data'


class TestTopology:
    def test_default_topology(self):
        topo = load_topology()
        assert topo['cluster']['version'] == '9.14.1'
        svms = {s['name']: s for s in topo['svms']}
        assert [v['name'] for v in svms['vs0']['volumes']] == [
            'vol_cinder_a', 'vol_cinder_b', 'vol_glance']
        assert svms['vs1']['vstorage_enabled'] is False
        assert svms['vs1']['volumes'][0]['junction'] == '/vol_vs1'
        assert DEFAULT_TOPOLOGY['svms'][0]['lifs'] == ['127.0.0.1']

    def test_yaml_and_json_files(self, tmp_path):
        spec = {'cluster': {'version': '9.15.1'},
                'svms': [{'name': 'svm_a', 'lifs': ['127.0.0.3'],
                          'volumes': [{'name': 'v1', 'size': '2GiB',
                                       'junction': '/data/v1'}]}]}
        json_file = tmp_path / 'topo.json'
        json_file.write_text(json.dumps(spec))
        yaml_file = tmp_path / 'topo.yaml'
        import yaml
        yaml_file.write_text(yaml.safe_dump(spec))
        for path in (json_file, yaml_file):
            topo = load_topology(str(path))
            assert topo['svms'][0]['volumes'][0]['size'] == 2 * 1024 ** 3
        root = tmp_path / 'root'
        root.mkdir()
        with Simulator(topology=str(yaml_file), data_root=str(root),
                       tls=False) as sim:
            assert sim.shares == {'127.0.0.3:/data/v1': str(root / 'v1')}
            assert sim.vserver == 'svm_a'

    def test_invalid_topology(self):
        with pytest.raises(topology.TopologyError):
            load_topology({'svms': [{'name': 'a', 'volumes': ['x', 'x']}]})
        with pytest.raises(topology.TopologyError):
            topology.parse_size('lots')
