# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Request-level behaviour of the files, clone, copy and job endpoints."""

import os

from tests.unit.simulator.helpers import (
    copy_body,
    read,
    vol_dir,
    vol_uuid,
    write_file,
)


def test_file_path_encoding_keeps_plus(sim, api):
    """``%2F`` and ``%20`` decode; ``+`` is a plus, not a space."""
    os.makedirs(os.path.join(vol_dir(sim, 'vol_glance'), 'd'))
    write_file(sim, 'vol_glance', 'd/a b', data=b'abc')
    write_file(sim, 'vol_glance', 'd/a+b', data=b'plus')
    url = '{}/api/storage/volumes/{}/files/'.format(
        sim.url, vol_uuid(sim, 'vol_glance'))
    meta = {'return_metadata': 'true', 'fields': 'size'}
    space = api.get(url + 'd%2Fa%20b', params=meta).json()['records'][0]
    plus = api.get(url + 'd%2Fa+b', params=meta).json()['records'][0]
    assert (space['path'], space['size']) == ('d/a b', 3)
    assert (plus['path'], plus['size']) == ('d/a+b', 4)


def test_rename_decodes_cinder_body(sim, api):
    write_file(sim, 'vol_cinder_a', 'a.b', data=b'x')
    url = '{}/api//storage/volumes/{}/files/a%2Eb'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    r = api.patch(url, json={'path': 'c%2Ed'})
    assert r.status_code == 200, r.text
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['c.d']


def test_clone_within_return_timeout_is_200_with_the_job(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone?return_timeout=5',
                 json={'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                       'source_path': 'src', 'destination_path': 'd'})
    assert r.status_code == 200
    job = r.json()['job']
    assert set(r.json()) == {'job'} and set(job) == {'uuid', '_links'}
    assert job['_links']['self']['href'] == f"/api/cluster/jobs/{job['uuid']}"
    assert api.get(sim.url + job['_links']['self']['href']).json()[
        'state'] == 'success'


def test_clone_without_return_timeout_is_202(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone',
                 json={'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                       'source_path': 'src', 'destination_path': 'd'})
    assert r.status_code == 202 and set(r.json()) == {'job'}


def test_copy_within_return_timeout_is_200(sim, api):
    src = write_file(sim, 'vol_glance', 'img', 1024 * 1024)
    r = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                 json=copy_body(sim, 'img', 'img-copy', 'vol_glance',
                                'vol_cinder_a'))
    assert r.status_code == 200 and set(r.json()) == {'job'}
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                             'img-copy')) == read(src)


def test_copy_return_timeout_defaults_to_one_second(sim, api):
    write_file(sim, 'vol_glance', 'img', data=b'small')
    r = api.post(sim.url + '/api/storage/file/copy',
                 json=copy_body(sim, 'img', 'c', 'vol_glance', 'vol_cinder_a'))
    assert r.status_code == 200  # done well within the default 1 s
    r = api.post(sim.url + '/api/storage/file/copy?return_timeout=0',
                 json=copy_body(sim, 'img', 'd', 'vol_glance', 'vol_cinder_a'))
    assert r.status_code == 202


def test_job_patch_needs_cancel(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone', json={
        'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
        'source_path': 'src', 'destination_path': 'd'})
    url = sim.url + r.json()['job']['_links']['self']['href']
    assert api.patch(url, json={'action': 'pause'}).status_code == 400
    assert api.patch(url, json={'action': 'cancel'}).status_code == 200


def test_copy_progress_shows_in_job_message_and_destination_size(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', 2 * 1024 * 1024)
    sim.add_fault(path='/api/storage/file/copy', throttle_bps=1024 * 1024)
    r = api.post(sim.url + '/api/storage/file/copy?return_timeout=0',
                 json=copy_body(sim))
    job_url = sim.url + r.json()['job']['_links']['self']['href']
    dst = '{}/api/storage/volumes/{}/files/dst?return_metadata=true' \
        '&fields=size'.format(sim.url, vol_uuid(sim, 'vol_cinder_b'))
    sizes, messages = [], []
    while True:
        job = api.get(job_url).json()
        assert 'progress' not in job
        messages.append(job['message'])
        got = api.get(dst)
        if got.ok:
            sizes.append(got.json()['records'][0]['size'])
        if job['state'] in ('success', 'failure'):
            break
    assert job['state'] == 'success'
    assert any(m.startswith('copied ') for m in messages)
    assert sizes == sorted(sizes) and sizes[-1] == 2 * 1024 * 1024
    assert len(set(sizes)) > 1


def test_snapshot_paths(sim, api):
    url = '{}/api/storage/volumes/{}/files/'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    r = api.get(url + '.snapshot%2Fhourly.0%2Ff?return_metadata=true')
    assert (r.status_code, r.json()['error']['code']) == (404, '6684674')
    r = api.post(url + '.snapshot%2Fhourly.0%2Ff', json={})
    assert (r.status_code, r.json()['error']['code']) == (400, '6684678')


def test_post_with_permissions_and_unsupported_changes(sim, api):
    url = '{}/api/storage/volumes/{}/files/'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    r = api.post(url + 'd', json={'type': 'directory',
                                  'unix_permissions': 700})
    assert r.status_code == 201
    assert os.stat(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                                'd')).st_mode & 0o777 == 0o700
    r = api.patch(url + 'd', json={'unix_permissions': 755})
    assert (r.status_code, r.json()['error']['code']) == (400, '3')
    assert 'not supported by the simulator' in r.json()['error']['message']
