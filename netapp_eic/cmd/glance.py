# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""An image's metadata and locations, as Cinder would hand them to the
driver: from Glance with the credentials in cinder.conf, or from a file
holding Glance's JSON.

From Glance, the calls are the ones Cinder makes: ``GET /v2/images/{id}``
and the service-only ``GET /v2/images/{id}/locations`` (falling back to the
image's own ``locations``/``direct_url``, as Cinder does). They authenticate
with the ``[glance]`` service credentials (keystoneauth) when
``auth_type`` is set; without them only a Glance that needs no token
(``auth_strategy = noauth``) answers. The endpoint is
``glance_api_servers``' first entry, else the catalog's ``image`` endpoint.
"""

import argparse
import json
import typing

from netapp_eic.cmd.base import CommandError

Location = tuple[str | None, list[dict[str, typing.Any]]]


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    """``--image ID`` and ``--image-meta FILE`` (read by :func:`image_of`)."""
    parser.add_argument('--image', metavar='ID',
                        help='Glance image id (read from Glance with the '
                             'credentials in cinder.conf)')
    parser.add_argument('--image-meta', metavar='FILE',
                        help='Glance\'s JSON of the image (GET '
                             '/v2/images/{id}, with "locations" or '
                             '"direct_url") instead of asking Glance')


def image_of(conf: typing.Any, image_id: str | None, meta_file: str | None
             ) -> tuple[dict[str, typing.Any], Location]:
    """The image a command names: from ``meta_file`` (Glance's JSON) when
    given, else asked of Glance by ``image_id``."""
    if meta_file:
        return from_file(meta_file, image_id)
    if not image_id:
        raise CommandError('pass --image ID or --image-meta FILE')
    return from_glance(conf, image_id)


def from_file(path: str, image_id: str | None
              ) -> tuple[dict[str, typing.Any], Location]:
    """Metadata and ``(direct_url, locations)`` from Glance's JSON (``GET
    /v2/images/{id}`` or ``openstack image show -f json``)."""
    try:
        with open(path) as meta_file:
            meta = json.load(meta_file)
    except OSError as e:
        raise CommandError('cannot read %s: %s' % (path, e.strerror)) from e
    except ValueError as e:
        raise CommandError('%s is not JSON: %s' % (path, e)) from e
    if not isinstance(meta, dict) or not meta.get('id'):
        raise CommandError('%s holds no image (no "id")' % path)
    if image_id and meta['id'] != image_id:
        raise CommandError('%s describes image %s, not %s' % (
            path, meta['id'], image_id))
    return meta, (meta.get('direct_url'), _locations(meta))


def _locations(meta: dict[str, typing.Any]) -> list[dict[str, typing.Any]]:
    found = meta.get('locations') or []
    return [loc for loc in found if isinstance(loc, dict)]


def from_glance(conf: typing.Any, image_id: str
                ) -> tuple[dict[str, typing.Any], Location]:
    """Metadata and ``(direct_url, locations)`` from the Glance API."""
    session_, endpoint = session(conf)
    base = endpoint.rstrip('/') + '/v2/images/' + image_id
    meta = _get(session_, base, 'image %s' % image_id)
    if not isinstance(meta, dict):
        raise CommandError('Glance answered no image for %s' % image_id)
    locations = None
    try:
        locations = _get(session_, base + '/locations',
                         'the locations of image %s' % image_id)
    except CommandError:
        # Cinder falls back to the image's own fields the same way.
        locations = None
    return meta, location_of(meta, locations)


def location_of(meta: dict[str, typing.Any], locations: typing.Any
                ) -> Location:
    """``(direct_url, locations)`` as Cinder picks them: the answer of
    the locations API (``locations``, None when it refused), else the
    image's own fields."""
    if isinstance(locations, list) and locations:
        return None, [loc for loc in locations if isinstance(loc, dict)]
    # Cinder keeps the image's locations only when it also shows a
    # direct_url (``GlanceImageService.get_location``).
    direct_url = meta.get('direct_url')
    return direct_url, _locations(meta) if direct_url else []


def session(conf: typing.Any) -> tuple[typing.Any, str]:
    """A keystoneauth session with the ``[glance]`` credentials (none
    without ``auth_type``) and Glance's endpoint."""
    from keystoneauth1 import loading as ks_loading
    from keystoneauth1 import session as ks_session
    auth = None
    if conf.glance.auth_type:
        try:
            auth = ks_loading.load_auth_from_conf_options(conf, 'glance')
        except Exception as e:
            raise CommandError('cannot load the [glance] credentials: %s'
                               % e) from e
    verify: bool | str = not conf.glance_api_insecure
    if verify and conf.glance_ca_certificates_file:
        verify = conf.glance_ca_certificates_file
    session = ks_session.Session(auth=auth, verify=verify,
                                 timeout=conf.glance_request_timeout or 60)
    servers = list(conf.glance_api_servers or [])
    if servers:
        endpoint = servers[0]
        return session, endpoint if '//' in endpoint else (
            'http://' + endpoint)
    if auth is None:
        raise CommandError('set glance_api_servers, or [glance] service '
                           'credentials to find Glance in the catalog; or '
                           'pass --image-meta with Glance\'s JSON')
    service_type, _name, interface = (
        conf.glance_catalog_info.split(':') + ['', '', ''])[:3]
    endpoint = session.get_endpoint(
        service_type=service_type or 'image',
        interface=(interface or 'publicURL').replace('URL', ''),
        region_name=conf.glance.region_name)
    if not endpoint:
        raise CommandError('no image endpoint in the catalog')
    return session, str(endpoint)


def _get(session: typing.Any, url: str, what: str) -> typing.Any:
    try:
        response = session.get(url, raise_exc=False,
                               headers={'Accept': 'application/json'})
    except Exception as e:
        raise CommandError('cannot reach Glance for %s: %s' % (what, e)) from e
    if response.status_code != 200:
        raise CommandError('Glance answered HTTP %d for %s' % (
            response.status_code, what))
    try:
        return response.json()
    except ValueError as e:
        raise CommandError('Glance answered no JSON for %s' % what) from e
