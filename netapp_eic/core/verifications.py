# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Verification records: a Glance file known to hold Glance's bytes.

Once a Glance file has matched the hash Glance recorded (on the array or on
a host), a record says so, keyed by the file's identity: its FlexVol, its
path, and what ONTAP reports of it (inode number, size, modification and
change times) plus, where a host mounts its FlexVol, the mount's view
(file id, size, nanosecond modification and change times). While that
identity holds, no host of the backend hashes the file again: a direct
clone of it is constant-time on every host and every pool of the FlexVol,
and a File Copy from it needs no hash.

A file rewritten in place, truncated, replaced by a rename, linked or
unlinked has another identity (a change time at least), so its record
counts for nothing; so does a record for other bytes than Glance now
records for the image (a new upload), a corrupt one, and a forged one
naming another file. ONTAP's times have one-second precision: a record
without the mount's nanosecond view is written only for a file last
changed :data:`SETTLE_SECONDS` before its check began, so a write in the
same second cannot hide behind it.

Records live in the root of the backend's pool FlexVols (every host of the
backend mounts them; Glance's FlexVols are mounted read-only and never
written), as ``.eic-verified-<image id>-<key>.json``, and are parsed as
strictly as cache records.
"""

import dataclasses
import datetime
import hashlib
import json
import os
import socket
import time
import typing

from oslo_log import log as logging

from netapp_eic.core import nofollow
from netapp_eic.core import records
from netapp_eic.core.pools import Pool, Pools
from netapp_eic.core import verify
from netapp_eic import exception
from netapp_eic import ontap

LOG = logging.getLogger(__name__)

PREFIX = '.eic-verified-'
SUFFIX = '.json'
VERSION = 1
#: How long ago a file must have last changed, by ONTAP's one-second
#: times, for a record without the mount's view.
SETTLE_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Identity:
    """What must still hold for a record to count."""

    inode: int | None
    size: int
    modified: str
    changed: str
    #: ``(file id, size, mtime ns, ctime ns)`` on a host's NFS mount, when
    #: the FlexVol is mounted (the same on every host: NFS file ids and
    #: times are the server's).
    nfs: tuple[int, int, int, int] | None = None

    @classmethod
    def of(cls, info: ontap.FileInfo, local_path: str | None = None,
           root: str | None = None) -> 'Identity':
        """The identity of a file from ONTAP's ``info`` and, when given,
        its path on a mount (stat without following links)."""
        nfs = None
        if local_path is not None and root is not None:
            with nofollow.open_regular(local_path, root) as f:
                st = os.fstat(f.fileno())
            nfs = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        return cls(info.inode_number, info.size, _iso(info.modified_time),
                   _iso(info.changed_time), nfs)

    def settled(self, now: float) -> bool:
        """Whether a record may be written for this identity at ``now``."""
        if self.nfs is not None:
            return True
        try:
            changed = datetime.datetime.fromisoformat(self.changed)
        except ValueError:
            return False
        return now - changed.timestamp() >= SETTLE_SECONDS

    def matches(self, other: 'Identity') -> bool:
        """``other`` (now) is still this identity; the mount's view is
        compared when both have it."""
        same = (self.inode, self.size, self.modified, self.changed) == (
            other.inode, other.size, other.modified, other.changed)
        if self.nfs is not None and other.nfs is not None:
            same = same and self.nfs == other.nfs
        return same and self.inode is not None and bool(self.changed)


def _iso(when: datetime.datetime | None) -> str:
    return when.isoformat() if when is not None else ''


@dataclasses.dataclass(frozen=True)
class Record:
    """One file verified against Glance's hash: where, what and how."""

    image_id: str
    flexvol_uuid: str
    path: str
    identity: Identity
    algo: str
    value: str
    how: str
    verified_at: float
    host: str
    version: int = VERSION

    def describe(self) -> str:
        """``record of 2026-12-07 06:00:00Z by host-a (array sha256)``."""
        when = datetime.datetime.fromtimestamp(
            self.verified_at, datetime.timezone.utc)
        return 'record of %s by %s (%s)' % (
            when.strftime('%Y-%m-%d %H:%M:%SZ'), self.host, self.how)

    def dumps(self) -> str:
        data = dataclasses.asdict(self)
        ident = data['identity']
        ident['nfs'] = list(ident['nfs']) if ident['nfs'] else None
        return json.dumps(data, sort_keys=True)


def record_name(image_id: str, flexvol_uuid: str, path: str) -> str:
    """The record's file name: the image and a digest of (FlexVol, path)."""
    key = hashlib.sha256(('%s\0%s' % (flexvol_uuid, path)).encode()
                         ).hexdigest()[:32]
    return '%s%s-%s%s' % (PREFIX, image_id, key, SUFFIX)


def image_of(name: str) -> str | None:
    """The image id in a record's file name, else None."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    image_id, sep, key = name[len(PREFIX):-len(SUFFIX)].rpartition('-')
    return image_id if sep and image_id and len(key) == 32 else None


_FIELDS = {'image_id': str, 'flexvol_uuid': str, 'path': str,
           'identity': dict, 'algo': str, 'value': str, 'how': str,
           'verified_at': (int, float), 'host': str, 'version': int}
_IDENTITY = {'inode': (int, type(None)), 'size': int, 'modified': str,
             'changed': str, 'nfs': (list, type(None))}


def parse(text: bytes) -> Record:
    """A :class:`Record` from a record file's bytes.

    :raises records.InvalidRecord: anything else.
    """
    if len(text) > records.MAX_RECORD_BYTES:
        raise records.InvalidRecord('verification record too large')
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise records.InvalidRecord('not JSON: %s' % e) from None
    data = _exact(data, _FIELDS)
    ident = _exact(data['identity'], _IDENTITY)
    nfs = ident['nfs']
    if nfs is not None and (len(nfs) != 4 or not all(
            type(v) is int for v in nfs)):
        raise records.InvalidRecord('mount identity is not 4 integers')
    if data['version'] != VERSION:
        raise records.InvalidRecord('version %s' % data['version'])
    return Record(**dict(data, identity=Identity(
        **dict(ident, nfs=tuple(nfs) if nfs else None))))


def _exact(data: object, fields: dict[str, typing.Any]
           ) -> dict[str, typing.Any]:
    """``data`` if it is a JSON object with exactly ``fields``' keys and
    types (a bool is no integer)."""
    if not isinstance(data, dict) or set(data) != set(fields):
        raise records.InvalidRecord('keys are not %s' % sorted(fields))
    for key, types in fields.items():
        value = data[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise records.InvalidRecord('field %s has a wrong type' % key)
    return data


class Verifications:
    """The verification records of a backend, in its pools' roots."""

    def __init__(self, pools: Pools) -> None:
        self.pools = pools
        self.host = socket.gethostname()

    def find(self, image_id: str, vol: ontap.FlexVol, path: str,
             now: Identity, want: verify.Expected) -> Record | None:
        """A record that still vouches for ``vol``'s file ``path`` (whose
        identity is ``now``) holding the bytes Glance records (``want``);
        None when there is none. Invalid records are logged and ignored."""
        name = record_name(image_id, vol.uuid, path)
        for pool in self._pools():
            try:
                with nofollow.open_regular(pool.local(name),
                                           pool.mount_dir) as f:
                    record = parse(f.read(records.MAX_RECORD_BYTES + 1))
            except FileNotFoundError:
                continue
            except (OSError, exception.EicError, records.InvalidRecord) as e:
                LOG.warning('Verification record %(name)s in FlexVol '
                            '%(vol)s ignored: %(err)s',
                            {'name': name, 'vol': pool.flexvol.name,
                             'err': e})
                continue
            problem = _mismatch(record, image_id, vol, path, now, want)
            if problem is None:
                return record
            LOG.info('Verification record %(name)s in FlexVol %(vol)s does '
                     'not count: %(why)s.', {'name': name,
                                             'vol': pool.flexvol.name,
                                             'why': problem})
        return None

    def save(self, dest: Pool, image_id: str, vol: ontap.FlexVol, path: str,
             identity: Identity, want: verify.Expected, how: str,
             started: float) -> bool:
        """Record that ``vol``'s file ``path`` (``identity`` when its
        check ``started``) matched ``want``, in ``dest``'s root; False (and
        why, at DEBUG) when no record may be written."""
        if not identity.settled(started):
            LOG.debug('No verification record for %(path)s: changed less '
                      'than %(s)s s before its check.',
                      {'path': path, 's': SETTLE_SECONDS})
            return False
        record = Record(image_id, vol.uuid, path, identity, want.algo,
                        want.value, how, time.time(), self.host)
        final = dest.local(record_name(image_id, vol.uuid, path))
        tmp = dest.local(records.temp_name('verified'))
        try:
            with open(tmp, 'x') as f:
                f.write(record.dumps())
            os.replace(tmp, final)
        except OSError as e:
            LOG.warning('Verification record of %(path)s not written in '
                        'FlexVol %(vol)s (the next create hashes it '
                        'again): %(err)s',
                        {'path': path, 'vol': dest.flexvol.name, 'err': e})
            return False
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        return True

    def sweep(self, client: ontap.OntapClient) -> list[str]:
        """Remove the records that vouch for nothing any more: invalid
        ones, and those whose file is gone, changed or whose FlexVol is
        gone (ONTAP's view; a record ONTAP cannot be asked about now is
        kept). Returns the names removed."""
        removed = []
        for pool in self._pools():
            for name in sorted(os.listdir(pool.mount_dir)):
                if image_of(name) is not None and self._stale(
                        client, pool, name):
                    nofollow.unlink_in(pool.mount_dir, name)
                    removed.append(name)
        return removed

    @staticmethod
    def _stale(client: ontap.OntapClient, pool: Pool, name: str) -> bool:
        try:
            with nofollow.open_regular(pool.local(name), pool.mount_dir) as f:
                record = parse(f.read(records.MAX_RECORD_BYTES + 1))
        except (exception.EicError, records.InvalidRecord):
            return True
        except OSError:
            return False
        vol = ontap.FlexVol('uuid %s' % record.flexvol_uuid,
                            record.flexvol_uuid, '', None)
        try:
            info = client.file_info(vol, record.path)
        except exception.OntapApiError as e:
            return e.status == 404  # the FlexVol itself is gone
        except exception.EicError:
            return False
        return info is None or not record.identity.matches(
            Identity.of(info))

    def forget(self, image_id: str) -> int:
        """Remove every record of ``image_id`` (the image was deleted);
        the number removed."""
        removed = 0
        for pool in self._pools():
            try:
                names = os.listdir(pool.mount_dir)
            except OSError:
                continue
            for name in names:
                if image_of(name) == image_id:
                    nofollow.unlink_in(pool.mount_dir, name)
                    removed += 1
        return removed

    def _pools(self) -> list[Pool]:
        return self.pools.backend_pools()


def _mismatch(record: Record, image_id: str, vol: ontap.FlexVol, path: str,
              now: Identity, want: verify.Expected) -> str | None:
    """Why ``record`` does not vouch for the file now, or None."""
    if (record.image_id, record.flexvol_uuid, record.path) != (
            image_id, vol.uuid, path):
        return 'it names another file'
    if (record.algo, record.value) != (want.algo, want.value):
        return 'Glance now records other bytes for the image'
    if not record.identity.matches(now):
        return 'the file changed since it was verified'
    return None
