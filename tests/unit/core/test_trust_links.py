# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Attacks with links: every one refused, none followed.

Each test plants a symbolic (or hard) link where a fast path reads,
clones, copies or writes, runs a create through the real ONTAP client and
the simulator, and checks the volume's bytes (or its absence), the link's
target and every file left in every FlexVol.
"""

import os

import pytest

from netapp_eic.core import cache
from netapp_eic.core.types import Route
from tests.unit.core.helpers import (IMAGE_SIZE, POOL_A, POOL_B, add_image,
                                     digest, leftovers, new_files, posts,
                                     replace_with_link, request, share_dir,
                                     tree)

SECRET = b'host secret, must never reach a volume\n' * 1000
TENANT = b'another tenant\'s volume data\n' * 1000


@pytest.fixture
def secret(tmp_path):
    """A file of the cinder-volume host, outside every share."""
    path = tmp_path / 'host-secret'
    path.write_bytes(SECRET)
    return str(path)


def tenant_volume(sim, flexvol, name='volume-0tenant'):
    """Another tenant's volume file in ``flexvol``."""
    path = os.path.join(share_dir(sim, flexvol), name)
    with open(path, 'wb') as f:
        f.write(TENANT)
    return path


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def assert_refused(outcome, sim, before, fragment):
    """Declined with ``fragment`` in a reason; nothing new in any FlexVol."""
    assert outcome.path is Route.DOWNLOAD
    reasons = ' '.join(outcome.skipped + tuple(
        r for _p, r in outcome.failures))
    assert fragment in reasons, reasons
    assert new_files(before, tree(sim)) == {}


def test_direct_clone_of_link_to_host_file(engine, sim, glance_local,
                                           tmp_path, secret):
    image_id, _ = add_image(glance_local, tmp_path)
    replace_with_link(glance_local.image_path(image_id), secret)
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before, 'symlink')
    assert posts(sim, '/storage/file/clone') == []
    assert read(secret) == SECRET


def test_direct_clone_of_link_to_tenant_volume(engine, sim, glance_local,
                                               tmp_path):
    tenant = tenant_volume(sim, 'vol_cinder_a')
    image_id, _ = add_image(glance_local, tmp_path)
    # A relative link, valid inside the FlexVol for every NFS client.
    replace_with_link(glance_local.image_path(image_id), '../volume-0tenant')
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before, 'symlink')
    assert posts(sim, '/storage/file/clone') == []
    assert read(tenant) == TENANT


def test_file_copy_of_link_to_tenant_volume(engine, sim, glance_remote,
                                            tmp_path):
    tenant = tenant_volume(sim, 'vol_cinder_b')
    image_id, _ = add_image(glance_remote, tmp_path)
    # From vol_glance/images/<id> to vol_cinder_b/volume-0tenant.
    replace_with_link(glance_remote.image_path(image_id),
                      '../../vol_cinder_b/volume-0tenant')
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert_refused(outcome, sim, before, 'symlink')
    assert posts(sim, '/storage/file/copy') == []
    assert read(tenant) == TENANT


def test_copy_offload_tool_of_link(host, client, sim, glance_remote,
                                   tmp_path, settings, secret):
    import dataclasses
    from netapp_eic.core import engine as engine_mod
    tool = sim.write_copyoffload_tool(str(tmp_path))
    engine = engine_mod.Engine(client, host, dataclasses.replace(
        settings, copyoffload_tool_path=tool))
    image_id, _ = add_image(glance_remote, tmp_path)
    replace_with_link(glance_remote.image_path(image_id), secret)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert_refused(outcome, sim, before, 'symlink')
    assert host.commands == []
    assert read(secret) == SECRET


def test_hard_link_to_tenant_volume(engine, sim, glance_local, tmp_path):
    tenant = tenant_volume(sim, 'vol_cinder_a')
    image_id, _ = add_image(glance_local, tmp_path)
    path = glance_local.image_path(image_id)
    os.unlink(path)
    os.link(tenant, path)
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before, 'hard links')
    assert read(tenant) == TENANT


def test_linked_store_directory_in_pool(engine, sim, glance_local,
                                        tmp_path):
    """The Glance store directory itself is a link to a tenant's files.
    ONTAP does not follow a link in a path (the simulator answers "no such
    file", its documented choice); had it answered "regular", the mount's
    answer would refuse it: either way the file is refused, never used."""
    image_id, _ = add_image(glance_local, tmp_path)
    store = os.path.dirname(glance_local.image_path(image_id))
    elsewhere = os.path.join(share_dir(sim, 'vol_cinder_a'), 'tenant-dir')
    os.rename(store, elsewhere)
    os.symlink('tenant-dir', store)
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before, 'refused')


def test_cache_entry_link_is_replaced_not_served(engine, sim, glance_remote,
                                                 tmp_path):
    tenant = tenant_volume(sim, 'vol_cinder_a')
    image_id, image_digest = add_image(glance_remote, tmp_path)
    entry = os.path.join(share_dir(sim, 'vol_cinder_a'),
                         cache.entry_name(image_id))
    # No record: what the upstream driver leaves, adopted when regular.
    os.symlink('volume-0tenant', entry)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert any('cache-clone' in s and 'symbolic link' in s
               for s in outcome.skipped), outcome.skipped
    assert digest(outcome.volume_file) == image_digest
    assert not os.path.islink(entry)
    assert digest(entry) == image_digest
    assert read(tenant) == TENANT
    assert leftovers(sim) == []


def test_other_pools_cache_entry_link_is_not_a_source(engine, sim,
                                                      glance_remote,
                                                      tmp_path, secret):
    image_id, image_digest = add_image(glance_remote, tmp_path)
    os.symlink(secret, os.path.join(share_dir(sim, 'vol_cinder_b'),
                                    cache.entry_name(image_id)))
    the_plan = engine.plan(request(glance_remote, image_id))
    assert [s.source.flexvol for s in the_plan.steps if s.source] == [
        'vol_glance']
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert len(posts(sim, '/storage/file/copy')) == 1
    assert digest(outcome.volume_file) == image_digest
    assert read(secret) == SECRET


def test_volume_name_existing_as_link_is_not_written(engine, sim,
                                                     glance_local, tmp_path,
                                                     secret):
    image_id, _ = add_image(glance_local, tmp_path)
    volume = os.path.join(share_dir(sim, 'vol_cinder_a'), 'volume-1')
    os.symlink(secret, volume)
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before,
                   'already exists and is a symbolic link')
    assert os.path.islink(volume)
    assert read(secret) == SECRET
    assert posts(sim, '/storage/file/clone') == []
    assert os.path.getsize(secret) == len(SECRET)


def test_volume_name_hard_linked_to_tenant_volume_is_not_written(
        engine, sim, glance_local, tmp_path):
    tenant = tenant_volume(sim, 'vol_cinder_a')
    image_id, _ = add_image(glance_local, tmp_path)
    os.link(tenant, os.path.join(share_dir(sim, 'vol_cinder_a'), 'volume-1'))
    before = tree(sim)
    outcome = engine.create(request(glance_local, image_id))
    assert_refused(outcome, sim, before, 'already exists and has 2 hard '
                   'links')
    assert read(tenant) == TENANT


def test_plain_pool_b_create_unaffected(engine, glance_remote, tmp_path):
    """Control: the same flow without a link makes the volume."""
    image_id, image_digest = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id, pool=POOL_B))
    assert outcome.path is Route.FILE_COPY
    assert digest(outcome.volume_file, IMAGE_SIZE) == image_digest


def test_refused_location_reason_names_ontap_type(engine, sim, glance_remote,
                                                  tmp_path, secret):
    image_id, _ = add_image(glance_remote, tmp_path)
    replace_with_link(glance_remote.image_path(image_id), secret)
    the_plan = engine.plan(request(glance_remote, image_id, pool=POOL_A))
    text = ' '.join(reason for _path, reason in the_plan.skipped)
    assert 'ONTAP reports images/%s in FlexVol vol_glance as a symlink' % (
        image_id) in text
