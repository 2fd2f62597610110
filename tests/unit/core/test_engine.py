# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.engine through the host interface, without Cinder.

The real ONTAP client talks HTTPS to the simulator; the "mounts" are the
simulator's FlexVol directories; qcow2 images are converted by the real
qemu-img. Each test checks the path taken, the volume file's bytes and size,
and what is left in the FlexVols.
"""

import os

from netapp_eic.core import cache
from netapp_eic.core.types import Route, Registration
from netapp_eic_testing import images
from tests.unit.core.helpers import (GiB, IMAGE_SIZE, POOL_A, POOL_B,
                                     add_image, leftovers, posts, request)


def assert_volume(sim, outcome, share, digest, size=GiB):
    assert outcome.volume_file == os.path.join(sim.shares[share],
                                               'volume-1')
    assert os.path.getsize(outcome.volume_file) == size
    assert images.raw_bytes_digest(outcome.volume_file, 'raw',
                                   length=IMAGE_SIZE) == digest


def test_direct_clone_then_cache_clone(engine, sim, glance_local, tmp_path):
    image_id, digest = add_image(glance_local, tmp_path)
    outcome = engine.create(request(glance_local, image_id))
    assert outcome.path is Route.DIRECT_CLONE
    assert_volume(sim, outcome, POOL_A, digest)
    entry = os.path.join(sim.shares[POOL_A], cache.entry_name(image_id))
    assert os.path.getsize(entry) == IMAGE_SIZE

    again = engine.create(request(glance_local, image_id, name='volume-2'))
    assert again.path is Route.CACHE_CLONE
    assert again.skipped == ()
    assert posts(sim, '/storage/file/copy') == []
    assert leftovers(sim) == []


def test_file_copy_from_another_flexvol(engine, sim, glance_remote,
                                        tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id, pool=POOL_B))
    assert outcome.path is Route.FILE_COPY
    assert_volume(sim, outcome, POOL_B, digest)
    assert len(posts(sim, '/storage/file/copy')) == 1
    assert 'cache-clone: no cache entry in FlexVol vol_cinder_b' in \
        outcome.skipped
    assert leftovers(sim) == []


def test_qcow2_converted_on_the_host_once(engine, host, sim, glance_remote,
                                          tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path, fmt='qcow2')
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert outcome.host_bytes > 0
    assert_volume(sim, outcome, POOL_A, digest)
    assert [fmt for _src, _dst, fmt in host.conversions] == ['qcow2']

    again = engine.create(request(glance_remote, image_id, name='volume-2'))
    assert again.path is Route.CACHE_CLONE
    assert len(host.conversions) == 1
    assert leftovers(sim) == []


def test_no_location_on_the_cluster_declines_with_reasons(
        engine, sim, glance_remote, tmp_path):
    image_id, _digest = add_image(glance_remote, tmp_path)
    glance_remote.set_locations(image_id, None, [
        {'url': f'http://glance.example.com/v2/images/{image_id}',
         'metadata': {}}])
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert not outcome.cloned
    assert outcome.volume_file is None
    assert any("unsupported scheme 'http'" in s for s in outcome.skipped)
    assert not os.path.exists(os.path.join(sim.shares[POOL_A], 'volume-1'))


def test_unknown_pool_declines(engine, glance_remote, tmp_path):
    image_id, _digest = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id,
                                    pool='127.0.0.9:/nowhere'))
    assert outcome.path is Route.DOWNLOAD
    assert any('127.0.0.9 is not a data LIF' in s for s in outcome.skipped)


def test_explain_makes_no_change(engine, sim, glance_remote, tmp_path):
    image_id, _digest = add_image(glance_remote, tmp_path)
    before = {d: sorted(os.listdir(d)) for d in sim.shares.values()}
    text = engine.explain(request(glance_remote, image_id))
    assert text.startswith('file-copy from ')
    assert 'cache-clone skipped' in text
    assert [r for r in sim.request_log() if r['method'] != 'GET'] == []
    assert before == {d: sorted(os.listdir(d)) for d in sim.shares.values()}


def test_register_a_downloaded_volume(engine, sim, glance_remote, tmp_path):
    image_id, digest = add_image(glance_remote, tmp_path)
    volume = os.path.join(sim.shares[POOL_A], 'volume-9')
    images.write_raw_content(volume, IMAGE_SIZE, seed=1)
    with open(volume, 'r+b') as f:
        f.truncate(GiB)
    meta = glance_remote.show(None, image_id)
    assert engine.register('volume-9', POOL_A, meta, IMAGE_SIZE) == (
        Registration.REGISTERED, '')
    entry = os.path.join(sim.shares[POOL_A], cache.entry_name(image_id))
    assert os.path.getsize(entry) == IMAGE_SIZE
    assert images.raw_bytes_digest(entry) == digest
    assert engine.register('volume-9', POOL_A, meta, IMAGE_SIZE)[0] is \
        Registration.ALREADY_PRESENT
    assert leftovers(sim) == []


def test_maintenance_removes_only_old_temporaries(engine, sim):
    old = os.path.join(sim.shares[POOL_A], cache.temp_name('copy'))
    young = os.path.join(sim.shares[POOL_B], cache.temp_name('copy'))
    for path in (old, young):
        with open(path, 'wb') as f:
            f.write(b'partial')
    os.utime(old, (1000, 1000))
    assert engine.maintain(3600) == {POOL_A: [os.path.basename(old)],
                                     POOL_B: []}
    assert not os.path.exists(old)
    assert os.path.exists(young)


def test_discard_removes_the_volume_file(engine, sim, glance_local,
                                         tmp_path):
    image_id, _digest = add_image(glance_local, tmp_path)
    req = request(glance_local, image_id)
    assert engine.create(req).cloned
    engine.discard(req)
    assert not os.path.exists(os.path.join(sim.shares[POOL_A], 'volume-1'))
