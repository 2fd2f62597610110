# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Parse Glance image locations into NFS candidates.

Cinder hands the driver ``image_location = (direct_url, locations)``
exactly as Glance returned them; each location is
``{'url': ..., 'metadata': {...}}``. Two shapes can name a file on an NFS
export:

* ``nfs://host[:port]/export/path/<image id>`` (IPv6 as ``[fd00::1]``);
* ``file:///glance/datadir/<image id>`` whose metadata comes from Glance's
  filesystem store metadata file and carries ``type: nfs``,
  ``share_location: nfs://host/export`` and ``mountpoint`` (where Glance's
  host mounts that export). The export path is then
  ``share_location``'s path + the file's path relative to ``mountpoint``, so
  a Glance datadir below the export's root works.

Everything else is rejected with a reason, never followed: other schemes,
``..`` segments, percent-encoding, query strings, fragments, user info,
control characters, files outside the mountpoint, hosts that do not
resolve. When ``image_id`` is given, the file's name must be that id (Glance
stores every image as ``<datadir>/<image id>``), so a location edited to
point at some other file on the storage (a volume of another project, say)
is refused.

The module is pure: its only I/O is the injectable host resolver.
"""

import dataclasses
import ipaddress
import socket
import typing
import urllib.parse

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Longest URL considered; anything longer is rejected unparsed.
MAX_URL_LENGTH = 4096

Resolver = typing.Callable[[str], str | None]


@dataclasses.dataclass(frozen=True)
class NfsLocation:
    """A candidate image file on an NFS server.

    :ivar url: the Glance location URL it came from.
    :ivar host: IP literal of the NFS server (v4 or v6, no brackets).
    :ivar export_path: normalized absolute POSIX path of the file in the
        server's NFS namespace, e.g. ``/vol_glance/images/<id>``.
    """

    url: str
    host: str
    export_path: str


@dataclasses.dataclass(frozen=True)
class Rejection:
    """A location that was not used, and why."""

    url: str
    reason: str


class _Rejected(Exception):
    """Internal: carries the reason a location is rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_resolver(host: str) -> str | None:
    """Resolve ``host`` to its first IP address, or None."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        return str(info[4][0])
    return None


def _redact(url: str) -> str:
    """Return ``url`` safe to log: no user info, truncated, no NUL."""
    text = url[:256].replace('\x00', '\\x00')
    if '@' in text and '://' in text:
        scheme, _sep, rest = text.partition('://')
        authority, slash, path = rest.partition('/')
        if '@' in authority:
            authority = '***@' + authority.rsplit('@', 1)[1]
        text = f'{scheme}://{authority}{slash}{path}'
    return text


def _check_raw_url(url: object) -> str:
    """Checks that need the URL text before any parsing."""
    if not isinstance(url, str):
        raise _Rejected('URL is not a string')
    if not url:
        raise _Rejected('empty URL')
    if len(url) > MAX_URL_LENGTH:
        raise _Rejected('URL is too long')
    if '\x00' in url:
        raise _Rejected('URL contains a NUL byte')
    if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in url):
        raise _Rejected('URL contains control characters')
    if '?' in url:
        raise _Rejected('URL has a query string')
    if '#' in url:
        raise _Rejected('URL has a fragment')
    if '%' in url:
        raise _Rejected('URL contains percent-encoded characters')
    return url


def _normalize_path(path: str, what: str) -> str:
    """Normalize an absolute POSIX path, refusing ``..`` segments."""
    if not path.startswith('/'):
        raise _Rejected(f'{what} is not absolute')
    segments = path.split('/')
    if '..' in segments:
        raise _Rejected(f'{what} contains a ".." segment')
    kept = [seg for seg in segments if seg not in ('', '.')]
    return '/' + '/'.join(kept)


def _to_ip(host: str, resolve_host: Resolver) -> str:
    """Return ``host`` as a normalized IP literal, resolving names."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        resolved = resolve_host(host)
    except (OSError, ValueError, UnicodeError):
        resolved = None
    if not resolved:
        raise _Rejected(f'host {host} does not resolve')
    try:
        return str(ipaddress.ip_address(resolved))
    except ValueError:
        raise _Rejected(f'host {host} resolved to a non-IP '
                        f'value') from None


def _split_nfs_url(url: str, what: str,
                   resolve_host: Resolver) -> tuple[str, str]:
    """Parse ``nfs://host[:port]/path`` into ``(ip, normalized path)``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != 'nfs':
        raise _Rejected(f'{what} is not an nfs:// URL')
    if '@' in parts.netloc:
        raise _Rejected(f'{what} carries user info')
    try:
        host = parts.hostname
        _port = parts.port  # validates the port
    except ValueError:
        raise _Rejected(f'{what} has an invalid host or port') from None
    if not host:
        raise _Rejected(f'{what} has no host')
    ip = _to_ip(host, resolve_host)
    return ip, _normalize_path(parts.path or '/', f'path of {what}')


def _check_file_name(export_path: str, image_id: str | None) -> None:
    """Refuse a file that is not named after the image."""
    if export_path == '/':
        raise _Rejected('empty path')
    if image_id is not None and export_path.rsplit('/', 1)[1] != image_id:
        raise _Rejected(f'file name is not the image id {image_id}')


def _parse_nfs(url: str, resolve_host: Resolver) -> tuple[str, str]:
    """An ``nfs://`` location: ``(ip, export path)``."""
    return _split_nfs_url(url, 'URL', resolve_host)


def _store_entries(metadata: object) -> list[dict[str, typing.Any]]:
    """The filesystem-store metadata dicts of a location."""
    if isinstance(metadata, dict):
        return [metadata] if metadata else []
    if isinstance(metadata, list):
        return [entry for entry in metadata
                if isinstance(entry, dict) and entry]
    return []


def _file_path(url: str) -> str:
    """Normalized path of a ``file://`` URL (no host allowed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ('', 'localhost'):
        raise _Rejected('file:// URL names a host')
    return _normalize_path(parts.path, 'file path')


def _relative_to(path: str, mountpoint: str) -> str:
    """``path`` relative to ``mountpoint``, which must strictly contain it."""
    prefix = mountpoint.rstrip('/') + '/'
    if not path.startswith(prefix) or path == prefix:
        raise _Rejected('file is outside the metadata mountpoint')
    return path[len(prefix):]


def _parse_file_entry(path: str, entry: dict[str, typing.Any],
                      resolve_host: Resolver) -> tuple[str, str]:
    """Map a ``file://`` path through one store metadata entry."""
    kind = entry.get('type')
    if not isinstance(kind, str) or kind.lower() != 'nfs':
        raise _Rejected('metadata type is not nfs')
    share = entry.get('share_location')
    mountpoint = entry.get('mountpoint')
    if not isinstance(share, str) or not share:
        raise _Rejected('metadata has no share_location')
    if not isinstance(mountpoint, str) or not mountpoint:
        raise _Rejected('metadata has no mountpoint')
    _check_raw_url(share)
    mount = _normalize_path(mountpoint, 'metadata mountpoint')
    relative = _relative_to(path, mount)
    ip, export = _split_nfs_url(share, 'share_location', resolve_host)
    return ip, _normalize_path(f'{export}/{relative}', 'export path')


def _parse_file(url: str, metadata: object,
                resolve_host: Resolver) -> tuple[str, str]:
    """A ``file://`` location with filesystem store metadata."""
    path = _file_path(url)
    entries = _store_entries(metadata)
    if not entries:
        raise _Rejected('file:// URL without filesystem store metadata')
    first_reason = ''
    for entry in entries:
        try:
            return _parse_file_entry(path, entry, resolve_host)
        except _Rejected as exc:
            first_reason = first_reason or exc.reason
    raise _Rejected(first_reason)


def _parse_one(url: object, metadata: object, image_id: str | None,
               resolve_host: Resolver) -> tuple[str, str]:
    """Parse one location into ``(ip, export path)`` or raise _Rejected."""
    text = _check_raw_url(url)
    scheme = text.split(':', 1)[0].lower() if ':' in text else ''
    if scheme == 'nfs':
        ip, export = _parse_nfs(text, resolve_host)
    elif scheme == 'file':
        ip, export = _parse_file(text, metadata, resolve_host)
    else:
        raise _Rejected(f'unsupported scheme {scheme[:16]!r}')
    _check_file_name(export, image_id)
    return ip, export


def _entries(image_location: typing.Any) -> list[tuple[object, object]]:
    """``(url, metadata)`` pairs: the locations, then ``direct_url``."""
    if not image_location:
        return []
    if not isinstance(image_location, (tuple, list)) or len(
            image_location) != 2:
        return [(None, None)]
    direct_url, locations = image_location
    if locations and not isinstance(locations, (tuple, list)):
        locations = [None]
    pairs: list[tuple[object, object]] = []
    for location in locations or []:
        if isinstance(location, dict):
            pairs.append((location.get('url'), location.get('metadata')))
        else:
            pairs.append((None, None))
    if direct_url and direct_url not in [url for url, _meta in pairs]:
        pairs.append((direct_url, None))
    return pairs


def parse_image_locations(
        image_location: typing.Any,
        image_id: str | None = None,
        resolve_host: Resolver = default_resolver,
) -> tuple[list[NfsLocation], list[Rejection]]:
    """Turn Cinder's ``image_location`` into NFS candidates.

    :param image_location: ``(direct_url, locations)``; either member may
        be None or empty.
    :param image_id: when given, the file name must equal it.
    :param resolve_host: ``host -> IP literal or None``; called only for
        host names, never for IP literals.
    :returns: ``(candidates, rejections)``, candidates deduplicated on
        ``(host, export_path)`` in the order Glance gave them.
    """
    found: list[NfsLocation] = []
    rejected: list[Rejection] = []
    seen: set[tuple[str, str]] = set()
    for url, metadata in _entries(image_location):
        try:
            ip, export = _parse_one(url, metadata, image_id, resolve_host)
        except _Rejected as exc:
            shown = _redact(url) if isinstance(url, str) else repr(url)[:64]
            rejected.append(Rejection(url=shown, reason=exc.reason))
            continue
        if (ip, export) not in seen:
            seen.add((ip, export))
            found.append(NfsLocation(url=str(url), host=ip,
                                     export_path=export))
    LOG.debug('Image %(image)s: %(found)d NFS location(s), %(rejected)s '
              'rejected', {'image': image_id, 'found': len(found),
                           'rejected': [(r.url, r.reason) for r in rejected]})
    return found, rejected
