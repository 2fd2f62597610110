# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic agent`` in one process: the real agent (listener, queue,
workers, reconcile) over the real engine against the simulator (its
FlexVols as the pools' mounts), Glance's notifications through a real
oslo.messaging transport (its ``fake://`` driver: oslo.messaging's own
in-process driver, the notifier and the listener sharing one transport),
and a Glance stand-in over HTTP (``GET /v2/images``, ``/v2/images/{id}``,
``/locations``; ``down`` answers 503). Nothing is mocked; the tests
check the FlexVols' files and the simulator's request log.

The real RabbitMQ and Glance 33 run in ``tests/e2e/e2e_10_agent.py``.
"""

import contextlib
import os
import threading
import time
import uuid

from keystoneauth1 import session as ks_session
from oslo_config import cfg
import oslo_messaging
import pytest

from netapp_eic.agent import agentstate
from netapp_eic.agent import bounds
from netapp_eic.agent import glanceapi
from netapp_eic.agent import listener
from netapp_eic.agent import policy as policy_mod
from netapp_eic.agent import provenance
from netapp_eic.agent import service
from netapp_eic.agent import warmer
from netapp_eic.cmd import localhost
from netapp_eic import ontap as client_mod
from netapp_eic.core import engine as engine_mod
from netapp_eic.core import records
from netapp_eic.core import verifications
from netapp_eic.core.types import Route, Settings
from netapp_eic.simulator import Simulator
from netapp_eic_testing import glance_http
from tests.unit.core.helpers import (POOL_A, POOL_B, add_image, glance_on,
                                     leftovers, posts, request)

POOLS = (POOL_A, POOL_B)
COPY = '/api/storage/file/copy'


def fake_transport():
    """One fake:// notification transport on exchange ``glance`` (what
    glance-api sets as its control exchange): notifier and listeners in
    this process share it."""
    conf = cfg.ConfigOpts()
    oslo_messaging.get_notification_transport(conf, url='fake://')
    conf.set_override('control_exchange', 'glance')
    return oslo_messaging.get_notification_transport(conf, url='fake://')


class World:
    """Simulator, Glance stand-in, transport; agents built on demand."""

    def __init__(self, tmp_path, sim, glance, api, transport):
        self.tmp_path = tmp_path
        self.sim = sim
        self.glance = glance
        self.api = api
        self.transport = transport
        self.notifier = oslo_messaging.Notifier(
            transport, publisher_id='image.localhost', driver='messagingv2',
            topics=['notifications'])
        self.running = []

    def image(self, seed=1, size=4 * 1024 * 1024, **fields):
        image_id, _digest = add_image(self.glance, self.tmp_path, seed=seed,
                                      size=size)
        self.glance.set_fields(image_id, **dict(
            {'visibility': 'public', 'owner': 'admin-project'}, **fields))
        return image_id

    def use_glance(self, flexvol, subdir):
        """Glance's store moved to ``<flexvol>/<subdir>``."""
        self.glance = glance_on(self.sim, flexvol, subdir)
        self.api.service = self.glance

    def notify(self, event_type, image_id, **payload):
        self.notifier.info({}, event_type, dict(
            {'id': image_id, 'status': 'active'}, **payload))

    def host(self, lock_object=None):
        host = localhost.LocalHost(self.sim.shares, list(POOLS))
        if lock_object is not None:
            host.lock_object = lock_object
        return host

    def engine(self, host=None):
        client = client_mod.OntapClient(self.sim.connection(),
                                        poll_initial_interval=0.01,
                                        poll_max_interval=0.1)
        return engine_mod.Engine(
            client, host or self.host(), warmer.agent_settings(Settings(
                visibility_timeout=2.0, mount_glance_flexvols=False)))

    def agent(self, eic=None, policy=None, copies=2, per_hour=0,
              pool='netapp-eic-agent', listen=True, interval=0.0,
              state_path=None, name='backend', host_name='host-a'):
        eic = eic or self.engine()
        stop = threading.Event()
        limits = warmer.Bounds(
            bounds.CopySlots(eic.host.try_lock,
                             bounds.slot_names(name, copies), stop),
            bounds.HourlyBytes(per_hour), stop, glance_tries=3,
            glance_pause=0.05)
        api = glanceapi.GlanceApi(ks_session.Session(), self.api.url)
        work = warmer.Warmer(eic, api, policy or policy_mod.Policy(),
                             limits, host=host_name)
        state = agentstate.AgentState(state_path)

        def listen_with(on_notification):
            return listener.listener(self.transport, ['notifications'],
                                     pool, on_notification)

        return service.Agent(work, state, listen_with if listen else None,
                             interval, copies, 3600.0)

    @contextlib.contextmanager
    def running_agent(self, agent):
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        try:
            wait_for(lambda: agent.state.snapshot().last_reconcile_result,
                     10, 'the first reconcile')
            yield agent
        finally:
            agent.stop.set()
            thread.join(60)
            assert not thread.is_alive()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError('timed out waiting for %s' % what)


def idle(agent, timeout=30, events=0):
    """Wait until ``agent`` has received ``events`` notifications and
    acted on everything queued."""
    wait_for(lambda: agent.state.snapshot().events >= events, timeout,
             '%d notifications' % events)
    wait_for(agent.queue.idle, timeout, 'the agent to be idle')


def entry_files(sim, image_id):
    """The pools holding ``image_id``'s entry (and its record)."""
    return [share for share in POOLS
            if os.path.exists(os.path.join(sim.shares[share],
                                           records.entry_name(image_id)))]


def image_files(sim, image_id):
    """Every file of ``image_id`` in the pools: entry, record, marks,
    verification records, leases."""
    return sorted(name for share in POOLS
                  for name in os.listdir(sim.shares[share])
                  if image_id in name)


@pytest.fixture
def world(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with Simulator(data_root=str(data_root), seed=5, serve=False) as sim:
        glance = glance_on(sim, 'vol_glance', 'images')
        with glance_http.GlanceApi(glance) as api:
            transport = fake_transport()
            try:
                yield World(tmp_path, sim, glance, api, transport)
            finally:
                transport.cleanup()


# -- every event kind -------------------------------------------------------

def test_activate_warms_every_pool_then_a_boot_clones_the_entry(world,
                                                               caplog):
    caplog.set_level('INFO', logger='netapp_eic.agent')
    with world.running_agent(world.agent()) as agent:
        image_id = world.image()  # after the first reconcile
        world.notify('image.activate', image_id)
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries')
        idle(agent)
        state = agent.state.snapshot()
    assert state.warmed == 1 and state.events == 1
    assert state.last_event_type == 'image.activate'
    assert len(posts(world.sim, COPY)) == 2  # one copy per FlexVol
    for share in POOLS:
        directory = world.sim.shares[share]
        record = records.read(os.path.join(
            directory, records.record_name(image_id)), image_id)
        assert record.verified
        mark = provenance.read(directory, image_id)
        assert (mark.host, mark.cause) == ('host-a', 'image.activate')
    [line] = [r.getMessage() for r in caplog.records
              if r.getMessage().startswith('Image %s' % image_id)]
    assert '(image.activate): warmed in ' in line
    assert 'verified: ' in line
    assert leftovers(world.sim) == []
    # The first boot after the warm: a cache clone, no host bytes.
    outcome = world.engine().create(request(world.glance, image_id))
    assert outcome.path is Route.CACHE_CLONE
    assert outcome.host_bytes == 0
    assert len(posts(world.sim, COPY)) == 2


def test_update_that_adds_a_usable_location_warms(world):
    with world.running_agent(world.agent()) as agent:
        image_id = world.image()
        world.glance.set_locations(image_id, None, [
            {'url': 'http://example.invalid/image', 'metadata': {}}])
        world.notify('image.activate', image_id)
        idle(agent, events=1)
        assert entry_files(world.sim, image_id) == []
        first = agent.state.snapshot().last_line
        default = world.glance.default_locations(image_id)
        world.glance.set_locations(image_id, *default)
        world.notify('image.update', image_id)
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries after the update')
        idle(agent)
    assert '(image.activate): failed' in first
    assert provenance.read(world.sim.shares[POOL_A],
                           image_id).cause == 'image.update'


def test_delete_removes_entries_records_and_marks_from_every_pool(world):
    # Glance's files in pool A's FlexVol: a direct clone there, verified
    # in place, leaves a verification record of the Glance file.
    world.use_glance('vol_cinder_a', 'glance-images')
    with world.running_agent(world.agent()) as agent:
        image_id = world.image()
        world.notify('image.activate', image_id)
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries')
        idle(agent)
        assert any(verifications.image_of(n) == image_id
                   for n in image_files(world.sim, image_id))
        world.glance.delete(None, image_id)
        world.notify('image.delete', image_id, status='deleted')
        wait_for(lambda: image_files(world.sim, image_id) == [], 10,
                 'every file of the image to go')
        idle(agent)
        assert agent.state.snapshot().removed == 1


def test_delete_waits_for_a_clone_in_progress(world):
    image_id = world.image()
    with world.running_agent(world.agent()) as agent:
        world.notify('image.activate', image_id)
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries')
        idle(agent)
        eic = world.engine()
        pool = eic.pools.get(POOL_A)
        # A create cloning from the entry holds a reader's lease.
        with eic.cache_manager.reading(pool, world.glance.show(None,
                                                               image_id)):
            world.glance.delete(None, image_id)
            world.notify('image.delete', image_id)
            wait_for(lambda: entry_files(world.sim, image_id) == [POOL_A],
                     10, 'pool B emptied')
            time.sleep(service.REMOVE_RETRY + 0.5)
            assert entry_files(world.sim, image_id) == [POOL_A]
        wait_for(lambda: image_files(world.sim, image_id) == [],
                 service.REMOVE_RETRY * 3, 'the entry after the clone')


# -- hostile or malformed notifications ------------------------------------

def test_malformed_and_hostile_notifications_change_nothing(world, caplog):
    caplog.set_level('INFO', logger='netapp_eic.agent')
    private = world.image(seed=2, visibility='private', owner='other')
    other_svm = world.image(seed=3)
    # A location on SVM vs1 (another SVM, vstorage off, no peer).
    vs1 = glance_on(world.sim, 'vol_vs1', 'images', ip='127.0.0.2')
    path = vs1.image_path(other_svm)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(world.glance.image_path(other_svm), 'rb') as src, \
            open(path, 'wb') as dst:
        dst.write(src.read())
    world.glance.set_locations(other_svm, *vs1.default_locations(other_svm))
    deleted = world.image(seed=4)
    world.glance.delete(None, deleted)
    unknown = str(uuid.uuid4())
    before = {share: sorted(os.listdir(world.sim.shares[share]))
              for share in POOLS}
    with world.running_agent(world.agent()) as agent:
        world.notify('image.activate', '../../etc/passwd')
        world.notifier.info({}, 'image.activate', ['not', 'an', 'object'])
        world.notify('image.activate', unknown)
        world.notify('image.activate', private, visibility='public')
        world.notify('image.activate', other_svm)
        world.notify('image.delete', deleted)
        world.notify('image.activate', deleted)  # late, after the delete
        idle(agent, events=5)
    after = {share: sorted(os.listdir(world.sim.shares[share]))
             for share in POOLS}
    assert after == before
    lines = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'names no valid image id' in lines
    assert 'payload is not an object' in lines
    assert 'Image %s (image.activate): skipped' % unknown in lines
    assert 'private image of project other, not in ' \
           'netapp_eic_agent_private_owners' in lines
    assert 'Image %s (image.activate): failed' % other_svm in lines
    assert 'Image %s (image.delete): removed' % deleted in lines
    assert posts(world.sim, COPY) == []


# -- Glance outage, reconcile ----------------------------------------------

def test_glance_outage_is_retried_then_caught_up_by_the_reconcile(world):
    agent = world.agent()
    with world.running_agent(agent):
        image_id = world.image()
        world.api.down = True
        asked = len(world.api.requests)
        world.notify('image.activate', image_id)
        idle(agent, events=1)
        tried = [p for p in world.api.requests[asked:] if image_id in p]
        assert len(tried) == 3  # the retries
        assert 'left to the next reconcile' in agent.state.snapshot(
        ).last_line
        assert entry_files(world.sim, image_id) == []
        world.api.down = False
        agent.reconcile_once()
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries after the reconcile')
        idle(agent)


def test_reconcile_warms_images_missed_and_removes_images_gone(world,
                                                              tmp_path):
    missed = world.image(seed=1)
    gone = world.image(seed=2)
    state = str(tmp_path / 'agent.json')
    first = world.agent(listen=False, state_path=state)
    with world.running_agent(first):
        wait_for(lambda: len(entry_files(world.sim, gone)) == 2, 30,
                 'the first reconcile to warm')
        idle(first)
    # While no agent runs: one image is deleted, one uploaded.
    world.glance.delete(None, gone)
    later = world.image(seed=3)
    second = world.agent(listen=False, state_path=state)
    with world.running_agent(second):
        wait_for(lambda: len(entry_files(world.sim, later)) == 2, 30,
                 'the image uploaded while stopped')
        wait_for(lambda: image_files(world.sim, gone) == [], 10,
                 'the deleted image\'s files')
        idle(second)
    assert len(entry_files(world.sim, missed)) == 2
    snapshot = agentstate.load(state)
    assert snapshot.missed_by_notifications == 2
    assert snapshot.last_reconcile_result.endswith(', 1 to remove')


# -- policy -----------------------------------------------------------------

def test_policy_marked_images_into_the_freest_pool_within_budget(world):
    plain = world.image(seed=1)
    tagged = world.image(seed=2, tags=['netapp_eic_warm'])
    big = world.image(seed=3, size=8 * 1024 * 1024, tags=['netapp_eic_warm'])
    chosen = policy_mod.Policy(images='marked', pool_count=1,
                               max_image_bytes=6 * 1024 * 1024)
    with world.running_agent(world.agent(policy=chosen)) as agent:
        for image_id in (plain, tagged, big):
            world.notify('image.activate', image_id)
        idle(agent, events=3)
    assert entry_files(world.sim, plain) == []
    assert entry_files(world.sim, big) == []
    assert len(entry_files(world.sim, tagged)) == 1


def test_explicit_pool_list(world):
    image_id = world.image()
    chosen = policy_mod.Policy(pools=(POOL_B,))
    with world.running_agent(world.agent(policy=chosen)) as agent:
        world.notify('image.activate', image_id)
        wait_for(lambda: entry_files(world.sim, image_id), 30, 'the entry')
        idle(agent)
    assert entry_files(world.sim, image_id) == [POOL_B]


# -- stopping mid-copy ------------------------------------------------------

def test_stop_mid_copy_cancels_the_copy_and_leaves_nothing(world):
    image_id = world.image(size=32 * 1024 * 1024)
    world.sim.add_fault(method='POST', path=COPY, throttle_bps=2 * 1024 * 1024)
    agent = world.agent(policy=policy_mod.Policy(pools=(POOL_A,)))
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    wait_for(lambda: agent.state.snapshot().last_reconcile_result, 10,
             'the first reconcile')
    wait_for(lambda: leftovers(world.sim), 30, 'the copy to start')
    agent.stop.set()  # what SIGTERM does
    thread.join(30)
    assert not thread.is_alive()
    assert leftovers(world.sim) == []
    assert image_files(world.sim, image_id) == []
    jobs = [j for j in world.sim.backend.jobs.all()]
    assert jobs and all(j.state in ('failure', 'success') or
                        j.stop.is_set() for j in jobs)


def test_an_activate_sent_before_glance_shows_active_is_tried_again(world):
    """Glance 33 sends image.activate before its status reads active (the
    end-to-end run sees it): the activate is tried again shortly."""
    with world.running_agent(world.agent()) as agent:
        image_id = world.image(status='saving')
        threading.Timer(0.5, world.glance.set_fields, [image_id],
                        {'status': 'active'}).start()
        world.notify('image.activate', image_id)
        wait_for(lambda: len(entry_files(world.sim, image_id)) == 2, 30,
                 'the entries')
        idle(agent, events=1)
    assert provenance.read(world.sim.shares[POOL_A],
                           image_id).cause == 'image.activate'
