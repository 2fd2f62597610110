# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Jobs: states, listing, cancel, expiry."""

import os
import time

import pytest
from netapp_ontap.resources import FileCopy, Job

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import jobs
from tests.unit.simulator.helpers import (
    MIB,
    copy_body,
    vol_dir,
    write_file,
)


def test_job_table_expires_finished_jobs():
    table = jobs.Jobs(lambda: 'u-1', ttl=0.1)
    job = table.new('test')
    assert table.get('u-1') is job
    job.succeed()
    assert table.get('u-1').record()['state'] == 'success'
    time.sleep(0.2)
    with pytest.raises(errors.NotFound):
        table.get('u-1')
    assert table.records() == []


def test_cancel_without_thread_and_after_the_end():
    table = jobs.Jobs(lambda: 'u-2', ttl=60)
    job = table.new('test')
    assert table.cancel('u-2').record()['message'] == 'cancelled'
    assert job.record()['error'] == {'message': 'cancelled', 'code': '1'}
    assert table.cancel('u-2') is job  # already terminal: unchanged


def test_get_job_and_collection(sim, conn):
    write_file(sim, 'vol_cinder_a', 'f', data=b'abc')
    response = FileCopy(**copy_body(sim, 'f', 'g')).post(poll=False)
    job_uuid = response.http_response.json()['job']['uuid']
    job = Job(uuid=job_uuid)
    for _ in range(100):
        job.get()
        if job.state == 'success':
            break
        time.sleep(0.02)
    assert job.state == 'success'
    uuids = [j.uuid for j in Job.get_collection(connection=conn)]
    assert job_uuid in uuids


def test_cancel_throttled_copy(sim, conn, api):
    write_file(sim, 'vol_cinder_a', 'big', 4 * MIB)
    body = copy_body(sim, 'big', 'partial')
    response = FileCopy(max_throughput=MIB, **body).post(poll=False)
    job_uuid = response.http_response.json()['job']['uuid']
    time.sleep(0.5)
    running = api.get(sim.url + '/api/cluster/jobs/' + job_uuid).json()
    assert running['state'] == 'running'
    assert running['message'].startswith('copied ')
    job = Job(uuid=job_uuid)
    job.patch(action='cancel')
    job.get()
    assert job.state == 'failure'
    assert job.message == 'cancelled'
    partial = os.path.join(vol_dir(sim, 'vol_cinder_b'), 'partial')
    assert 0 < os.path.getsize(partial) < 4 * MIB
