# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.steps: single-flight, finishing, falling through."""

import os
import threading

from netapp_eic.core import cachemanager
from netapp_eic.core.types import Route
from tests.unit.core.helpers import (GiB, IMAGE_SIZE, POOL_A, add_image,
                                     leftovers, posts, request)


def test_volume_file_gets_its_final_size(engine, glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    outcome = engine.create(request(glance_local, image_id, size=2 * GiB))
    assert os.path.getsize(outcome.volume_file) == 2 * GiB


def test_image_larger_than_volume_leaves_no_volume_file(
        engine, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path, size=IMAGE_SIZE)
    # Glance's file is in another FlexVol, so the size is learnt only
    # after the copy: the step fails, removes the volume file, declines.
    outcome = engine.create(request(glance_remote, image_id,
                                    size=IMAGE_SIZE // 2))
    assert outcome.path is Route.DOWNLOAD
    assert 'exceeds the volume size' in outcome.failures[0][1]
    assert not os.path.exists(os.path.join(sim.shares[POOL_A], 'volume-1'))
    assert leftovers(sim) == []


def test_failed_copy_falls_through_and_cleans_up(engine, sim, glance_remote,
                                                 tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    sim.add_fault(method='POST', path='/api/storage/file/copy', status=500)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert outcome.failures[0][0] == 'file-copy'
    assert leftovers(sim) == []
    assert not os.path.exists(os.path.join(sim.shares[POOL_A], 'volume-1'))


def test_concurrent_creates_copy_once(engine, host, sim, glance_remote,
                                      tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    outcomes = {}

    def create(n):
        outcomes[n] = engine.create(request(glance_remote, image_id,
                                            name=f'volume-{n}'))
    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(posts(sim, '/storage/file/copy')) == 1
    assert all(o.cloned for o in outcomes.values())
    dest = engine.pools.get(POOL_A)
    assert host.locks_taken[cachemanager.build_lock(image_id, dest)] == 4
    assert leftovers(sim) == []
