# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Clone on a reflink-capable data root (XFS in a loop file, root only)."""

import os

import pytest
from netapp_ontap.resources import FileClone

from netapp_eic_testing import dataroot
from tests.unit.simulator.helpers import MIB, read, vol_uuid, write_file

REASON = dataroot.why_not_xfs()


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
