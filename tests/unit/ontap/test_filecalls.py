# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.ontap.filecalls against the simulator: real files, clone and
copy jobs."""

import os
import time

import pytest

from netapp_eic import exception
from tests.unit.ontap.helpers import MiB, flexvol, read, share_dir, write


def test_file_info(client, sim):
    write(sim, 'vol_glance', 'images/img1', b'x' * 5000)
    glance = flexvol(client, 'vol_glance')
    info = client.file_info(glance, 'images/img1')
    assert info.size == 5000
    assert info.modified_time is not None
    assert client.file_info(glance, 'images/missing') is None


def test_rename_and_delete(client, sim):
    write(sim, 'vol_cinder_a', 'tmp-1', b'payload')
    vol = flexvol(client, 'vol_cinder_a')
    client.rename_file(vol, 'tmp-1', 'img-cache-1')
    assert read(sim, 'vol_cinder_a', 'img-cache-1') == b'payload'
    assert client.file_info(vol, 'tmp-1') is None
    assert client.delete_file(vol, 'img-cache-1') is True
    assert client.file_info(vol, 'img-cache-1') is None
    assert client.delete_file(vol, 'img-cache-1') is False
    with pytest.raises(exception.OntapApiError) as err:
        client.delete_file(vol, 'img-cache-1', missing_ok=False)
    assert err.value.status == 404


# -- clone, copy, jobs --------------------------------------------------------

def test_clone_file(client, sim):
    data = os.urandom(MiB)
    write(sim, 'vol_cinder_a', 'src', data)
    vol = flexvol(client, 'vol_cinder_a')
    client.clone_file(vol, 'src', 'dst')
    assert read(sim, 'vol_cinder_a', 'dst') == data
    write(sim, 'vol_cinder_a', 'src2', b'other')
    with pytest.raises((exception.OntapApiError, exception.OntapJobFailed)):
        client.clone_file(vol, 'src2', 'dst')
    assert read(sim, 'vol_cinder_a', 'dst') == data
    client.clone_file(vol, 'src2', 'dst', overwrite=True)
    assert read(sim, 'vol_cinder_a', 'dst') == b'other'


def _copy_paths(client, sim, size=2 * MiB, name='img'):
    data = os.urandom(size)
    write(sim, 'vol_glance', f'images/{name}', data)
    src = client.resolve('127.0.0.1', f'/vol_glance/images/{name}')
    dst = client.resolve('127.0.0.1', f'/vol_cinder_a/tmp-{name}')
    return data, src, dst


def test_copy_and_wait(client, sim):
    data, src, dst = _copy_paths(client, sim)
    job = client.start_copy(src, dst, return_timeout=0)
    assert job
    client.wait_job(job, timeout=30)
    assert read(sim, 'vol_cinder_a', 'tmp-img') == data


def test_copy_finishing_within_return_timeout(client, sim):
    data, src, dst = _copy_paths(client, sim, size=64 * 1024)
    assert client.start_copy(src, dst, return_timeout=10) is None
    assert read(sim, 'vol_cinder_a', 'tmp-img') == data


@pytest.mark.parametrize('return_timeout', [0, 10])
def test_copy_failure(client, sim, return_timeout):
    _d, src, dst = _copy_paths(client, sim)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  fail_after_percent=50)
    with pytest.raises(exception.OntapJobFailed):
        job = client.start_copy(src, dst, return_timeout=return_timeout)
        client.wait_job(job, timeout=30)


def test_clone_error_found_after_the_start(client, sim):
    """ONTAP may report a missing source as a failed job (202, then the
    poll): the simulator's ``defer_errors`` fault answers that way."""
    sim.add_fault(method='POST', path='/api/storage/file/clone',
                  defer_errors=True)
    vol = flexvol(client, 'vol_cinder_a')
    with pytest.raises(exception.OntapJobFailed) as err:
        client.clone_file(vol, 'missing', 'dst')
    assert 'not found' in str(err.value)
    assert not os.path.exists(os.path.join(
        share_dir(sim, '127.0.0.1', 'vol_cinder_a'), 'dst'))


@pytest.mark.parametrize('return_timeout', [0, 10])
def test_copy_error_found_after_the_start(client, sim, return_timeout):
    """A missing source reported by the copy job: polled (202) or in the
    answer (failed within ``return_timeout``: an error body with the
    job)."""
    _d, src, dst = _copy_paths(client, sim)
    os.unlink(os.path.join(share_dir(sim, '127.0.0.1', 'vol_glance'),
                           'images', 'img'))
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  defer_errors=True)
    with pytest.raises(exception.OntapJobFailed) as err:
        job = client.start_copy(src, dst, return_timeout=return_timeout)
        client.wait_job(job, timeout=30)
    assert 'not found' in str(err.value)


def test_copy_timeout_then_cancel(client, sim):
    _d, src, dst = _copy_paths(client, sim, size=4 * MiB)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  throttle_bps=256 * 1024)
    job = client.start_copy(src, dst, return_timeout=0)
    assert job
    started = time.monotonic()
    with pytest.raises(exception.OntapJobTimeout):
        client.wait_job(job, timeout=0.3)
    assert time.monotonic() - started < 5
    client.cancel_job(job)
    deadline = time.monotonic() + 10
    while client._job_record(job)[0] not in ('success', 'failure'):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert client._job_record(job)[0] == 'failure'
    with pytest.raises(exception.OntapJobFailed):
        client.wait_job(job, timeout=1)


def test_cancel_unknown_job_is_ignored(client):
    client.cancel_job('00000000-0000-0000-0000-000000000000')
