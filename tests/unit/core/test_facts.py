# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.facts: what the planner is told, read-only."""


import pytest

from netapp_eic.core import cache
from netapp_eic.core import context
from netapp_eic.core import facts as facts_mod
from netapp_eic.core import breaker
from netapp_eic.core import cachemanager
from netapp_eic.core import glancemounts
from netapp_eic.core import pools as pools_mod
from netapp_eic.core import records
from netapp_eic.core.types import CacheState, Settings, SourceKind
from tests.unit.core.helpers import (GiB, POOL_B, add_image,
                                     glance_on, request)


def gather(client, host, req, **settings):
    ctx = context.Context(
        client, host, pools_mod.Pools(client, host), Settings(**settings),
        breaker.Breaker('copy offload tool', 300, 3600))
    gatherer = facts_mod.FactGatherer(ctx, cachemanager.CacheManager(ctx),
                                      glancemounts.GlanceMounts(ctx))
    return gatherer.gather(req)


def test_image_in_the_pool_flexvol_is_local(client, host, glance_local,
                                            tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    facts, dest = gather(client, host, request(glance_local, image_id))
    assert dest.flexvol.name == 'vol_cinder_a'
    assert facts.local_image.path == f'glance-images/{image_id}'
    assert facts.local_image.kind is SourceKind.IMAGE
    assert facts.remote_sources == ()
    assert facts.cache_state is CacheState.MISSING
    assert facts.image_problem is None


def test_other_pools_entry_is_a_remote_cache_source(client, host, sim,
                                                    glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    meta = glance_remote.show(None, image_id)
    flexvol = cache.ImageCache(sim.shares[POOL_B], 'vol_cinder_b')
    tmp = records.temp_name('test')
    with open(flexvol.path(tmp), 'wb') as f:
        f.write(b'\0' * 4096)
    flexvol.publish(tmp, records.Record(
        image_id, records.content_id(meta), 'raw', 4096, 1, 1, 'test', True))
    facts, _dest = gather(client, host, request(glance_remote, image_id))
    kinds = [(s.kind, s.flexvol) for s in facts.remote_sources]
    assert kinds == [(SourceKind.CACHE, 'vol_cinder_b'),
                     (SourceKind.IMAGE, 'vol_glance')]


def test_image_larger_than_the_volume_is_a_problem(client, host,
                                                   glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    facts, _ = gather(client, host,
                      request(glance_local, image_id, size=GiB // 1024))
    assert 'exceeds the volume size' in facts.image_problem


@pytest.mark.parametrize('disk_format, convert, problem', [
    ('vmdk', True, 'disk_format vmdk is not supported'),
    ('qcow2', False, 'image conversion is disabled'),
])
def test_declared_format_problems(client, host, glance_local, tmp_path,
                                  disk_format, convert, problem):
    image_id, _ = add_image(glance_local, tmp_path)
    glance_local.update(None, image_id, {'disk_format': disk_format})
    facts, _ = gather(client, host, request(glance_local, image_id),
                      convert_images=convert)
    assert problem in facts.image_problem


def test_cache_disabled(client, host, glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    facts, _ = gather(client, host, request(glance_local, image_id),
                      cache_enabled=False)
    assert facts.cache_state is CacheState.DISABLED


def test_tool_facts_ask_ontap_version_and_vstorage(client, host, sim,
                                                   tmp_path):
    vs1 = glance_on(sim, 'vol_vs1', 'images', ip='127.0.0.2')
    image_id, _ = add_image(vs1, tmp_path)
    facts, _ = gather(client, host, request(vs1, image_id),
                      copyoffload_tool_path='/bin/true')
    assert facts.ontap_version == (9, 14, 1)
    assert dict(facts.vstorage) == {'vs0': True, 'vs1': False}


def test_gathering_changes_nothing(client, host, sim, glance_remote,
                                   tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    gather(client, host, request(glance_remote, image_id))
    assert [r for r in sim.request_log() if r['method'] != 'GET'] == []
