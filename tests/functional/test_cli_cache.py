# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic cache list``, ``cache warm`` and ``cache evict`` as an
operator runs them:
a separate process reading a real cinder.conf, on the stack's mounted
pools, taking cinder-volume's locks through the configured coordination
backend."""

import json
import os
import time

import pytest

from netapp_eic.core import cache
from netapp_eic.core import records
from netapp_eic_testing import images
from tests.functional.test_cli import POOL_A, POOL_B, run, write_conf
from tests.functional.test_cli import add_image, meta_file
from tests.functional.test_cli import mounted, stack  # noqa: F401 (fixtures)


def entry(stack, share, image_id, last_used, data=b"x" * 8192,  # noqa: F811
          verified=True):
    """A published cache entry with its record."""
    directory = stack.share_dir(share)
    tmp = records.temp_name('test')
    with open(os.path.join(directory, tmp), 'wb') as f:
        f.write(data)
    os.link(os.path.join(directory, tmp),
            os.path.join(directory, records.entry_name(image_id)))
    os.unlink(os.path.join(directory, tmp))
    records.write(directory, records.Record(
        image_id, 'sha512:%s' % image_id, 'raw', len(data), last_used,
        last_used, 'test', verified))


@pytest.fixture
def entries(stack):  # noqa: F811
    now = time.time()
    made = {'img-old': (POOL_A, now - 7200), 'img-new': (POOL_A, now - 60),
            'img-b': (POOL_B, now - 10)}
    for image_id, (share, used) in made.items():
        entry(stack, share, image_id, used)
    yield made
    for image_id, (share, _used) in made.items():
        directory = stack.share_dir(share)
        for name in os.listdir(directory):
            if image_id in name:
                os.unlink(os.path.join(directory, name))


def listed(conf, *args):
    status, out, err = run(conf, 'cache list', '-f', 'json', *args)
    assert status == 0, err
    return {(r['Pool'], r['Image']): r for r in json.loads(out)}


@pytest.mark.usefixtures('mounted')
def test_list_every_pool_most_recent_first(stack, tmp_path,  # noqa: F811
                                           entries):
    found = listed(write_conf(stack, tmp_path))
    assert set(found) == {(POOL_A, 'img-old'), (POOL_A, 'img-new'),
                          (POOL_B, 'img-b')}
    row = found[(POOL_A, 'img-new')]
    assert (row['Size'], row['Verified'], row['State']) == (8192, 'yes',
                                                            'ok')
    assert list(listed(write_conf(stack, tmp_path), '--pool', POOL_A)) == [
        (POOL_A, 'img-new'), (POOL_A, 'img-old')]


@pytest.mark.usefixtures('mounted')
def test_evict_by_age_leaves_recent_entries(stack, tmp_path,  # noqa: F811
                                            entries):
    conf = write_conf(stack, tmp_path)
    status, out, err = run(conf, 'cache evict', '--older-than', '1',
                           '-f', 'json')
    assert status == 0, err
    assert json.loads(out) == [{'Pool': POOL_A, 'Image': 'img-old',
                                'Result': 'evicted'}]
    assert set(listed(conf)) == {(POOL_A, 'img-new'), (POOL_B, 'img-b')}
    names = os.listdir(stack.share_dir(POOL_A))
    assert not [n for n in names if 'img-old' in n]


@pytest.mark.usefixtures('mounted')
def test_evict_to_budget_least_recently_used(stack, tmp_path,  # noqa: F811
                                             entries):
    conf = write_conf(stack, tmp_path, netapp_eic_cache_max_entries=1)
    status, out, err = run(conf, 'cache evict', '--to-budget', '-f', 'json')
    assert status == 0, err
    assert json.loads(out) == [{'Pool': POOL_A, 'Image': 'img-old',
                                'Result': 'evicted'}]


@pytest.mark.usefixtures('mounted')
def test_entry_being_cloned_is_kept(stack, tmp_path, entries):  # noqa: F811
    conf = write_conf(stack, tmp_path)
    lease = cache.ImageCache(stack.share_dir(POOL_A), 'vol_cinder_a'
                             ).add_lease('img-new', 600)
    try:
        status, out, err = run(conf, 'cache evict', '--image', 'img-new',
                               '-f', 'json')
    finally:
        os.unlink(os.path.join(stack.share_dir(POOL_A), lease))
    assert status == 1
    assert json.loads(out) == [{'Pool': POOL_A, 'Image': 'img-new',
                                'Result': 'kept: being cloned from, retry '
                                          'later'}]
    status, out, err = run(conf, 'cache evict', '--image', 'img-new')
    assert status == 0, err
    assert (POOL_A, 'img-new') not in listed(conf)


@pytest.mark.usefixtures('mounted')
def test_evict_of_an_unknown_image_fails(stack, tmp_path):  # noqa: F811
    status, out, err = run(write_conf(stack, tmp_path), 'cache evict',
                           '--image', 'nothing')
    assert status == 1
    assert 'no cache entry of image nothing' in err


def test_evict_needs_a_selection(stack, tmp_path):  # noqa: F811
    status, _out, err = run(write_conf(stack, tmp_path), 'cache evict')
    assert status == 2
    assert 'one of the arguments --image --older-than --to-budget' in err


@pytest.mark.usefixtures('mounted')
def test_warm_builds_each_pool_once(stack, tmp_path):  # noqa: F811
    image_id = add_image(stack, stack.image_service, tmp_path, 41)
    digest = images.raw_bytes_digest(stack.image_service.image_path(
        image_id))
    conf = write_conf(stack, tmp_path)
    meta = meta_file(stack.image_service, image_id, tmp_path)
    copies = len([r for r in stack.sim.request_log()
                  if r['path'] == '/api/storage/file/copy'])
    status, out, err = run(conf, 'cache warm', '--image-meta', meta,
                           '--all-pools', '-f', 'json')
    assert status == 0, err
    results = {r['Pool']: r['Result'] for r in json.loads(out)}
    assert results == {POOL_A: 'built by file-copy',
                       POOL_B: 'built by file-copy'}
    for share in (POOL_A, POOL_B):
        entry = os.path.join(stack.share_dir(share),
                             records.entry_name(image_id))
        assert images.raw_bytes_digest(entry) == digest
        record = records.read(os.path.join(stack.share_dir(share),
                                           records.record_name(image_id)),
                              image_id)
        assert record.verified
    assert len([r for r in stack.sim.request_log()
                if r['path'] == '/api/storage/file/copy']) == copies + 2
    status, out, err = run(conf, 'cache warm', '--image-meta', meta,
                           '--pool', POOL_A, '-f', 'json')
    assert status == 0, err
    assert json.loads(out)[0]['Result'] == 'present'
    for share in (POOL_A, POOL_B):
        for name in os.listdir(stack.share_dir(share)):
            if image_id in name:
                os.unlink(os.path.join(stack.share_dir(share), name))


@pytest.mark.usefixtures('mounted')
def test_warm_of_an_image_not_on_the_cluster_fails(stack,  # noqa: F811
                                                   tmp_path):
    image_id = add_image(stack, stack.image_service, tmp_path, 42)
    meta = meta_file(stack.image_service, image_id, tmp_path, locations=[
        {'url': 'http://glance.example.com/x', 'metadata': {}}],
        direct_url=None)
    status, out, err = run(write_conf(stack, tmp_path), 'cache warm',
                           '--image-meta', meta, '--pool', POOL_A, '-f',
                           'json')
    assert status == 1
    [row] = json.loads(out)
    assert row['Result'] == 'not built'
    assert 'no copy of the image' in row['Detail']
    assert not [n for n in os.listdir(stack.share_dir(POOL_A))
                if image_id in n]
