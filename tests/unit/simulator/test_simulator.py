# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ``Simulator`` facade: lifecycle, info, control operations."""

import os

import pytest

from netapp_eic.simulator import Simulator
from tests.unit.simulator.helpers import vol_dir, write_file


def test_info_lists_connection_and_shares(sim):
    url = sim.url  # starts the HTTPS server of the in-process fixture
    info = sim.info()
    assert info['url'] == url and info['control_url'] == url + '/_sim'
    assert (info['username'], info['password']) == (sim.username,
                                                    sim.password)
    assert info['ca_file'] == sim.ca_file and os.path.exists(sim.ca_file)
    assert info['vserver'] == sim.vserver == 'vs0'
    assert info['shares'] == sim.shares
    assert info['shares']['127.0.0.2:/vol_vs1'] == vol_dir(sim, 'vol_vs1')
    assert info['svms']['vs1'] == {'lifs': ['127.0.0.2'],
                                   'vstorage_enabled': False,
                                   'volumes': ['vol_vs1']}
    assert sim.port > 0 and sim.host == '127.0.0.1'


def test_reset_clears_dynamic_state_and_keeps_files(sim):
    write_file(sim, 'vol_cinder_a', 'a', data=b'1')
    sim.backend.clone(sim.backend.volume_by_name('vol_cinder_a'), 'a', 'b')
    sim.add_fault(path='/x', status=500)
    sim.log_request('GET', '/x', '', {}, 200)
    sim.reset()
    assert sim.backend.jobs.all() == [] and sim.faults.records() == []
    assert sim.request_log() == []
    assert sorted(os.listdir(vol_dir(sim, 'vol_cinder_a'))) == ['a', 'b']


def test_stop_removes_temporary_directories():
    sim = Simulator(seed=1).start()
    data_root, ca_file = sim.data_root, sim.ca_file
    sim.stop()
    assert not os.path.exists(data_root) and not os.path.exists(ca_file)


def test_backend_before_start_is_an_error():
    with pytest.raises(RuntimeError, match='not started'):
        Simulator().backend  # noqa: B018


def test_forced_reflink_on_a_plain_directory_fails(tmp_path):
    sim = Simulator(data_root=str(tmp_path), clone_mode='reflink')
    with pytest.raises(ValueError, match='reflink is not supported'):
        sim.start()
    assert sim._server is None


def test_write_copyoffload_tool_is_private(sim, tmp_path):
    path = sim.write_copyoffload_tool(str(tmp_path))
    assert os.stat(path).st_mode & 0o777 == 0o700
