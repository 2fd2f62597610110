# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File operations: hole-preserving copy, atomic clone, reflink on XFS."""

import os
import threading

import pytest
from netapp_ontap.resources import FileClone

from netapp_eic.simulator import fsops
from netapp_eic_testing import dataroot
from tests.unit.simulator.helpers import MIB, read, vol_uuid, write_file

REASON = dataroot.why_not_xfs()


def _sparse(path, gap=4 * MIB, data=b'x' * 8192):
    with open(path, 'wb') as f:
        f.seek(gap)
        f.write(data)
        f.truncate(2 * gap + len(data))
    return path


def test_sparse_copy_keeps_holes_and_reports_progress(tmp_path):
    src = _sparse(str(tmp_path / 'src'))
    seen = []
    fsops.sparse_copy(src, str(tmp_path / 'dst'), progress=seen.append)
    assert read(str(tmp_path / 'dst')) == read(src)
    assert os.stat(tmp_path / 'dst').st_blocks * 512 < MIB
    assert seen[-1] == os.path.getsize(src) and seen == sorted(seen)


def test_sparse_copy_fault_and_stop(tmp_path):
    src = str(tmp_path / 'src')
    with open(src, 'wb') as f:
        f.write(os.urandom(3 * MIB))
    with pytest.raises(fsops.CopyFault):
        fsops.sparse_copy(src, str(tmp_path / 'half'), fail_at=MIB)
    assert os.path.getsize(tmp_path / 'half') == MIB
    stop = threading.Event()
    stop.set()
    with pytest.raises(fsops.CopyStopped):
        fsops.sparse_copy(src, str(tmp_path / 'none'), stop=stop)


def test_copies_never_go_through_links(tmp_path):
    outside = tmp_path / 'outside'
    outside.write_bytes(b'untouched')
    src = _sparse(str(tmp_path / 'src'))
    os.symlink(str(outside), str(tmp_path / 'dst'))
    os.symlink(src, str(tmp_path / 'src-link'))
    with pytest.raises(OSError):
        fsops.sparse_copy(src, str(tmp_path / 'dst'))
    with pytest.raises(OSError):
        fsops.sparse_copy(str(tmp_path / 'src-link'), str(tmp_path / 'x'))
    assert outside.read_bytes() == b'untouched'


def test_clone_file_copy_mode_leaves_no_temporary(tmp_path):
    src = _sparse(str(tmp_path / 'src'))
    os.chmod(src, 0o640)
    fsops.clone_file(src, str(tmp_path / 'dst'), 'copy')
    assert sorted(os.listdir(tmp_path)) == ['dst', 'src']
    assert os.stat(tmp_path / 'dst').st_mode & 0o777 == 0o640
    with pytest.raises(OSError):
        fsops.clone_file(str(tmp_path / 'missing'), str(tmp_path / 'x'),
                         'copy')
    assert sorted(os.listdir(tmp_path)) == ['dst', 'src']


def test_allocated_bytes_skips_snapshot_directories(tmp_path):
    (tmp_path / '.snapshot').mkdir()
    with open(tmp_path / '.snapshot' / 'big', 'wb') as f:
        f.write(b'y' * MIB)
    with open(tmp_path / 'f', 'wb') as f:
        f.write(b'y' * 8192)
    assert 8192 <= fsops.allocated_bytes(str(tmp_path)) < MIB


@pytest.mark.skipif(REASON is not None, reason=REASON or '')
def test_reflink_clone_shares_extents(tmp_path):
    from netapp_ontap import HostConnection

    from netapp_eic.simulator import Simulator
    with (dataroot.DataRoot(str(tmp_path), 512 * MIB) as xfs,
          Simulator(data_root=xfs.path, seed=3) as sim):
        assert xfs.mode == dataroot.MODE_XFS_REFLINK, xfs.reason
        assert sim.clone_mode == 'reflink'
        assert sim.info()['clone_mode'] == 'reflink'
        src = write_file(sim, 'vol_cinder_a', 'volume-src', 32 * MIB)
        os.sync()
        before = os.statvfs(xfs.path)
        with HostConnection(sim.host, sim.username, sim.password,
                            verify=sim.ca_file, port=sim.port):
            FileClone(volume={'uuid': vol_uuid(sim, 'vol_cinder_a')},
                      source_path='volume-src',
                      destination_path='volume-dst').post(
                poll=True, poll_interval=0.05)
        os.sync()
        after = os.statvfs(xfs.path)
        dst = os.path.join(os.path.dirname(src), 'volume-dst')
        assert read(dst) == read(src)
        used = (before.f_bfree - after.f_bfree) * before.f_frsize
        assert used < 4 * MIB  # a copy would have used 32 MiB
