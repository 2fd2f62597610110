# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A reconcile pass through the Glance API, planned without I/O.

Notifications are lost while the agent is down, and never sent when the
operator has not enabled them. A pass catches up from what Glance lists:
the active images updated since the last complete pass (a margin before
it, for clocks) are warmed; an image the pools hold an entry, a mark or a
verification record of, and which Glance no longer lists, is removed
(after Glance confirms, image by image, that it is gone).
"""

import collections.abc
import dataclasses
import datetime
import typing

from netapp_eic.agent import events

#: How far before the last pass a pass looks (clock skew, slow commits).
MARGIN = datetime.timedelta(minutes=5)
CAUSE = 'reconcile'


@dataclasses.dataclass(frozen=True)
class Plan:
    warm: tuple[str, ...]
    remove: tuple[str, ...]

    def events(self) -> list[events.Event]:
        return ([events.Event(events.Kind.REMOVE, i, CAUSE)
                 for i in self.remove] +
                [events.Event(events.Kind.WARM, i, CAUSE)
                 for i in self.warm])


def since(last_pass: float) -> datetime.datetime | None:
    """From when a pass after one started at ``last_pass`` (UNIX time,
    0: never) lists updated images; None: every image."""
    if not last_pass:
        return None
    return datetime.datetime.fromtimestamp(
        last_pass, datetime.timezone.utc) - MARGIN


def plan(updated: collections.abc.Iterable[dict[str, typing.Any]],
         listed: collections.abc.Set[str],
         held: collections.abc.Iterable[str]) -> Plan:
    """What a pass does.

    :param updated: the active images updated since the last pass.
    :param listed: every image id Glance lists now.
    :param held: the image ids the pools hold something of.
    """
    warm = sorted({str(m['id']) for m in updated
                   if events.valid_image_id(m.get('id'))})
    remove = sorted({i for i in held
                     if events.valid_image_id(i) and i not in listed})
    return Plan(tuple(warm), tuple(remove))
