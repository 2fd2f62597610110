# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Agents with each other and with creates, through one Redis lock store
(tooz, as Cinder's coordinator uses it): two agents (two "hosts": each its
own tooz coordinator, engine and listener pool, so both hear every
notification) copy each image once per pool; a burst of uploads never runs
more copies at once than the configured slots; a boot issued while an
agent warms waits for that copy and makes none of its own. Counted from the
simulator's request log and its jobs' start and end times."""

import threading
import time

import pytest
from tooz import coordination

from netapp_eic.agent import policy as policy_mod
from netapp_eic.core.types import Route
from netapp_eic_testing import redis as redis_mod
from tests.functional.test_agent import (COPY, POOLS, entry_files, idle,
                                         wait_for)
from tests.functional.test_agent import world  # noqa: F401 (fixture)
from tests.unit.core.helpers import leftovers, posts, request


@pytest.fixture
def redis(tmp_path):
    why = redis_mod.RedisServer.available()
    if why:
        pytest.skip(why)
    with redis_mod.RedisServer(str(tmp_path / 'redis')) as server:
        yield server


@pytest.fixture
def lock_stores(redis):
    """A tooz coordinator per "host" on the one Redis."""
    started = []

    def new(member):
        coordinator = coordination.get_coordinator(redis.url,
                                                   member.encode())
        coordinator.start()
        started.append(coordinator)
        return coordinator

    yield new
    for coordinator in started:
        coordinator.stop()


def redis_host(world, coordinator):  # noqa: F811
    """The host of one machine: its locks in the shared Redis."""
    return world.host(lambda name: coordinator.get_lock(name.encode()))


def most_at_once(jobs):
    """The most File Copy jobs that ran at the same time."""
    edges = []
    for job in jobs:
        edges += [(job.start_time, 1), (job.end_time or time.time(), -1)]
    running = peak = 0
    for _at, step in sorted(edges, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak


def copy_jobs(sim):
    return [j for j in sim.backend.jobs.all()
            if 'copy' in j.description.lower()]


def test_two_agents_copy_each_image_once(world, lock_stores):  # noqa: F811
    agents = [world.agent(eic=world.engine(redis_host(world,
                                                      lock_stores(name))),
                          pool='pool-%s' % name, host_name=name,
                          name='backend')
              for name in ('host-a', 'host-b')]
    with world.running_agent(agents[0]), world.running_agent(agents[1]):
        images = [world.image(seed=i) for i in range(10)]
        for image_id in images:
            world.notify('image.activate', image_id)
        for agent in agents:
            idle(agent, timeout=120, events=10)
    assert all(len(entry_files(world.sim, i)) == 2 for i in images)
    # One copy per (image, pool): 10 images in 2 pools.
    assert len(posts(world.sim, COPY)) == 20
    made = [a.state.snapshot() for a in agents]
    assert sum(s.warmed for s in made) >= 10
    assert leftovers(world.sim) == []


def test_a_burst_never_exceeds_the_parallel_copies(world,  # noqa: F811
                                                   lock_stores):
    world.sim.add_fault(method='POST', path=COPY,
                        throttle_bps=16 * 1024 * 1024)
    agents = [world.agent(eic=world.engine(redis_host(world,
                                                      lock_stores(name))),
                          pool='pool-%s' % name, host_name=name, copies=2)
              for name in ('host-a', 'host-b')]
    with world.running_agent(agents[0]), world.running_agent(agents[1]):
        images = [world.image(seed=100 + i) for i in range(20)]
        for image_id in images:
            world.notify('image.activate', image_id)
        for agent in agents:
            idle(agent, timeout=300, events=20)
    assert all(len(entry_files(world.sim, i)) == 2 for i in images)
    jobs = copy_jobs(world.sim)
    assert len(jobs) == 40
    assert most_at_once(jobs) == 2


def test_a_boot_during_the_warm_waits_and_makes_no_copy(world,  # noqa: F811
                                                        lock_stores):
    world.sim.add_fault(method='POST', path=COPY,
                        throttle_bps=8 * 1024 * 1024)
    agent = world.agent(
        eic=world.engine(redis_host(world, lock_stores('agent'))),
        policy=policy_mod.Policy(pools=(POOLS[0],)))
    cinder_volume = world.engine(redis_host(world, lock_stores('volume')))
    with world.running_agent(agent):
        image_id = world.image(size=16 * 1024 * 1024)
        world.notify('image.activate', image_id)
        wait_for(lambda: leftovers(world.sim), 30, 'the agent\'s copy')
        outcomes = []
        boot = threading.Thread(target=lambda: outcomes.append(
            cinder_volume.create(request(world.glance, image_id))))
        boot.start()
        boot.join(60)
        idle(agent, events=1)
    [outcome] = outcomes
    assert outcome.path is Route.CACHE_CLONE
    assert outcome.host_bytes == 0
    assert len(posts(world.sim, COPY)) == 1
    assert entry_files(world.sim, image_id) == [POOLS[0]]
