# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cache entry names and their records, strictly parsed.

An entry ``img-cache-<image id>`` (the in-tree driver's name, so a backend
switched to this driver keeps its cache) has a hidden record
``.img-cache-<image id>.eic.json`` saying which image content it holds,
whether its bytes were verified against Glance's hash, its size and when it
was last used. A record is small, flat and exact: anything else (missing,
unreadable, a link, too large, not a JSON object, unknown or missing keys,
wrong types) is invalid, and an entry with an invalid record is stale.
"""

import collections.abc
import dataclasses
import json
import os
import stat
import uuid

from netapp_eic.core.types import ImageMeta

ENTRY_PREFIX = 'img-cache-'
RECORD_SUFFIX = '.eic.json'
TEMP_PREFIX = '.eic-tmp-'
LEASE_MARK = '.eic-lease-'
#: Largest record read; real ones are about 400 bytes.
MAX_RECORD_BYTES = 4096
#: Record format version (1: without ``verified_by``).
VERSION = 2


def entry_name(image_id: str) -> str:
    return ENTRY_PREFIX + image_id


def record_name(image_id: str) -> str:
    return '.%s%s%s' % (ENTRY_PREFIX, image_id, RECORD_SUFFIX)


def lease_prefix(image_id: str) -> str:
    """Prefix of the lease files of readers cloning from the entry."""
    return '.%s%s%s' % (ENTRY_PREFIX, image_id, LEASE_MARK)


def temp_name(purpose: str) -> str:
    """A hidden, unique name in the FlexVol root for a file being built."""
    return '%s%s-%s' % (TEMP_PREFIX, purpose, uuid.uuid4().hex)


def image_id_of(name: str) -> str | None:
    """The image id of an entry or record file name, else None."""
    if name.startswith(ENTRY_PREFIX):
        return name[len(ENTRY_PREFIX):] or None
    prefix = '.' + ENTRY_PREFIX
    if name.startswith(prefix) and name.endswith(RECORD_SUFFIX):
        return name[len(prefix):-len(RECORD_SUFFIX)] or None
    return None


def content_id(image_meta: ImageMeta) -> str | None:
    """Glance's identification of the image's bytes, or None."""
    value = image_meta.get('os_hash_value')
    if value:
        return '%s:%s' % (image_meta.get('os_hash_algo') or 'sha512', value)
    if image_meta.get('checksum'):
        return 'md5:%s' % image_meta['checksum']
    return None


class InvalidRecord(ValueError):
    """A record that must not be trusted; the message says why."""


@dataclasses.dataclass
class Record:
    """What an entry holds.

    :ivar content: :func:`content_id` of the image, None when Glance gives
        no hash (the entry is then keyed by the image id alone).
    :ivar size: bytes of the entry file (the image's virtual size).
    :ivar verified: the bytes were checked against Glance's hash (or copied
        or cloned from bytes that were).
    """

    image_id: str
    content: str | None
    source_format: str
    size: int
    created_at: float
    last_used: float
    built_by: str
    verified: bool
    #: How the bytes were checked (``host sha512 of the Glance file, during
    #: the copy``, ``array sha256 of the cloned file``...); empty in
    #: version 1 records.
    verified_by: str = ''
    version: int = VERSION

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


_TYPES: dict[str, tuple[type, ...]] = {
    'image_id': (str,), 'content': (str, type(None)),
    'source_format': (str,), 'size': (int,), 'created_at': (int, float),
    'last_used': (int, float), 'built_by': (str,), 'verified': (bool,),
    'verified_by': (str,), 'version': (int,),
}
#: Version 1 records (before ``verified_by``) are read too.
_TYPES_V1 = {k: v for k, v in _TYPES.items() if k != 'verified_by'}


def parse(text: bytes, image_id: str) -> Record:
    """A :class:`Record` from the bytes of a record file.

    :raises InvalidRecord: anything but a record of ``image_id``.
    """
    if len(text) > MAX_RECORD_BYTES:
        raise InvalidRecord('record larger than %d bytes' % MAX_RECORD_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise InvalidRecord('record is not JSON: %s' % e) from None
    if not isinstance(data, dict):
        raise InvalidRecord('record is not a JSON object')
    types_of = _TYPES_V1 if data.get('version') == 1 else _TYPES
    if set(data) != set(types_of):
        raise InvalidRecord('record keys %s are not %s' % (
            sorted(data), sorted(types_of)))
    for key, types in types_of.items():
        value = data[key]
        if not isinstance(value, types) or (
                bool not in types and isinstance(value, bool)):
            raise InvalidRecord('record field %s has a wrong type' % key)
    if data['version'] not in (1, VERSION):
        raise InvalidRecord('record version %s' % data['version'])
    data = dict(data, version=VERSION)
    if data['image_id'] != image_id:
        raise InvalidRecord('record names image %s' % data['image_id'])
    if data['size'] < 0:
        raise InvalidRecord('record size is negative')
    return Record(**data)


def read(path: str, image_id: str) -> Record | None:
    """The record at ``path``; None when there is none.

    Opened without following links; a link, a directory or any other
    non-regular file is invalid.

    :raises InvalidRecord: the file exists but is not a valid record.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InvalidRecord('record cannot be opened: %s' % (
            e.strerror or e)) from None
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InvalidRecord('record is not a regular file')
        return parse(f.read(MAX_RECORD_BYTES + 1), image_id)


def write(directory: str, record: Record) -> None:
    """Write ``record`` atomically (temporary file, then rename)."""
    final = os.path.join(directory, record_name(record.image_id))
    tmp = os.path.join(directory, temp_name('record'))
    try:
        with open(tmp, 'x') as f:
            f.write(record.dumps())
        os.replace(tmp, final)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def names(entries: collections.abc.Iterable[str]) -> dict[str, set[str]]:
    """Group a FlexVol root's file names by image id: ``{image id:
    {'entry', 'record'}}`` for entries and records."""
    found: dict[str, set[str]] = {}
    for name in entries:
        image_id = image_id_of(name)
        if image_id is None or LEASE_MARK in name:
            continue
        kind = 'entry' if name.startswith(ENTRY_PREFIX) else 'record'
        found.setdefault(image_id, set()).add(kind)
    return found
