# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance's image notifications read into :class:`Event` values (pure).

Glance sends ``image.activate`` once an image's data is uploaded,
``image.update`` on any change (its locations among them: the payload
never carries locations nor ``os_hash_value``, so an update is only a cue
to ask Glance again), and ``image.delete``. Nothing in a payload is
trusted beyond the image id, and that only when it is a UUID (it becomes
part of file names in the pools): what the agent does is decided from
Glance's own answer.
"""

import dataclasses
import enum
import re
import typing

#: Glance image ids are UUIDs (Glance refuses any other id).
_IMAGE_ID = re.compile(
    r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    r'[0-9a-fA-F]{12}')


class Kind(str, enum.Enum):
    """What the agent does about an image."""

    #: Ask Glance and build the entries the policy asks for.
    WARM = 'warm'
    #: Remove the image's entries and verification records.
    REMOVE = 'remove'

    def __str__(self) -> str:
        return str(self.value)


#: The event types acted on, and what each one asks.
KINDS: dict[str, Kind] = {
    'image.activate': Kind.WARM,
    'image.update': Kind.WARM,
    'image.delete': Kind.REMOVE,
}
#: oslo.messaging filter of the event types above.
EVENT_TYPES = r'^image\.(activate|update|delete)$'


@dataclasses.dataclass(frozen=True)
class Event:
    """One image to act on: ``cause`` is the event type (or
    ``reconcile``) that asked for it."""

    kind: Kind
    image_id: str
    cause: str
    #: Tries so far (an activate seen before Glance's status says so).
    attempt: int = 0


def valid_image_id(value: object) -> bool:
    return isinstance(value, str) and bool(_IMAGE_ID.fullmatch(value))


def parse(event_type: object, payload: object) -> Event | str:
    """The :class:`Event` a notification asks for, or why it is ignored."""
    if not isinstance(event_type, str) or event_type not in KINDS:
        return 'event type %r is not acted on' % (event_type,)
    if not isinstance(payload, dict):
        return '%s payload is not an object' % event_type
    image_id = typing.cast(dict[str, object], payload).get('id')
    if not valid_image_id(image_id):
        return '%s names no valid image id (%r)' % (
            event_type, str(image_id)[:80])
    return Event(KINDS[event_type], str(image_id), event_type)
