# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The decision without I/O: which paths are planned, in which order, and
why the others are skipped."""

import dataclasses

from netapp_eic.core import planner
from netapp_eic.core.types import CacheState, Route, Source, SourceKind, faster

IMAGE = Source(SourceKind.IMAGE, 'vs0', 'vol_glance', 'images/i1',
               '127.0.0.1', 'file:///glance/images/i1')
LOCAL = Source(SourceKind.IMAGE, 'vs0', 'vol_a', 'glance/i1', '127.0.0.1',
               'file:///a/glance/i1')
REMOTE_CACHE = Source(SourceKind.CACHE, 'vs0', 'vol_b', 'img-cache-i1',
                      '127.0.0.1', '127.0.0.1:/vol_b/img-cache-i1')
OTHER_SVM = Source(SourceKind.IMAGE, 'vs1', 'vol_vs1', 'i1', '127.0.0.2',
                   'nfs://127.0.0.2/vol_vs1/i1')

BASE = planner.Facts(image_id='i1', volume_id='v1', pool='127.0.0.1:/vol_a',
                     dest_svm='vs0', dest_flexvol='vol_a',
                     cache_state=CacheState.MISSING, cache_reason='no entry')


def facts(**kw):
    return dataclasses.replace(BASE, **kw)


def paths(the_plan):
    return [step.path for step in the_plan.steps]


def skipped(the_plan):
    return dict(the_plan.skipped)


def test_fresh_cache_entry_is_tried_first():
    p = planner.plan(facts(cache_state=CacheState.FRESH, cache_reason='',
                           local_image=LOCAL, remote_sources=(IMAGE,)))
    assert paths(p) == [Route.CACHE_CLONE, Route.DIRECT_CLONE, Route.FILE_COPY,
                        Route.DOWNLOAD]


def test_missing_cache_is_skipped_with_its_reason():
    p = planner.plan(facts(local_image=LOCAL))
    assert paths(p) == [Route.DIRECT_CLONE, Route.DOWNLOAD]
    assert skipped(p)[Route.CACHE_CLONE] == 'no entry'


def test_image_in_other_flexvol_plans_file_copy():
    p = planner.plan(facts(remote_sources=(IMAGE,)))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert p.steps[0].source == IMAGE
    assert 'not in FlexVol vol_a' in skipped(p)[Route.DIRECT_CLONE]


def test_other_pools_cache_entry_preferred_to_glance_file():
    p = planner.plan(facts(remote_sources=(IMAGE, REMOTE_CACHE)))
    assert [s.source for s in p.steps[:-1]] == [REMOTE_CACHE, IMAGE]


def test_image_problem_blocks_glance_file_but_not_cache_entries():
    p = planner.plan(facts(local_image=LOCAL,
                           remote_sources=(IMAGE, REMOTE_CACHE),
                           image_problem='declared raw, detected qcow2'))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert p.steps[0].source == REMOTE_CACHE
    assert skipped(p)[Route.DIRECT_CLONE] == 'declared raw, detected qcow2'


def test_only_download_when_nothing_is_on_the_cluster():
    p = planner.plan(facts(rejected_locations=(('http://x/i1',
                                                'scheme http'),)))
    assert paths(p) == [Route.DOWNLOAD]
    assert 'http://x/i1: scheme http' in skipped(p)[Route.DIRECT_CLONE]
    assert Route.FILE_COPY in skipped(p)


def test_destination_problem_declines_everything():
    p = planner.plan(facts(dest_problem='pool not on this cluster',
                           local_image=LOCAL, cache_state=CacheState.FRESH))
    assert paths(p) == [Route.DOWNLOAD]
    assert skipped(p)[Route.CACHE_CLONE] == 'pool not on this cluster'


def test_copy_offload_tool_before_file_copy_when_usable():
    p = planner.plan(facts(remote_sources=(IMAGE,), tool_path='/bin/tool',
                           ontap_version=(9, 14, 1),
                           vstorage=(('vs0', True),)))
    assert paths(p) == [Route.COPY_OFFLOAD, Route.FILE_COPY, Route.DOWNLOAD]


def test_copy_offload_skipped_when_vstorage_disabled():
    p = planner.plan(facts(remote_sources=(OTHER_SVM,), tool_path='/t',
                           ontap_version=(9, 14, 1),
                           vstorage=(('vs0', True), ('vs1', False))))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert skipped(p)[Route.COPY_OFFLOAD] == 'vstorage is disabled on SVM vs1'


def test_copy_offload_needs_ontap_8_2():
    p = planner.plan(facts(remote_sources=(IMAGE,), tool_path='/t',
                           ontap_version=(8, 1, 0),
                           vstorage=(('vs0', True),)))
    assert 'ONTAP >= 8.2' in skipped(p)[Route.COPY_OFFLOAD]


def test_no_tool_configured_means_no_copy_offload_step():
    p = planner.plan(facts(remote_sources=(IMAGE,)))
    assert Route.COPY_OFFLOAD not in paths(p)
    assert Route.COPY_OFFLOAD not in skipped(p)


def test_explain_names_steps_and_reasons():
    text = planner.explain(planner.plan(facts(remote_sources=(IMAGE,))))
    assert text.startswith('file-copy from file:///glance/images/i1 -> '
                           'download [')
    assert 'cache-clone skipped: no entry' in text


def test_faster_follows_the_order_of_preference():
    assert faster(Route.CACHE_CLONE, Route.DIRECT_CLONE)
    assert faster(Route.COPY_OFFLOAD, Route.FILE_COPY)
    assert not faster(Route.DOWNLOAD, Route.FILE_COPY)
    assert not faster(Route.FILE_COPY, Route.FILE_COPY)


PEER_MISSING = (('vs1', 'SVM vs1 is not peered with SVM vs0 for file copy '
                 '(vserver peer create -vserver vs0 -peer-vserver vs1 '
                 '-applications file-copy)'),)


def test_file_copy_from_an_unpeered_svm_is_skipped_with_the_command():
    p = planner.plan(facts(remote_sources=(OTHER_SVM,),
                           peer_problems=PEER_MISSING))
    assert paths(p) == [Route.DOWNLOAD]
    assert skipped(p)[Route.FILE_COPY] == (
        'nfs://127.0.0.2/vol_vs1/i1: ' + PEER_MISSING[0][1])


def test_unpeered_svm_does_not_hold_back_a_source_of_the_same_svm():
    p = planner.plan(facts(remote_sources=(OTHER_SVM, IMAGE),
                           peer_problems=PEER_MISSING))
    assert [(s.path, s.source) for s in p.steps] == [
        (Route.FILE_COPY, IMAGE), (Route.DOWNLOAD, None)]


def test_peer_to_create_plans_file_copy_that_makes_it_first():
    p = planner.plan(facts(remote_sources=(OTHER_SVM,),
                           peer_problems=PEER_MISSING, create_svm_peers=True))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert p.steps[0].make_peer
    assert planner.explain(p).startswith(
        'file-copy from nfs://127.0.0.2/vol_vs1/i1 (after creating the SVM '
        'peer) -> download')


def test_copy_offload_tool_is_not_held_to_the_peer():
    p = planner.plan(facts(remote_sources=(OTHER_SVM,), tool_path='/t',
                           ontap_version=(9, 14, 1),
                           vstorage=(('vs0', True), ('vs1', True)),
                           peer_problems=PEER_MISSING))
    assert paths(p) == [Route.COPY_OFFLOAD, Route.DOWNLOAD]


def test_copy_offload_held_off_by_its_breaker():
    why = 'copy offload tool breaker open for 300 s more after 1 failure(s)'
    p = planner.plan(facts(remote_sources=(IMAGE,), tool_path='/t',
                           ontap_version=(9, 14, 1),
                           vstorage=(('vs0', True),), tool_blocked=why))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert skipped(p)[Route.COPY_OFFLOAD] == why


def test_a_disabled_cache_plans_volumes_made_once_from_their_source():
    """With the cache off, no step builds an entry: the volume is made
    from the Glance file (or the download) directly."""
    p = planner.plan(facts(cache_state=CacheState.DISABLED,
                           cache_reason='netapp_eic_cache_enabled is False',
                           remote_sources=(IMAGE,)))
    assert paths(p) == [Route.FILE_COPY, Route.DOWNLOAD]
    assert [s.into_cache for s in p.steps] == [False, False]
    assert skipped(p)[Route.CACHE_CLONE] == (
        'netapp_eic_cache_enabled is False')
    enabled = planner.plan(facts(remote_sources=(IMAGE,)))
    assert [s.into_cache for s in enabled.steps] == [True, True]
