# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic_testing.simproc: the simulator in a process of its own (its
reads are not this process's), stopped by its own PID; and the read
counter the demo's "host bytes" come from."""

import os

import requests

from netapp_eic_testing import simproc


def test_simulator_process_serves_and_stops(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with simproc.SimulatorProcess(str(data_root), seed=1) as sim:
        pid = sim.process.pid
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not win
        answer = session.get(sim.url + '/api/cluster', verify=sim.ca_file,
                             auth=(sim.username, sim.password), timeout=30)
        assert answer.status_code == 200
        assert answer.json()['version']['full']
        assert '127.0.0.1:/vol_cinder_a' in sim.shares
        assert os.path.isdir(sim.shares['127.0.0.1:/vol_cinder_a'])
        assert os.path.exists('/proc/%d' % pid)
    assert not os.path.exists('/proc/%d' % pid)
    assert sim.process is None


def test_reads_count_this_process_reads(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'x' * 1000000)
    before = simproc.reads()
    with open(path, 'rb') as f:
        assert len(f.read()) == 1000000
    assert simproc.reads() - before >= 1000000
