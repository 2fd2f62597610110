# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Copy progress: read from the destination file through the files API
while the simulator's File Copy runs (throttled so that it lasts), logged
once per interval, offered to observers."""

import logging
import os
import time

from netapp_eic import ontap
from netapp_eic.ontap import progress
from tests.unit.ontap.helpers import MiB, flexvol, share_dir, write

SIZE = 4 * MiB


def _copy(sim, client, bps):
    data = os.urandom(SIZE)
    write(sim, 'vol_glance', 'images/img', data)
    sim.add_fault(method='POST', path='/api/storage/file/copy',
                  throttle_bps=bps, count=1)
    src = ontap.ResolvedPath(flexvol(client, 'vol_glance'), 'images/img')
    dst = ontap.ResolvedPath(flexvol(client, 'vol_cinder_a'), 'copy')
    return src, dst, client.start_copy(src, dst, return_timeout=0)


def test_long_copy_logged_with_percent_bytes_rate(sim, client, caplog):
    src, dst, job = _copy(sim, client, bps=4 * MiB)
    samples = []
    watch = progress.FileCopyProgress(
        client, dst, lambda: client.file_info(src.flexvol, src.path).size,
        'File Copy of img', interval=0.25)
    caplog.set_level(logging.INFO, logger='netapp_eic.ontap.progress')
    with progress.observing(samples.append):
        client.wait_job(job, 30, 0.05, 0.1, on_poll=watch)
    lines = [r.getMessage() for r in caplog.records
             if r.name == 'netapp_eic.ontap.progress']
    assert len(lines) >= 2, lines
    assert all(line.startswith('File Copy of img: ') for line in lines)
    assert any('%' in line and 'MiB of 4.0 MiB' in line and '/s' in line
               for line in lines), lines
    assert len(samples) > len(lines)
    # Before ONTAP creates the destination its size is unknown (None);
    # once known it only grows.
    done = [s.done for s in samples]
    unknown = done.index(next(d for d in done if d is not None))
    assert done[:unknown] == [None] * unknown
    known = done[unknown:]
    assert None not in known and known == sorted(known)
    assert 0 < known[-1] <= SIZE
    assert {s.total for s in samples} == {SIZE}
    assert os.path.getsize(os.path.join(
        share_dir(sim, '127.0.0.1', 'vol_cinder_a'), 'copy')) == SIZE


def test_short_copy_logs_nothing_and_never_asks_sizes(sim, client, caplog):
    src, dst, job = _copy(sim, client, bps=None)
    asked = []
    watch = progress.FileCopyProgress(client, dst,
                                      lambda: asked.append(1) or SIZE,
                                      'File Copy of img', interval=60)
    sim.clear_request_log()
    caplog.set_level(logging.INFO, logger='netapp_eic.ontap.progress')
    if job is not None:
        client.wait_job(job, 30, 0.01, 0.05, on_poll=watch)
    assert not [r for r in caplog.records
                if r.name == 'netapp_eic.ontap.progress']
    assert asked == []
    assert not [r for r in sim.request_log() if '/files/' in r['path']]


def test_local_file_watch_reports_growth(tmp_path, caplog):
    path = tmp_path / 'dest'
    samples = []
    caplog.set_level(logging.INFO, logger='netapp_eic.ontap.progress')
    with progress.observing(samples.append):
        with progress.watching_file(str(path), lambda: 3 * MiB,
                                    'Copy offload of img', interval=0.1,
                                    poll=0.05):
            for _ in range(3):
                with open(path, 'ab') as f:
                    f.write(b'x' * MiB)
                time.sleep(0.2)
    assert samples and samples[-1].done == 3 * MiB
    assert samples[-1].percent == 100.0
    assert any('Copy offload of img: ' in r.getMessage()
               for r in caplog.records)


def test_describe_and_message_percent():
    sample = progress.Sample('x', 512 * MiB, 1024 * MiB, 2.0)
    assert progress.describe(sample) == (
        '50% (512.0 MiB of 1.0 GiB) at 256.0 MiB/s')
    hint = progress.Sample('x', None, None, 1.0, progress.percent_in(
        'copied 10 of 40 bytes (25%)'))
    assert progress.describe(hint) == '25%'
    assert progress.percent_in('running') is None
    assert progress.describe(progress.Sample('x', None, None, 0)) == (
        'running')
