# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Bytes checked against Glance, sizes checked before any work.

Flipped bytes in the Glance store, a file changed during its copy, a
petabyte qcow2: each is refused with a reason and leaves nothing in any
FlexVol; checked bytes are hashed once per image and cluster.
"""

import dataclasses
import logging
import os
import subprocess
import threading

import pytest

from netapp_eic.core import cache
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Route
from tests.unit.core import fakes
from tests.unit.core.helpers import (GiB, IMAGE_SIZE, MiB, POOL_A, POOL_B,
                                     add_image, digest, leftovers, new_files,
                                     posts, request, share_dir, tree)

PiB = 1024 ** 5


def engine_with(client, host, settings, **changes):
    return engine_mod.Engine(client, host,
                             dataclasses.replace(settings, **changes))


def reasons(outcome):
    return ' '.join(outcome.skipped + tuple(
        r for _p, r in outcome.failures))


def assert_declined_clean(outcome, sim, before, fragment):
    assert outcome.path is Route.DOWNLOAD
    assert fragment in reasons(outcome), reasons(outcome)
    assert new_files(before, tree(sim)) == {}


@pytest.mark.parametrize('where', ['local', 'remote'])
def test_flipped_byte_is_refused(engine, sim, glance_local, glance_remote,
                                 tmp_path, where):
    glance = glance_local if where == 'local' else glance_remote
    image_id, _ = add_image(glance, tmp_path)
    glance.corrupt_stored_file(image_id, offset=IMAGE_SIZE // 2)
    before = tree(sim)
    outcome = engine.create(request(glance, image_id))
    assert_declined_clean(outcome, sim, before, 'does not match Glance')
    assert not os.path.exists(os.path.join(share_dir(sim, 'vol_cinder_a'),
                                           cache.entry_name(image_id)))


def test_flipped_byte_in_qcow2_is_refused_during_conversion(
        engine, host, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path, fmt='qcow2')
    size = os.path.getsize(glance_remote.image_path(image_id))
    glance_remote.corrupt_stored_file(image_id, offset=size - 100)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert_declined_clean(outcome, sim, before, 'does not match Glance')
    assert len(host.conversions) == 1  # the hash ran beside it


def test_a_refused_source_is_not_tried_again(host, client, sim, settings,
                                             glance_remote, tmp_path):
    tool = sim.write_copyoffload_tool(str(tmp_path))
    engine = engine_with(client, host, settings, copyoffload_tool_path=tool)
    image_id, _ = add_image(glance_remote, tmp_path)
    glance_remote.corrupt_stored_file(image_id)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert [p for p, _r in outcome.failures] == ['copy-offload']
    assert any(s.startswith('file-copy: source already refused')
               for s in outcome.skipped)
    assert posts(sim, '/storage/file/copy') == []
    assert leftovers(sim) == []


def test_verification_off_serves_flipped_bytes(client, host, settings, sim,
                                               glance_local, tmp_path):
    """The documented, unsafe opt-out: nothing is hashed."""
    engine = engine_with(client, host, settings, verify_content=False)
    image_id, image_digest = add_image(glance_local, tmp_path)
    glance_local.corrupt_stored_file(image_id)
    outcome = engine.create(request(glance_local, image_id))
    assert outcome.path is Route.DIRECT_CLONE
    assert outcome.host_bytes == 0
    assert digest(outcome.volume_file) != image_digest


def test_image_without_hash_is_served_and_logged_once(
        client, host, settings, sim, glance_remote, tmp_path, caplog):
    # The cache of such images is issue 8's; without it the verification
    # path alone is exercised.
    engine = engine_with(client, host, settings, cache_enabled=False)
    caplog.set_level(logging.WARNING)
    image_id, image_digest = add_image(glance_remote, tmp_path)
    meta = glance_remote._get(image_id)
    for key in ('checksum', 'os_hash_algo', 'os_hash_value'):
        meta.pop(key)
    for n, pool in enumerate((POOL_A, POOL_B)):
        outcome = engine.create(request(glance_remote, image_id, pool=pool,
                                        name=f'volume-{n}'))
        assert outcome.path is Route.FILE_COPY
        assert digest(outcome.volume_file) == image_digest
    logged = [r for r in caplog.records
              if 'not checked against Glance' in r.getMessage()
              and image_id in r.getMessage()]
    assert len(logged) == 1


def test_hashed_once_per_cluster(engine, sim, glance_remote, tmp_path):
    image_id, image_digest = add_image(glance_remote, tmp_path)
    first = engine.create(request(glance_remote, image_id, pool=POOL_A))
    assert first.path is Route.FILE_COPY
    assert first.host_bytes == IMAGE_SIZE  # the copy, hashed once
    second = engine.create(request(glance_remote, image_id, pool=POOL_B,
                                   name='volume-2'))
    assert second.path is Route.FILE_COPY
    assert second.host_bytes == 0  # copied from A's verified entry
    third = engine.create(request(glance_remote, image_id, pool=POOL_B,
                                  name='volume-3'))
    assert third.path is Route.CACHE_CLONE and third.host_bytes == 0
    for outcome in (first, second, third):
        assert digest(outcome.volume_file) == image_digest


@pytest.fixture
def glance_mounted_host(sim):
    """This host also mounts the Glance FlexVol (as a share of another
    backend would), so the source can be hashed during the copy."""
    return fakes.FakeHost(sim.shares, mounted=[
        POOL_A, POOL_B, '127.0.0.1:/vol_glance'])


def test_source_hashed_beside_the_copy(client, glance_mounted_host, settings,
                                       sim, glance_remote, tmp_path):
    engine = engine_mod.Engine(client, glance_mounted_host, settings)
    image_id, image_digest = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert outcome.host_bytes == IMAGE_SIZE  # the source, not the copy too
    assert digest(outcome.volume_file) == image_digest


def test_source_changed_during_the_copy_is_refused(
        client, glance_mounted_host, settings, sim, glance_remote, tmp_path):
    engine = engine_mod.Engine(client, glance_mounted_host, dataclasses.
                               replace(settings, file_copy_return_timeout=0))
    image_id, _ = add_image(glance_remote, tmp_path)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  throttle_bps=8 * MiB)
    stored = glance_remote.image_path(image_id)
    changer = threading.Timer(0.2, glance_remote.corrupt_stored_file,
                              (image_id, IMAGE_SIZE - 1))
    changer.start()
    try:
        before = tree(sim)
        outcome = engine.create(request(glance_remote, image_id))
    finally:
        changer.join()
    assert outcome.path is Route.DOWNLOAD
    assert ('changed while it was copied' in reasons(outcome) or
            'does not match Glance' in reasons(outcome))
    assert new_files(before, tree(sim)) == {}
    assert os.path.getsize(stored) == IMAGE_SIZE


def petabyte_qcow2(tmp_path):
    path = str(tmp_path / 'pib.qcow2')
    subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '1P'],
                   check=True, capture_output=True)
    return path


def test_petabyte_qcow2_in_pool_refused_before_any_work(
        client, host, settings, sim, glance_local, tmp_path):
    engine = engine_with(client, host, settings,
                         max_image_virtual_size=0)  # the volume still bounds
    image_id = glance_local.add_image(petabyte_qcow2(tmp_path), 'qcow2')
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_declined_clean(outcome, sim, before,
                          'image virtual size %d exceeds the volume' % PiB)
    assert posts(sim, '/storage/file/clone') == []
    assert host.conversions == []


def test_petabyte_qcow2_copied_is_refused_before_conversion(
        engine, host, sim, glance_remote, tmp_path):
    image_id = glance_remote.add_image(petabyte_qcow2(tmp_path), 'qcow2')
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id, size=2 * PiB))
    assert_declined_clean(outcome, sim, before,
                          'exceeds the 1024 GiB maximum')
    assert host.conversions == []
    assert outcome.host_bytes == 0


def test_raw_over_the_maximum_is_refused_before_the_copy(
        client, host, settings, sim, glance_remote, tmp_path):
    engine = engine_with(client, host, settings,
                         max_image_virtual_size=2 * MiB)
    image_id, _ = add_image(glance_remote, tmp_path)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id, size=GiB))
    assert_declined_clean(outcome, sim, before, 'maximum')
    assert posts(sim, '/storage/file/copy') == []
