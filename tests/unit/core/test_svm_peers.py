# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance on its own SVM (issue 20): a File Copy from another SVM needs an
SVM peer relationship with the file_copy application, as ONTAP (and so
the simulator) requires. Without one the plan skips File Copy with the
command to run and posts nothing; with one the copy is made and verified
as a same-SVM one; ``create_svm_peers`` makes the peer first."""

import dataclasses
import types

import pytest

from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Route
from tests.unit.core.helpers import (add_image, digest, glance_on, posts,
                                     request)

NO_PEER = ('SVM vs1 is not peered with SVM vs0 for file copy (vserver peer '
           'create -vserver vs0 -peer-vserver vs1 -applications file-copy)')


@pytest.fixture
def vs1(sim, tmp_path):
    """An image in a Glance store on FlexVol vol_vs1 of SVM vs1:
    ``image_id``, ``digest`` and the ``request`` creating a volume of it
    in pool A (SVM vs0)."""
    glance = glance_on(sim, 'vol_vs1', 'images', ip='127.0.0.2')
    image_id, image_digest = add_image(glance, tmp_path)
    return types.SimpleNamespace(image_id=image_id, digest=image_digest,
                                 request=request(glance, image_id))


def peer(client, applications):
    """What an operator's ``vserver peer create`` does."""
    from netapp_ontap.resources import SvmPeer
    record = SvmPeer(svm={'name': 'vs0'}, peer={'svm': {'name': 'vs1'}},
                     applications=applications)
    record.set_connection(client.connection)
    record.post(hydrate=False)


def test_without_a_peer_file_copy_is_skipped_and_nothing_posted(
        engine, sim, vs1):
    outcome = engine.create(vs1.request)
    assert outcome.path is Route.DOWNLOAD
    [skip] = [s for s in outcome.skipped if s.startswith('file-copy: ')]
    assert skip.endswith('vol_vs1/images/%s: %s' % (vs1.image_id, NO_PEER))
    assert posts(sim, '/storage/file/copy') == []
    assert NO_PEER in engine.explain(vs1.request)


def test_with_a_file_copy_peer_the_copy_is_made_and_verified(
        engine, client, sim, vs1):
    peer(client, ['file_copy'])
    outcome = engine.create(vs1.request)
    assert outcome.path is Route.FILE_COPY
    assert digest(outcome.volume_file) == vs1.digest
    assert outcome.verified.startswith('host sha512 of the copied file')
    entry = [e for e in engine.cache_entries('127.0.0.1:/vol_cinder_a')
             if e.image_id == vs1.image_id]
    assert entry[0].record.verified
    assert len(posts(sim, '/storage/file/copy')) == 1


def test_a_peer_without_file_copy_is_named_with_the_modify_command(
        engine, client, sim, vs1):
    peer(client, ['snapmirror'])
    outcome = engine.create(vs1.request)
    assert outcome.path is Route.DOWNLOAD
    assert any('SVM peer vs0-vs1 does not allow file copy (vserver peer '
               'modify -vserver vs0 -peer-vserver vs1 -applications '
               'snapmirror,file-copy)' in s for s in outcome.skipped)


def test_the_option_creates_the_peer_then_copies(client, host, settings,
                                                 sim, vs1):
    engine = engine_mod.Engine(client, host, dataclasses.replace(
        settings, create_svm_peers=True))
    assert 'after creating the SVM peer' in engine.explain(vs1.request)
    assert client.svm_peer('vs0', 'vs1') is None  # explain changed nothing
    outcome = engine.create(vs1.request)
    assert outcome.path is Route.FILE_COPY
    assert digest(outcome.volume_file) == vs1.digest
    made = client.svm_peer('vs0', 'vs1')
    assert (made.state, made.applications) == ('peered', ('file_copy',))
    assert client.svm_peer('vs1', 'vs0').allows_file_copy


def test_the_option_adds_file_copy_to_an_existing_peer(
        client, host, settings, sim, vs1):
    peer(client, ['snapmirror'])
    engine = engine_mod.Engine(client, host, dataclasses.replace(
        settings, create_svm_peers=True))
    outcome = engine.create(vs1.request)
    assert outcome.path is Route.FILE_COPY
    assert digest(outcome.volume_file) == vs1.digest
    assert sorted(client.svm_peer('vs0', 'vs1').applications) == [
        'file_copy', 'snapmirror']
