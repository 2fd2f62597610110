# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The composed backend: seeded uuids, clone mode, reset."""

import pytest

from netapp_eic.simulator.models import Backend
from tests.unit.simulator.helpers import write_file


def test_seeded_uuids_are_deterministic(tmp_path):
    def uuids(seed, root):
        root.mkdir()
        backend = Backend(None, str(root), seed=seed)
        vol = backend.volume_by_name('vol_cinder_a')
        with open(f'{vol.path}/f', 'wb') as f:
            f.write(b'x')
        job = backend.clone(vol, 'f', 'g')
        return ([v.uuid for v in backend.volumes] +
                [backend.cluster.uuid, job.uuid])
    first = uuids(7, tmp_path / 'a')
    assert first == uuids(7, tmp_path / 'b')
    assert first != uuids(8, tmp_path / 'c')


def test_clone_mode_probe_and_override(tmp_path):
    assert Backend(None, str(tmp_path)).clone_mode == 'copy'
    assert Backend(None, str(tmp_path), clone_mode='copy').clone_mode == (
        'copy')
    with pytest.raises(ValueError):
        Backend(None, str(tmp_path), clone_mode='reflink')


def test_reset_keeps_topology_and_files(sim):
    backend = sim.backend
    write_file(sim, 'vol_cinder_a', 'a', data=b'1')
    vol = backend.volume_by_name('vol_cinder_a')
    backend.clone(vol, 'a', 'b')
    backend.qos.log_ems({'x': 1})
    backend.cluster.create_peer(backend.svm('vs0'), backend.svm('vs1'),
                                ['file_copy'])
    uuid_before = vol.uuid
    backend.reset()
    assert backend.jobs.all() == [] and backend.qos.ems_events == []
    assert backend.cluster.peers == []  # the default topology has none
    assert backend.volume_by_name('vol_cinder_a').uuid == uuid_before
