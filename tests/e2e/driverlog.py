# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which path each create took, from cinder-volume's log.

The driver writes one INFO line per create::

    EIC image <id> -> volume <id> on pool <pool>: path <path>[ (<detail>)]...
    in <seconds> s; <skipped paths and failures>

``note`` joins the parenthesized details (source, conversion,
verification, waiting) with ``; ``.

:func:`parse_create_line` is the one place that reads that line: fields
may be added to it later, and only this function then changes.
"""

import dataclasses
import re

_CREATE = re.compile(
    r'EIC image (?P<image>\S+) -> volume (?P<volume>\S+) on pool '
    r'(?P<pool>\S+): path (?P<path>[a-z][a-z-]*)(?P<rest>.*)$')
_DETAIL = re.compile(r' \((?P<detail>[^)]*)\)')
_SECONDS = re.compile(r' in (?P<seconds>\d+(?:\.\d+)?) s\b')
_REGISTERED = re.compile(r'Image (?P<image>\S+) registered in the cache of '
                         r'pool (?P<pool>\S+?)\.?$')


@dataclasses.dataclass(frozen=True)
class Create:
    """One create as the driver reported it."""

    image: str
    volume: str
    pool: str
    path: str
    note: str
    seconds: float | None
    details: str

    @property
    def cloned(self) -> bool:
        return self.path != 'download'


def parse_create_line(line: str) -> Create | None:
    """The :class:`Create` in one log line, or None if it has none."""
    match = _CREATE.search(line.rstrip('\n'))
    if match is None:
        return None
    rest = match.group('rest')
    seconds = _SECONDS.search(rest)
    head = rest[:seconds.start()] if seconds else rest.split('; ', 1)[0]
    note = '; '.join(d.group('detail') for d in _DETAIL.finditer(head))
    details = rest.split('; ', 1)[1] if '; ' in rest else ''
    return Create(image=match.group('image'), volume=match.group('volume'),
                  pool=match.group('pool'), path=match.group('path'),
                  note=note,
                  seconds=float(seconds.group('seconds')) if seconds
                  else None, details=details)


def creates(log_path: str) -> dict[str, list[Create]]:
    """Every create in the log, by volume id (a volume may appear more
    than once, e.g. after a reschedule)."""
    found: dict[str, list[Create]] = {}
    with open(log_path, errors='replace') as log:
        for line in log:
            create = parse_create_line(line)
            if create is not None:
                found.setdefault(create.volume, []).append(create)
    return found


def cache_registrations(log_path: str) -> list[tuple[str, str]]:
    """``(image, pool)`` of every "registered in the cache" line (the
    download path, re-image included)."""
    found = []
    with open(log_path, errors='replace') as log:
        for line in log:
            match = _REGISTERED.search(line.rstrip('\n'))
            if match is not None:
                found.append((match.group('image'), match.group('pool')))
    return found
