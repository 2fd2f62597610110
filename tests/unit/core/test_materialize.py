# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.materialize: each way to a checked raw file, and its
cleanup when the image is refused."""

import dataclasses
import os

from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Route
from netapp_eic_testing import images
from tests.unit.core.helpers import (POOL_A, POOL_B, add_image, leftovers,
                                     request)


def test_copy_offload_tool_runs_without_shell(host, sim, glance_remote,
                                              tmp_path, client, settings):
    tool = sim.write_copyoffload_tool(str(tmp_path))
    engine = engine_mod.Engine(client, host, dataclasses.replace(
        settings, copyoffload_tool_path=tool))
    image_id, digest = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id, pool=POOL_B))
    assert outcome.path is Route.COPY_OFFLOAD
    [argv] = host.commands
    assert argv[0] == tool
    assert argv[3:] == [f'/vol_glance/images/{image_id}', argv[4]]
    assert argv[4].startswith('/vol_cinder_b/.eic-tmp-copy-')
    assert images.raw_bytes_digest(outcome.volume_file, 'raw',
                                   length=4 * 1024 * 1024) == digest
    assert leftovers(sim) == []


def test_qcow2_with_backing_file_is_refused_after_copy(engine, sim,
                                                       glance_remote,
                                                       tmp_path):
    bad = str(tmp_path / 'backed.qcow2')
    images.make_qcow2_with_backing_file(bad, str(tmp_path / 'base.raw'))
    image_id = glance_remote.add_image(bad, 'qcow2')
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert 'backing_file' in outcome.failures[0][1]
    assert leftovers(sim) == []
    assert not os.path.exists(os.path.join(sim.shares[POOL_A], 'volume-1'))


def test_mislabelled_qcow2_is_refused(engine, sim, glance_local, tmp_path):
    bad = str(tmp_path / 'really.qcow2')
    images.make_mislabelled_qcow2(bad)
    image_id = glance_local.add_image(bad, 'raw')
    outcome = engine.create(request(glance_local, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert any('declared disk_format raw but the data is qcow2' in s
               for s in outcome.skipped)
    assert leftovers(sim) == []
