# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The agent's parts that decide without I/O (notifications read, policy,
reconcile plan, bounds, queue) and its small files (marks, state)."""

import datetime
import threading
import uuid

import pytest

from netapp_eic.agent import agentstate
from netapp_eic.agent import bounds
from netapp_eic.agent import events
from netapp_eic.agent import policy
from netapp_eic.agent import provenance
from netapp_eic.agent import reconcile
from netapp_eic.agent import service
from netapp_eic.cmd import agent as agent_cmd
from netapp_eic.cmd import localhost

IMAGE = str(uuid.UUID(int=7))
GiB = 1024 ** 3


def meta(**fields):
    return dict({'id': IMAGE, 'status': 'active', 'visibility': 'public',
                 'owner': 'p1', 'tags': [], 'virtual_size': GiB}, **fields)


# -- events -----------------------------------------------------------------

@pytest.mark.parametrize('event_type, kind', [
    ('image.activate', events.Kind.WARM), ('image.update', events.Kind.WARM),
    ('image.delete', events.Kind.REMOVE)])
def test_every_event_kind(event_type, kind):
    assert events.parse(event_type, {'id': IMAGE}) == events.Event(
        kind, IMAGE, event_type)


@pytest.mark.parametrize('event_type, payload, why', [
    ('image.upload', {'id': IMAGE}, 'not acted on'),
    ('image.activate', None, 'not an object'),
    ('image.activate', {}, 'no valid image id'),
    ('image.activate', {'id': '../../x'}, 'no valid image id'),
    ('image.activate', {'id': IMAGE + '/..'}, 'no valid image id'),
    ('image.activate', {'id': 7}, 'no valid image id'),
])
def test_malformed_notifications_are_ignored_with_a_reason(event_type,
                                                           payload, why):
    assert why in events.parse(event_type, payload)


# -- policy -----------------------------------------------------------------

def test_policy_images():
    assert policy.why_not(policy.Policy(), meta()) is None
    assert 'none' in policy.why_not(policy.Policy(images='none'), meta())
    marked = policy.Policy(images='marked', mark='warm')
    assert 'no tag or property warm' in policy.why_not(marked, meta())
    assert policy.why_not(marked, meta(tags=['warm'])) is None
    assert policy.why_not(marked, meta(warm='yes')) is None
    assert policy.why_not(marked, meta(properties={'warm': 'true'})) is None
    assert policy.why_not(marked, meta(warm='false')) is not None
    assert 'status in Glance is deleted' in policy.why_not(
        policy.Policy(), meta(status='deleted'))


def test_policy_private_images_of_listed_owners_only():
    private = meta(visibility='private', owner='other')
    assert 'private image of project other' in policy.why_not(
        policy.Policy(), private)
    assert policy.why_not(policy.Policy(private_owners=frozenset(
        ['other'])), private) is None
    assert policy.why_not(policy.Policy(), meta(visibility='community')) \
        is None


def test_policy_skips_images_larger_than_the_cache_budget():
    why = policy.why_not(policy.Policy(max_image_bytes=GiB // 2), meta())
    assert why == '1.0 GiB is more than the cache budget allows (0.5 GiB)'


def test_choose_pools():
    free = {'a': 5 * GiB, 'b': 9 * GiB, 'c': -1}
    assert policy.choose_pools(policy.Policy(), free, GiB) == (
        ['b', 'a', 'c'], [])
    assert policy.choose_pools(policy.Policy(pool_count=1), free, GiB) == (
        ['b'], [])
    # A pool holding the image counts among the N first.
    assert policy.choose_pools(policy.Policy(pool_count=1), free, GiB,
                               holding={'a'}) == (['a'], [])
    chosen, out = policy.choose_pools(policy.Policy(pools=('a', 'x')), free,
                                      6 * GiB)
    assert chosen == []
    assert out == ['x: not a mounted pool of the backend',
                   'a: %d bytes free, the image needs %d' % (5 * GiB,
                                                             6 * GiB)]


# -- reconcile --------------------------------------------------------------

def test_reconcile_plan():
    other = str(uuid.UUID(int=8))
    gone = str(uuid.UUID(int=9))
    found = reconcile.plan([meta(), meta(id='bad')], {IMAGE, other},
                           [other, gone, 'not-an-id'])
    assert found == reconcile.Plan((IMAGE,), (gone,))
    assert [e.kind for e in found.events()] == [events.Kind.REMOVE,
                                                events.Kind.WARM]


def test_reconcile_since():
    assert reconcile.since(0) is None
    when = reconcile.since(1_000_000)
    assert when == datetime.datetime.fromtimestamp(
        1_000_000, datetime.timezone.utc) - reconcile.MARGIN


# -- bounds -----------------------------------------------------------------

def test_hourly_bytes():
    now = [0.0]
    hourly = bounds.HourlyBytes(10, clock=lambda: now[0])
    assert hourly.too_large(11)
    assert hourly.wait_for(6) == 0
    hourly.spend(6)
    now[0] = 100
    hourly.spend(3)
    assert hourly.wait_for(5) == 3500  # until the first 6 bytes age out
    now[0] = 3600
    assert hourly.wait_for(5) == 0
    assert bounds.HourlyBytes(0).wait_for(10 ** 15) == 0


def test_copy_slots_bound_and_stop(tmp_path):
    host = localhost.LocalHost({}, [])
    stop = threading.Event()
    slots = bounds.CopySlots(host.try_lock, bounds.slot_names('b', 2), stop,
                             poll=0.01)
    with slots.slot(), slots.slot():
        assert slots.held == 2
        stop.set()
        with pytest.raises(bounds.Stopped):
            with slots.slot():
                pass
    assert slots.held == 0


# -- queue ------------------------------------------------------------------

def test_queue_keeps_one_action_per_image_and_a_delete_wins():
    queue = service.WorkQueue(lambda n: None)
    stop = threading.Event()
    delete = events.Event(events.Kind.REMOVE, IMAGE, 'image.delete')
    queue.put(events.Event(events.Kind.WARM, IMAGE, 'image.activate'))
    queue.put(delete)
    queue.put(events.Event(events.Kind.WARM, IMAGE, 'image.activate'))
    assert len(queue) == 1
    assert queue.get(stop) == delete
    # Busy: a new action on the image waits for the one in hand.
    queue.put(events.Event(events.Kind.WARM, IMAGE, 'image.update'))
    stop_soon = threading.Timer(0.3, stop.set)
    stop_soon.start()
    assert queue.get(stop) is None
    queue.done(IMAGE)
    assert queue.get(threading.Event()).cause == 'image.update'


# -- marks and state ----------------------------------------------------------

def test_marks(tmp_path):
    mark = provenance.Mark(IMAGE, 'host-a', 'image.activate', 1.5)
    provenance.write(str(tmp_path), mark)
    assert provenance.read(str(tmp_path), IMAGE) == mark
    assert mark.describe() == 'agent on host-a (image.activate)'
    assert provenance.orphans(str(tmp_path)) == [IMAGE]
    (tmp_path / provenance.mark_name(IMAGE)).write_text('{"x": 1}')
    assert provenance.read(str(tmp_path), IMAGE) is None
    assert provenance.remove(str(tmp_path), IMAGE)
    assert provenance.read(str(tmp_path), IMAGE) is None


def test_state_file_and_status_rows(tmp_path):
    path = str(tmp_path / 'state.json')
    state = agentstate.AgentState(path, pid=1, host='h', listener_pool='p')
    state.event('image.activate', IMAGE)
    state.count('warmed')
    state.update(last_reconcile=0, last_reconcile_result='0 image(s) ...')
    found = agentstate.load(path)
    assert (found.events, found.warmed, found.last_event_image) == (
        1, 1, IMAGE)
    names, values = agent_cmd.status_rows(found, alive=True)
    rows = dict(zip(names, values, strict=True))
    assert rows['Running'] == 'yes (pid 1 on h)'
    assert rows['Last event'].startswith('image.activate of image %s at '
                                         % IMAGE)
    assert rows['Warmed'] == 1
    assert agent_cmd.status_rows(found, alive=False)[1][1] == 'no'
    assert agentstate.load(str(tmp_path / 'none.json')) is None
