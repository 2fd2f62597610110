# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""HAL links and the ``Accept`` header.

ONTAP answers ``application/hal+json`` with ``_links`` on records and
collections. A client that asks for ``Accept: application/json`` (Cinder
does) gets "none of the HAL links ... except a link needed to retrieve
the next batch of records" (ONTAP automation docs, "Input variables").
The ``job`` link of an asynchronous answer stays too: Cinder reads it with
that header, so ONTAP must send it.
"""

from typing import Any

CONTENT_TYPE = 'application/hal+json'


def strip_links(body: Any, top: bool = True) -> Any:
    """``body`` without ``_links`` but the collection's ``next`` and the
    ``job`` links."""
    if isinstance(body, list):
        return [strip_links(item, False) for item in body]
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        if key == '_links':
            if top and isinstance(value, dict) and 'next' in value:
                out[key] = {'next': value['next']}
            continue
        out[key] = value if key == 'job' else strip_links(value, False)
    return out
