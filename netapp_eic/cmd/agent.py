# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic agent``: warm the pools from Glance's image events.

``agent`` runs until SIGTERM (a systemd unit, ``etc/netapp-eic-agent.service``,
one per cinder-volume host or fewer), reading the same cinder.conf as
cinder-volume: the backend's pools, ONTAP, ``[glance]`` credentials,
``[coordination] backend_url`` (the locks shared with creates) and the
``netapp_eic_agent_*`` options. ``agent status`` shows what the agent of
this host last wrote: connected or not, last event, last reconcile, queue.
The work itself is :mod:`netapp_eic.agent`'s.
"""

import argparse
import datetime
import os
import signal
import socket
import threading
import time
import typing

from cliff import command
from cliff import show
from oslo_utils import units

from netapp_eic.agent import agentstate
from netapp_eic.agent import bounds
from netapp_eic.agent import glanceapi
from netapp_eic.agent import listener
from netapp_eic.agent import policy
from netapp_eic.agent import service
from netapp_eic.agent import warmer
from netapp_eic.cmd import base
from netapp_eic.cmd import cache


def state_file(backend: base.Backend) -> str:
    return agentstate.state_file(backend.conf.state_path, backend.name)


class Agent(command.Command):
    """Listen to Glance's image notifications: verify and warm each new
    image into the pools, remove the entries of deleted images, and
    reconcile through the Glance API; runs until SIGTERM."""

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        app = typing.cast(base.EicApp, self.app)
        backend = app.backend()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        settings = warmer.agent_settings(backend.settings())
        with cache.managed_engine(backend, settings) as eic:
            build(backend, eic, stop).run()
        return 0


def build(backend: base.Backend, eic: typing.Any,
          stop: threading.Event) -> service.Agent:
    """The agent of ``backend`` over an engine (its host's locks)."""
    config = backend.config
    copies = int(config.safe_get('netapp_eic_agent_parallel_copies') or 1)
    limits = warmer.Bounds(
        bounds.CopySlots(eic.host.try_lock,
                         bounds.slot_names(backend.name, copies), stop),
        bounds.HourlyBytes(int(float(config.safe_get(
            'netapp_eic_agent_max_gb_per_hour') or 0) * units.Gi)),
        stop)
    pool = config.safe_get('netapp_eic_agent_listener_pool')
    state = agentstate.AgentState(
        state_file(backend), pid=os.getpid(), host=socket.gethostname(),
        started=time.time(), listener_pool=pool,
        last_reconcile=_last_pass(state_file(backend)))
    work = warmer.Warmer(eic, glanceapi.GlanceApi.from_conf(backend.conf),
                         policy.Policy.from_config(
                             config, eic.settings.cache_max_bytes), limits)
    url = config.safe_get('netapp_eic_agent_transport_url')
    topics = list(config.safe_get('netapp_eic_agent_topics') or [])

    def listen(on_notification: listener.OnNotification) -> typing.Any:
        return listener.listener(listener.transport_of(backend.conf, url),
                                 topics, pool, on_notification)

    return service.Agent(
        work, state, listen,
        float(config.safe_get('netapp_eic_agent_reconcile_interval') or 0),
        copies, eic.settings.longest_copy)


def _last_pass(path: str) -> float:
    """The last complete reconcile of a previous run (0: none)."""
    previous = agentstate.load(path)
    return previous.last_reconcile if previous else 0.0


class AgentStatus(show.ShowOne):
    """Show the state of this host's agent: running, connected, last
    event, last reconcile, queue and counts."""

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], tuple[typing.Any, ...]]:
        app = typing.cast(base.EicApp, self.app)
        path = state_file(app.backend())
        found = agentstate.load(path)
        if found is None:
            raise base.CommandError('no agent state in %s: the agent has '
                                    'not run on this host' % path)
        return status_rows(found, agentstate.running(found))

    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            return int(super().run(parsed_args))
        except base.CommandError as e:
            self.app.LOG.error('%s', e)
            return 1


def status_rows(found: agentstate.Snapshot, alive: bool
                ) -> tuple[tuple[str, ...], tuple[typing.Any, ...]]:
    rows = [
        ('Running', 'yes (pid %d on %s)' % (found.pid, found.host)
         if alive else 'no'),
        ('Connected', 'yes' if alive and found.connected else 'no'),
        ('Listener pool', found.listener_pool),
        ('Last event', '%s of image %s at %s' % (
            found.last_event_type, found.last_event_image,
            _when(found.last_event)) if found.last_event else 'never'),
        ('Events', found.events),
        ('Last reconcile', '%s: %s' % (_when(found.last_reconcile),
                                       found.last_reconcile_result)
         if found.last_reconcile else found.last_reconcile_result or
         'never'),
        ('Missed by notifications', found.missed_by_notifications),
        ('Queue', found.queue),
        ('Copying', found.copying),
        ('Warmed', found.warmed), ('Removed', found.removed),
        ('Skipped', found.skipped), ('Failed', found.failed),
        ('Last image', found.last_line),
    ]
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(
        timestamp, datetime.timezone.utc).isoformat(timespec='seconds')
