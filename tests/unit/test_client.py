# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""OntapClient against the ONTAP simulator over HTTPS (TLS verified)."""

import copy
import os
import time

import pytest
from netapp_ontap import HostConnection, config

from netapp_eic import client as client_mod
from netapp_eic import exception
from netapp_eic.simulator import DEFAULT_TOPOLOGY, Simulator

MiB = 1024 * 1024


def _topology():
    topo = copy.deepcopy(DEFAULT_TOPOLOGY)
    vs0 = topo['svms'][0]
    vs0['volumes'] += [
        {'name': 'vol_nested', 'junction': '/vol_glance/nested'},
        {'name': 'vol_a', 'junction': '/vol_a'},
        {'name': 'vol_ab', 'junction': '/vol_ab'},
    ]
    return topo


@pytest.fixture
def sim(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with Simulator(topology=_topology(), data_root=str(data_root),
                   seed=7) as s:
        yield s


@pytest.fixture
def client(sim):
    assert config.CONNECTION is None
    conn = HostConnection(sim.host, sim.username, sim.password,
                          verify=sim.ca_file, port=sim.port)
    ontap = client_mod.OntapClient(conn, poll_initial_interval=0.01,
                                   poll_max_interval=0.1)
    yield ontap
    assert config.CONNECTION is None


def _dir(sim, ip, vol):
    return sim.shares[f'{ip}:/{vol}']


def _write(sim, vol, name, data, ip='127.0.0.1'):
    path = os.path.join(_dir(sim, ip, vol), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def _read(sim, vol, name, ip='127.0.0.1'):
    with open(os.path.join(_dir(sim, ip, vol), name), 'rb') as f:
        return f.read()


def _vol(client, name, svm='vs0'):
    return next(v for v in client.flexvols(svm) if v.name == name)


# -- cluster, SVMs, FlexVols -------------------------------------------------

def test_cluster_version(client):
    assert client.cluster_version() == (9, 14, 1)


def test_svm_for_ip(client):
    assert client.svm_for_ip('127.0.0.1') == 'vs0'
    assert client.svm_for_ip('127.0.0.2') == 'vs1'
    assert client.svm_for_ip('127.0.0.9') is None


def test_flexvols_cached_until_invalidate(client, sim):
    names = {v.name for v in client.flexvols('vs0')}
    assert {'vol_cinder_a', 'vol_glance', 'vol_nested'} <= names
    glance = _vol(client, 'vol_glance')
    assert glance.junction == '/vol_glance' and glance.svm == 'vs0'
    before = len(sim.request_log())
    client.flexvols('vs0')
    assert len(sim.request_log()) == before
    client.invalidate()
    client.flexvols('vs0')
    assert len(sim.request_log()) == before + 1


@pytest.mark.parametrize('ip,export,vol,path', [
    ('127.0.0.1', '/vol_glance/images/abc', 'vol_glance', 'images/abc'),
    ('127.0.0.1', '/vol_glance/nested/img', 'vol_nested', 'img'),
    ('127.0.0.1', '/vol_glance/nestedx/img', 'vol_glance', 'nestedx/img'),
    ('127.0.0.1', '/vol_ab/x', 'vol_ab', 'x'),
    ('127.0.0.1', '/vol_a/x', 'vol_a', 'x'),
    ('127.0.0.2', '/vol_vs1/d/e', 'vol_vs1', 'd/e'),
])
def test_resolve(client, ip, export, vol, path):
    resolved = client.resolve(ip, export)
    assert (resolved.flexvol.name, resolved.path) == (vol, path)


@pytest.mark.parametrize('ip,export,reason', [
    ('127.0.0.9', '/vol_glance/x', 'no data LIF'),
    ('127.0.0.1', '/vol_vs1/x', 'no FlexVol'),
    ('127.0.0.1', '/nowhere/x', 'no FlexVol'),
    ('127.0.0.1', '/vol_glance', 'junction'),
    ('127.0.0.1', '/vol_glance/nested', 'junction'),
])
def test_resolve_rejects(client, ip, export, reason):
    with pytest.raises(exception.LocationRejected, match=reason):
        client.resolve(ip, export)


# -- files -------------------------------------------------------------------

def test_file_info(client, sim):
    _write(sim, 'vol_glance', 'images/img1', b'x' * 5000)
    glance = _vol(client, 'vol_glance')
    info = client.file_info(glance, 'images/img1')
    assert info.size == 5000
    assert info.modified_time is not None
    assert client.file_info(glance, 'images/missing') is None


def test_rename_and_delete(client, sim):
    _write(sim, 'vol_cinder_a', 'tmp-1', b'payload')
    vol = _vol(client, 'vol_cinder_a')
    client.rename_file(vol, 'tmp-1', 'img-cache-1')
    assert _read(sim, 'vol_cinder_a', 'img-cache-1') == b'payload'
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
    _write(sim, 'vol_cinder_a', 'src', data)
    vol = _vol(client, 'vol_cinder_a')
    client.clone_file(vol, 'src', 'dst')
    assert _read(sim, 'vol_cinder_a', 'dst') == data
    _write(sim, 'vol_cinder_a', 'src2', b'other')
    with pytest.raises((exception.OntapApiError, exception.OntapJobFailed)):
        client.clone_file(vol, 'src2', 'dst')
    assert _read(sim, 'vol_cinder_a', 'dst') == data
    client.clone_file(vol, 'src2', 'dst', overwrite=True)
    assert _read(sim, 'vol_cinder_a', 'dst') == b'other'


def _copy_paths(client, sim, size=2 * MiB, name='img'):
    data = os.urandom(size)
    _write(sim, 'vol_glance', f'images/{name}', data)
    src = client.resolve('127.0.0.1', f'/vol_glance/images/{name}')
    dst = client.resolve('127.0.0.1', f'/vol_cinder_a/tmp-{name}')
    return data, src, dst


def test_copy_and_wait(client, sim):
    data, src, dst = _copy_paths(client, sim)
    job = client.start_copy(src, dst, return_timeout=0)
    assert job
    client.wait_job(job, timeout=30)
    assert _read(sim, 'vol_cinder_a', 'tmp-img') == data


def test_copy_finishing_within_return_timeout(client, sim):
    data, src, dst = _copy_paths(client, sim, size=64 * 1024)
    assert client.start_copy(src, dst, return_timeout=10) is None
    assert _read(sim, 'vol_cinder_a', 'tmp-img') == data


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
    vol = _vol(client, 'vol_cinder_a')
    with pytest.raises(exception.OntapJobFailed) as err:
        client.clone_file(vol, 'missing', 'dst')
    assert 'not found' in str(err.value)
    assert not os.path.exists(os.path.join(
        _dir(sim, '127.0.0.1', 'vol_cinder_a'), 'dst'))


@pytest.mark.parametrize('return_timeout', [0, 10])
def test_copy_error_found_after_the_start(client, sim, return_timeout):
    """A missing source reported by the copy job: polled (202) or in the
    answer (failed within ``return_timeout``: an error body with the
    job)."""
    _d, src, dst = _copy_paths(client, sim)
    os.unlink(os.path.join(_dir(sim, '127.0.0.1', 'vol_glance'),
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


def test_vstorage_enabled(client):
    assert client.vstorage_enabled('vs0') is True
    assert client.vstorage_enabled('vs1') is False


# -- errors, TLS, configuration -----------------------------------------------

def test_error_conversion(client, sim):
    sim.add_fault(method='GET', path='/api/cluster', status=500,
                  code='8388608', message='boom')
    with pytest.raises(exception.OntapApiError) as err:
        client.cluster_version()
    assert err.value.status == 500
    assert err.value.code == '8388608'
    assert 'boom' in str(err.value)


def test_tls_verification_on(sim):
    # The system CA bundle does not trust the simulator's CA.
    conn = HostConnection(sim.host, sim.username, sim.password,
                          verify=True, port=sim.port)
    ontap = client_mod.OntapClient(conn)
    with pytest.raises(exception.OntapApiError) as err:
        ontap.cluster_version()
    assert err.value.status is None


class _Conf:
    def __init__(self, **values):
        self.values = values

    def safe_get(self, name):
        return self.values.get(name)


def test_from_configuration_defaults_verify():
    ontap = client_mod.OntapClient.from_configuration(_Conf(
        netapp_server_hostname='10.0.0.1', netapp_login='admin',
        netapp_password='secret', netapp_transport_type='https'))
    conn = ontap.connection
    assert conn.verify is True
    assert (conn.host, conn.port, conn.scheme) == ('10.0.0.1', 443, 'https')


def test_from_configuration_explicit_verify_off_only():
    base = dict(netapp_server_hostname='10.0.0.1', netapp_login='admin',
                netapp_password='secret', netapp_ssl_cert_path='/ca.pem')
    on = client_mod.OntapClient.from_configuration(_Conf(
        netapp_ssl_cert_verify=True, **base))
    off = client_mod.OntapClient.from_configuration(_Conf(
        netapp_ssl_cert_verify=False, **base))
    assert on.connection.verify == '/ca.pem'
    assert off.connection.verify is False


def test_from_configuration_against_simulator(sim):
    ontap = client_mod.OntapClient.from_configuration(_Conf(
        netapp_server_hostname=sim.host, netapp_server_port=sim.port,
        netapp_login=sim.username, netapp_password=sim.password,
        netapp_transport_type='https', netapp_ssl_cert_path=sim.ca_file,
        netapp_eic_file_copy_return_timeout=60,
        netapp_eic_poll_initial_interval=0.02,
        netapp_eic_poll_max_interval=0.5))
    assert ontap.connection.verify == sim.ca_file
    assert ontap.connection.protocol_timeouts[1] >= 75
    assert (ontap.poll_initial_interval, ontap.poll_max_interval) == (
        0.02, 0.5)
    assert ontap.cluster_version() == (9, 14, 1)


# -- wait_job without a server ------------------------------------------------

class _FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _scripted(states):
    ontap = client_mod.OntapClient(object(), poll_initial_interval=0.05,
                                   poll_max_interval=0.4)
    clock = _FakeClock()
    ontap.sleep, ontap.monotonic = clock.sleep, clock.monotonic
    script = iter(states)
    ontap._job_record = lambda uuid: next(script)
    return ontap, clock


def test_wait_job_growing_interval():
    states = [('running', '')] * 6 + [('success', 'done')]
    ontap, clock = _scripted(states)
    ontap.wait_job('j1', timeout=60)
    assert clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]


def test_wait_job_timeout_is_bounded():
    ontap, clock = _scripted([('running', '')] * 100)
    with pytest.raises(exception.OntapJobTimeout):
        ontap.wait_job('j1', timeout=1.0)
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_wait_job_failure_reason():
    ontap, _clock = _scripted([('queued', ''), ('failure', 'no space')])
    with pytest.raises(exception.OntapJobFailed, match='no space'):
        ontap.wait_job('j1', timeout=10)


@pytest.mark.parametrize('export,junction,inside', [
    ('/vol_a/x', '/vol_a', 'x'),
    ('/vol_ab/x', '/vol_a', None),
    ('/vol_a', '/vol_a', ''),
    ('/vol_a/x', '/vol_a/', 'x'),
    ('/anything/x', '/', 'anything/x'),
])
def test_under_junction(export, junction, inside):
    assert client_mod._under_junction(export, junction) == inside
