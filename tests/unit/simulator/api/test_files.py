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


def test_file_path_encoding(sim, api):
    os.makedirs(os.path.join(vol_dir(sim, 'vol_glance'), 'd'))
    write_file(sim, 'vol_glance', 'd/a b', data=b'abc')
    url = '{}/api/storage/volumes/{}/files/d%2Fa+b'.format(
        sim.url, vol_uuid(sim, 'vol_glance'))
    body = api.get(url, params={'return_metadata': 'true'}).json()
    assert body['num_records'] == 1
    assert body['records'][0]['size'] == 3
    assert body['records'][0]['path'] == 'd/a b'


def test_rename_decodes_cinder_body(sim, api):
    write_file(sim, 'vol_cinder_a', 'a.b', data=b'x')
    url = '{}/api//storage/volumes/{}/files/a%2Eb'.format(
        sim.url, vol_uuid(sim, 'vol_cinder_a'))
    r = api.patch(url, json={'path': 'c%2Ed'})
    assert r.status_code == 200, r.text
    assert os.listdir(vol_dir(sim, 'vol_cinder_a')) == ['c.d']


def test_clone_return_timeout_answers_finished_job(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone?return_timeout=5',
                 json={'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
                       'source_path': 'src', 'destination_path': 'd'})
    assert r.status_code == 201
    body = r.json()
    assert body['state'] == 'success'
    assert body['job']['_links']['self']['href'].startswith('/api/')


def test_copy_with_return_timeout(sim, api):
    src = write_file(sim, 'vol_glance', 'img', 1024 * 1024)
    r = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                 json=copy_body(sim, 'img', 'img-copy', 'vol_glance',
                                'vol_cinder_a'))
    assert r.status_code == 201
    assert r.json()['state'] == 'success'
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'),
                             'img-copy')) == read(src)


def test_job_patch_needs_cancel(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'x')
    r = api.post(sim.url + '/api/storage/file/clone', json={
        'volume': {'uuid': vol_uuid(sim, 'vol_cinder_a')},
        'source_path': 'src', 'destination_path': 'd'})
    url = sim.url + r.json()['job']['_links']['self']['href']
    assert api.patch(url, json={'action': 'pause'}).status_code == 400
    assert api.patch(url, json={'action': 'cancel'}).status_code == 200
