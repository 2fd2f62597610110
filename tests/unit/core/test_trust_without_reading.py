# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Trust without the host read (issue 18), each case as an attack or a
fault against the real engine, the real ONTAP client and the simulator,
asserting the bytes the host read and the files left in every FlexVol.

- Verification records: a Glance file verified once is not hashed again,
  by this host or another, while its identity holds; a file rewritten,
  renamed over, truncated or hard-linked since, and a corrupt or forged
  record, cost a new hash.
- The array's fingerprint: a sha256 image is checked with no host byte;
  refusals fall back to the host hash with one warning per backend; a
  wrong digest refuses the create; a failed, vanished or slow session
  costs that create the host hash.
- Glance's FlexVols: mounted read-only when a location names one served
  by a pool's SVM; never one of another SVM or cluster.
"""

import dataclasses
import logging
import os
import shutil

import pytest

from netapp_eic import ontap as client_mod
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Route, Settings
from netapp_eic_testing import glance as glance_mod
from tests.unit.core import fakes
from tests.unit.core.helpers import (IMAGE_SIZE, POOL_A, POOL_B, add_image,
                                     digest, glance_on, leftovers, new_files,
                                     request, tree, verification_records)

FINGERPRINTS = '/api/storage/snaplock/file-fingerprints'


def second_host(sim, settings):
    """Another cinder-volume host of the backend: its own client, host
    and engine over the same cluster (its records are the FlexVols')."""
    client = client_mod.OntapClient(sim.connection(),
                                    poll_initial_interval=0.01,
                                    poll_max_interval=0.1)
    host = fakes.FakeHost(sim.shares, mounted=[POOL_A, POOL_B])
    return engine_mod.Engine(client, host, settings)


@pytest.fixture
def settings():
    # Without the cache, every create checks its source: what a record
    # spares is seen create by create.
    return Settings(visibility_timeout=2.0, cache_enabled=False,
                    mount_glance_flexvols=False, fingerprint_start=1.0)


@pytest.fixture
def sha256_local(sim):
    return glance_on(sim, 'vol_cinder_a', 'glance-images', algorithm='sha256')


@pytest.fixture
def sha256_remote(sim):
    return glance_on(sim, 'vol_glance', 'images', algorithm='sha256')


# -- verification records ---------------------------------------------------


def test_direct_clone_of_a_verified_file_reads_nothing_on_another_host(
        engine, sim, settings, glance_local, tmp_path):
    image_id, image_digest = add_image(glance_local, tmp_path)
    first = engine.create(request(glance_local, image_id))
    assert first.path is Route.DIRECT_CLONE
    assert first.host_bytes == IMAGE_SIZE
    assert first.verified == 'host sha512 of the cloned file'
    [record] = verification_records(sim, image_id)
    other = second_host(sim, settings)
    again = other.create(request(glance_local, image_id, name='volume-2'))
    assert again.path is Route.DIRECT_CLONE
    assert again.host_bytes == 0
    assert again.verified.startswith('record of ')
    assert again.verified.endswith('(host sha512)')
    assert digest(again.volume_file) == image_digest


def rewrite(path):
    """The same bytes written again in place."""
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'r+b') as f:
        f.write(data)


def rename_over(path):
    shutil.copyfile(path, path + '.new')
    os.replace(path + '.new', path)


def truncate_and_restore(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'r+b') as f:
        f.truncate(0)
        f.write(data)


def link_and_unlink(path):
    os.link(path, path + '.link')
    os.unlink(path + '.link')


@pytest.mark.parametrize('change', [rewrite, rename_over,
                                    truncate_and_restore, link_and_unlink])
def test_a_changed_file_is_hashed_again(engine, sim, glance_local, tmp_path,
                                        change):
    image_id, image_digest = add_image(glance_local, tmp_path)
    engine.create(request(glance_local, image_id))
    change(glance_local.image_path(image_id))
    again = engine.create(request(glance_local, image_id, name='volume-2'))
    assert again.path is Route.DIRECT_CLONE
    assert again.host_bytes == IMAGE_SIZE
    assert again.verified == 'host sha512 of the cloned file'
    assert digest(again.volume_file) == image_digest


def test_a_changed_file_with_other_bytes_is_refused(engine, sim,
                                                    glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    engine.create(request(glance_local, image_id))
    with open(glance_local.image_path(image_id), 'r+b') as f:
        f.write(b'\xff')
    before = tree(sim)
    again = engine.create(request(glance_local, image_id, name='volume-2'))
    assert again.path is Route.DOWNLOAD
    assert 'does not match Glance' in again.failures[0][1]
    assert new_files(before, tree(sim)) == {}


@pytest.mark.parametrize('forge', [
    pytest.param(lambda text, other: b'{"version": 1', id='corrupt'),
    pytest.param(lambda text, other: text.replace(b'"value": "',
                                                  b'"value": "00'),
                 id='other-digest'),
    pytest.param(lambda text, other: other, id='copied-from-another-file'),
    pytest.param(lambda text, other: text.replace(b'"version": 1',
                                                  b'"version": true'),
                 id='wrong-type'),
])
def test_a_forged_or_corrupt_record_counts_for_nothing(
        engine, sim, glance_local, tmp_path, forge, caplog):
    image_id, image_digest = add_image(glance_local, tmp_path)
    other_id, _ = add_image(glance_local, tmp_path, seed=2)
    engine.create(request(glance_local, image_id))
    engine.create(request(glance_local, other_id, name='volume-o'))
    pool = sim.shares[POOL_A]
    [name] = verification_records(sim, image_id)
    [other] = verification_records(sim, other_id)
    with open(os.path.join(pool, name), 'rb') as f:
        text = f.read()
    with open(os.path.join(pool, other), 'rb') as f:
        other_text = f.read()
    with open(os.path.join(pool, name), 'wb') as f:
        f.write(forge(text, other_text))
    caplog.set_level(logging.INFO, 'netapp_eic.core.verifications')
    again = engine.create(request(glance_local, image_id, name='volume-2'))
    assert again.host_bytes == IMAGE_SIZE
    assert again.verified == 'host sha512 of the cloned file'
    assert digest(again.volume_file) == image_digest
    assert any(name in r.getMessage() for r in caplog.records)


def test_a_record_is_kept_in_pools_never_in_glance_flexvols(
        engine, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    before = tree(sim)
    outcome = engine.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    added = new_files(before, tree(sim))
    assert set(added) == {'vol_cinder_a'}
    # ONTAP's times have one-second precision: a file changed less than
    # two seconds ago (this one) is not recorded without the mount's view.
    assert verification_records(sim, image_id) == []


# -- the array's fingerprint ----------------------------------------------


def test_sha256_direct_clone_reads_no_host_byte(engine, sim, sha256_local,
                                                tmp_path):
    image_id, image_digest = add_image(sha256_local, tmp_path)
    outcome = engine.create(request(sha256_local, image_id))
    assert outcome.path is Route.DIRECT_CLONE
    assert outcome.host_bytes == 0
    assert outcome.verified == 'array sha256 of the cloned file'
    assert digest(outcome.volume_file) == image_digest
    assert len(verification_records(sim, image_id)) == 1


def test_sha256_file_copy_reads_no_host_byte(engine, sim, sha256_remote,
                                             tmp_path):
    image_id, image_digest = add_image(sha256_remote, tmp_path)
    outcome = engine.create(request(sha256_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert outcome.host_bytes == 0
    assert outcome.verified == ('array sha256 of the Glance file, during '
                                'the copy')
    assert digest(outcome.volume_file) == image_digest


def test_md5_only_when_the_operator_allows_it(client, host, sim,
                                              glance_local, tmp_path):
    image_id, _ = add_image(glance_local, tmp_path)
    meta = dict(glance_local.show(None, image_id))
    del meta['os_hash_value'], meta['os_hash_algo']
    base = Settings(visibility_timeout=2.0, cache_enabled=False)
    for allowed, host_bytes, how in (
            (False, IMAGE_SIZE, 'host md5 of the cloned file'),
            (True, 0, 'array md5 of the cloned file')):
        eng = engine_mod.Engine(client, host, dataclasses.replace(
            base, fingerprint_md5=allowed, verification_records=False))
        req = dataclasses.replace(request(glance_local, image_id),
                                  image_meta=meta)
        outcome = eng.create(req)
        assert (outcome.host_bytes, outcome.verified) == (host_bytes, how)


@pytest.mark.parametrize('refusal', ['forbidden', 'unknown_api',
                                     'unlicensed'])
def test_a_refused_fingerprint_falls_back_to_the_host_with_one_warning(
        engine, sim, sha256_local, tmp_path, refusal, caplog):
    sim.add_fault(method='POST', path=FINGERPRINTS, refuse=refusal)
    caplog.set_level(logging.WARNING, 'netapp_eic.core.contentcheck')
    for n in range(2):
        image_id, image_digest = add_image(sha256_local, tmp_path, seed=n)
        outcome = engine.create(request(sha256_local, image_id,
                                        name='volume-%d' % n))
        assert outcome.path is Route.DIRECT_CLONE
        assert outcome.host_bytes == IMAGE_SIZE
        assert outcome.verified == 'host sha256 of the cloned file'
        assert digest(outcome.volume_file) == image_digest
    warnings = [r for r in caplog.records
                if 'refused a file fingerprint' in r.getMessage()]
    assert len(warnings) == 1
    assert engine.content_checker.fingerprint_problem()


@pytest.mark.parametrize('glance', ['sha256_local', 'sha256_remote'])
def test_a_wrong_array_digest_refuses_the_create(engine, sim, tmp_path,
                                                 glance, request_fixture):
    service = request_fixture(glance)
    image_id, _ = add_image(service, tmp_path)
    sim.add_fault(method='POST', path=FINGERPRINTS,
                  fingerprint_digest='wrong')
    before = tree(sim)
    outcome = engine.create(request(service, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert "the array's sha256" in outcome.failures[0][1]
    assert new_files(before, tree(sim)) == {}
    assert leftovers(sim) == []


@pytest.fixture
def request_fixture(request):
    return request.getfixturevalue


@pytest.mark.parametrize('fault', [
    pytest.param({'fingerprint_fail': True}, id='failed'),
    pytest.param({'fingerprint_vanish': True, 'fingerprint_delay': 0.2},
                 id='vanished'),
    pytest.param({'fingerprint_delay': 60}, id='slow-past-its-bound'),
])
def test_a_session_without_a_digest_costs_that_create_the_host_hash(
        engine, sim, sha256_local, tmp_path, fault):
    image_id, image_digest = add_image(sha256_local, tmp_path)
    sim.add_fault(method='POST', path=FINGERPRINTS, **fault)
    outcome = engine.create(request(sha256_local, image_id))
    assert outcome.path is Route.DIRECT_CLONE
    assert outcome.host_bytes == IMAGE_SIZE
    assert outcome.verified == 'host sha256 of the cloned file'
    assert digest(outcome.volume_file) == image_digest
    # Not a refusal: the next create asks the array again.
    assert engine.content_checker.fingerprint_problem() is None
    assert not [r for r in sim.backend.fingerprints.records()
                if r['state'] == 'in_progress']
    assert leftovers(sim) == []


def test_probe_finds_fingerprints_and_leaves_nothing(engine, sim):
    before = tree(sim)
    assert engine.probe_fingerprints() is None
    assert new_files(before, tree(sim)) == {}
    sim.add_fault(method='POST', path=FINGERPRINTS, refuse='forbidden')
    assert 'HTTP 403' in engine.probe_fingerprints()
    assert new_files(before, tree(sim)) == {}


# -- Glance's FlexVols -----------------------------------------------------


def test_glance_flexvol_of_a_pool_svm_is_mounted_and_hashed_during_copy(
        client, host, sim, glance_remote, tmp_path):
    eng = engine_mod.Engine(client, host, Settings(visibility_timeout=2.0))
    image_id, image_digest = add_image(glance_remote, tmp_path)
    outcome = eng.create(request(glance_remote, image_id))
    assert outcome.path is Route.FILE_COPY
    assert outcome.verified == ('host sha512 of the Glance file, during '
                                'the copy')
    assert outcome.host_bytes == IMAGE_SIZE
    assert digest(outcome.volume_file) == image_digest
    assert host.image_shares() == ['127.0.0.1:/vol_glance']
    [state] = eng.glance_mounts.report()
    assert state.mounted and 'image %s' % image_id in state.why
    # Nothing is written in Glance's FlexVol; the record is the pool's.
    assert verification_records(sim, image_id)


def test_glance_flexvol_of_another_svm_is_never_mounted(client, host, sim,
                                                        tmp_path):
    eng = engine_mod.Engine(client, host, Settings(visibility_timeout=2.0))
    glance = glance_on(sim, 'vol_vs1', 'images', ip='127.0.0.2')
    image_id, _ = add_image(glance, tmp_path)
    eng.create(request(glance, image_id))
    assert host.image_shares() == []
    [state] = eng.glance_mounts.report()
    assert not state.mounted
    assert 'SVM vs1 serves no pool' in state.why


def test_glance_flexvols_are_not_mounted_when_the_option_is_off(
        engine, host, sim, glance_remote, tmp_path):
    image_id, _ = add_image(glance_remote, tmp_path)
    outcome = engine.create(request(glance_remote, image_id))
    assert host.image_shares() == []
    assert outcome.verified == 'host sha512 of the copied file'


def test_maintenance_removes_records_of_changed_or_gone_files(
        engine, sim, glance_local, tmp_path):
    kept, _ = add_image(glance_local, tmp_path, seed=1)
    changed, _ = add_image(glance_local, tmp_path, seed=2)
    gone, _ = add_image(glance_local, tmp_path, seed=3)
    for n, image_id in enumerate((kept, changed, gone)):
        engine.create(request(glance_local, image_id, name='volume-%d' % n))
    rename_over(glance_local.image_path(changed))
    os.unlink(glance_local.image_path(gone))
    engine.maintain(max_temp_age=3600)
    assert len(verification_records(sim, kept)) == 1
    assert verification_records(sim, changed) == []
    assert verification_records(sim, gone) == []


def test_an_export_of_another_cluster_is_never_mounted(client, host, sim,
                                                       tmp_path):
    eng = engine_mod.Engine(client, host, Settings(visibility_timeout=2.0))
    # A Glance store whose locations name an NFS server that is no data
    # LIF of this cluster (the files are local only so the stand-in can
    # hash them).
    store = tmp_path / 'other-cluster'
    glance = glance_mod.FakeImageService(str(store / 'images'),
                                         'nfs://192.0.2.55/vol_glance',
                                         str(store))
    image_id, _ = add_image(glance, tmp_path)
    outcome = eng.create(request(glance, image_id))
    assert outcome.path is Route.DOWNLOAD
    assert host.image_shares() == []
    assert eng.glance_mounts.report() == []
