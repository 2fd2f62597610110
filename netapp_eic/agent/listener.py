# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance's notifications through oslo.messaging.

The agent listens on exchange ``glance``, the topics Glance sends to
(``notifications`` by default), in a listener pool of its own: each pool
gets its own copy of every notification, so Ceilometer keeps its copy, and
the agents of one pool share the work. Only the event types the agent acts
on are delivered (a :class:`oslo_messaging.NotificationFilter`); every
delivered notification is acknowledged once handed to the agent's queue
(a lost one is caught up by the reconcile).
"""

import collections.abc
import typing

import oslo_messaging

from netapp_eic.agent import events

EXCHANGE = 'glance'

OnNotification = typing.Callable[[str, object], None]


class Endpoint:
    """Hands every image notification to ``on_notification``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=events.EVENT_TYPES)

    def __init__(self, on_notification: OnNotification) -> None:
        self._on = on_notification

    def info(self, ctxt: object, publisher_id: str, event_type: str,
             payload: object, metadata: object) -> object:
        self._on(event_type, payload)
        return oslo_messaging.NotificationResult.HANDLED


def transport_of(conf: typing.Any, url: str | None) -> typing.Any:
    """The notification transport: ``url``, else the configuration's
    ([oslo_messaging_notifications] transport_url, else [DEFAULT])."""
    return oslo_messaging.get_notification_transport(conf, url=url)


def listener(transport: typing.Any, topics: collections.abc.Sequence[str],
             pool: str, on_notification: OnNotification) -> typing.Any:
    """A started-on-demand notification listener (threads executor)."""
    targets = [oslo_messaging.Target(topic=topic, exchange=EXCHANGE)
               for topic in topics]
    return oslo_messaging.get_notification_listener(
        transport, targets, [Endpoint(on_notification)],
        executor='threading', pool=pool)
