# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Active/active: two cinder-volume services, hosts ``e2e`` and ``e2e-b``,
in one Cinder cluster (the stack's ``cluster`` option, no
``backend_host``), both serving the ``eic`` backend, with the stack's
Redis as their ``[coordination] backend_url``. cinder-scheduler sends each
create to the cluster's queue and either service takes it; Cinder then
records the service's own host on the volume.

A boot storm of one cold image makes one File Copy whichever host takes
each create: the driver's single-flight lock lives in Redis. The second
service runs for this module only.
"""

import threading

import pytest

from tests.e2e import driverlog
from tests.e2e import storage
from tests.e2e.scenario import EIC, FILE_COPY

POOL_A = storage.EIC_POOLS[0]
SECOND_HOST = 'e2e-b'
STORM = 10
SMALL_MIB = 64


@pytest.fixture(autouse=True)
def _locations_api(glance_mode):
    glance_mode('api')


@pytest.fixture(scope='module')
def hosts(run):
    """Both volume services, the second started for this module and
    stopped after it (the first takes the cluster's queue alone again)."""
    cinder = run.stack.cinder
    first = cinder.volume_services[0]
    second = cinder.add_volume_service(SECOND_HOST)
    try:
        run.stack.timings['second cinder-volume up'] = cinder.wait_ready()
        yield first, second
    finally:
        cinder.stop_volume_service(second)


def _served(run, hosts, volume_ids) -> dict[str, list[str]]:
    """The volumes each host created, by its driver's per-create line;
    the host Cinder recorded on each volume must say the same."""
    served = {}
    for service in hosts:
        reported = driverlog.creates(service.log_path)
        served[service.host] = sorted(v for v in volume_ids
                                      if v in reported)
        for volume_id in served[service.host]:
            host = getattr(run.api.volume(volume_id),
                           'os-vol-host-attr:host')
            assert host.startswith(service.host + '@'), (volume_id, host)
    assert sorted(sum(served.values(), [])) == sorted(volume_ids), served
    return served


def _image_files(run, flexvol, image_id) -> list[str]:
    """The image's files in the FlexVol root, its verification record
    (the Glance file verified once, for every host) aside."""
    return sorted(e for e in run.flexvol_entries(flexvol) if image_id in e
                  and not e.startswith('.eic-verified-'))


def _one_entry(image_id) -> list[str]:
    """The cache entry of the image and its record, nothing else (no
    lease, no temporary, no second entry)."""
    return sorted(['img-cache-' + image_id,
                   '.img-cache-%s.eic.json' % image_id])


def test_boot_storm_on_two_hosts_copies_once(run, hosts):
    image_id, image = run.image('glance')
    before = len(run.stack.storage.requests())

    times = run.api.storm(image_id, run.volume_type(EIC, POOL_A), STORM)

    copies = run.file_copies_since(before)
    assert len(copies) == 1, copies
    assert run.downloads(image_id) == 0
    reports = run.driver_reports()
    for volume_id in times:
        assert [r.cloned for r in reports.get(volume_id, [])] == [True], (
            volume_id, reports.get(volume_id))
        run.assert_bytes(volume_id, image)
    served = _served(run, hosts, list(times))
    assert all(served.values()), served
    assert _image_files(run, POOL_A, image_id) == _one_entry(image_id)
    assert run.strays(POOL_A) == []
    seconds = sorted(times.values())
    run.table.add_section(
        'Active/active boot storm: %d parallel creates of one cold image '
        '(%d MiB), two cinder-volume hosts in one cluster, Redis locks:'
        % (STORM, run.size_mib), [
            'creates per host: %s; File Copies: %d; Glance downloads: 0' % (
                ', '.join('%s %d' % (h, len(v)) for h, v in served.items()),
                len(copies)),
            'seconds to available: mean %.2f, first %.2f, last %.2f' % (
                sum(seconds) / len(seconds), seconds[0], seconds[-1])])


def test_creates_on_both_hosts_wait_for_the_one_copy(run, hosts):
    """The copy is paced (the simulator throttles it to about 4 s) so that
    every create arrives while it runs: the other host's creates wait for
    the build lock, which is a key in Redis, instead of copying."""
    image_id, image = run.image('glance', size_mib=SMALL_MIB)
    before = len(run.stack.storage.requests())
    redis = run.stack.redis.client()
    locks: set[bytes] = set()
    done = threading.Event()

    def watch_locks() -> None:
        while not done.is_set():
            locks.update(redis.keys('*netapp-eic-build-%s-*' % image_id))
            done.wait(0.05)
    watcher = threading.Thread(target=watch_locks, daemon=True)
    run.stack.storage.control('POST', 'faults', {
        'method': 'POST', 'path': FILE_COPY, 'count': 1,
        'throttle_bps': SMALL_MIB * 1024 ** 2 // 4})
    watcher.start()
    try:
        times = run.api.storm(image_id, run.volume_type(EIC, POOL_A), STORM)
    finally:
        done.set()
        watcher.join()
        redis.close()
        run.stack.storage.control('DELETE', 'faults')

    assert len(run.file_copies_since(before)) == 1
    assert locks, 'no build lock of image %s seen in Redis' % image_id
    found = run.driver_reports()
    assert all(len(found.get(v, [])) == 1 for v in times), found
    reports = {v: found[v][0] for v in times}
    copier = [v for v, r in reports.items()
              if r.path == 'file-copy' and 'concurrent' not in r.note]
    assert len(copier) == 1, reports
    served = _served(run, hosts, list(times))
    elsewhere = [v for vols in served.values() if copier[0] not in vols
                 for v in vols]
    # Waited on the other host for the copy this one made.
    assert any('concurrent' in reports[v].note for v in elsewhere), (
        served, reports)
    for volume_id in times:
        run.assert_bytes(volume_id, image)
    assert run.downloads(image_id) == 0
    assert _image_files(run, POOL_A, image_id) == _one_entry(image_id)
    assert run.strays(POOL_A) == []
