# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What Glance says of an image now, told apart from Glance not answering.

The agent never acts on a notification's payload: it asks Glance (``GET
/v2/images/{id}`` and the locations Cinder would get, see
:func:`netapp_eic.cmd.glance.location_of`) with the ``[glance]``
credentials of cinder.conf. An image Glance does not know (404) is
*gone*; a Glance that cannot be reached or answers 5xx is *unavailable*
(the agent retries, then leaves the image to the next reconcile).
"""

import collections.abc
import datetime
import typing
import urllib.parse

from netapp_eic.cmd import glance as glance_cmd

Location = glance_cmd.Location
#: Images per page when listing.
PAGE = 200


class GlanceUnavailable(Exception):
    """Glance did not answer (connection refused, timeout, HTTP 5xx)."""


class GlanceApi:
    """Reads of the Glance API through a keystoneauth ``session``."""

    def __init__(self, session: typing.Any, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint.rstrip('/')

    @classmethod
    def from_conf(cls, conf: typing.Any) -> 'GlanceApi':
        return cls(*glance_cmd.session(conf))

    def image(self, image_id: str) -> dict[str, typing.Any] | None:
        """The image record; None when Glance does not know the image."""
        status, body = self._get('/v2/images/%s' % image_id)
        if status in (404, 410):
            return None
        if status != 200 or not isinstance(body, dict):
            raise GlanceUnavailable('Glance answered HTTP %d for image %s' % (
                status, image_id))
        return body

    def location(self, image_id: str, meta: dict[str, typing.Any]
                 ) -> Location:
        """``(direct_url, locations)`` as Cinder would get them."""
        status, body = self._get('/v2/images/%s/locations' % image_id)
        return glance_cmd.location_of(meta, body if status == 200 else None)

    def images(self, updated_after: datetime.datetime | None = None,
               status: str | None = 'active'
               ) -> collections.abc.Iterator[dict[str, typing.Any]]:
        """Every image visible to the agent (``status``, updated after
        ``updated_after`` when given), page by page."""
        # visibility=all: community images too (Glance leaves them out of
        # a listing that does not ask for them).
        query: dict[str, str] = {'limit': str(PAGE), 'visibility': 'all',
                                 'sort_key': 'updated_at',
                                 'sort_dir': 'asc'}
        if status:
            query['status'] = status
        if updated_after is not None:
            query['updated_at'] = 'gt:%s' % updated_after.astimezone(
                datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        path: str | None = '/v2/images?' + urllib.parse.urlencode(query)
        while path:
            code, body = self._get(path)
            if code != 200 or not isinstance(body, dict) or \
                    not isinstance(body.get('images'), list):
                raise GlanceUnavailable('Glance answered HTTP %d listing '
                                        'images' % code)
            yield from (i for i in body['images'] if isinstance(i, dict))
            path = body.get('next') if isinstance(body.get('next'),
                                                  str) else None

    def _get(self, path: str) -> tuple[int, typing.Any]:
        try:
            response = self.session.get(
                self.endpoint + path, raise_exc=False,
                headers={'Accept': 'application/json'})
        except Exception as e:
            raise GlanceUnavailable('cannot reach Glance: %s' % e) from e
        if response.status_code >= 500:
            raise GlanceUnavailable('Glance answered HTTP %d' %
                                    response.status_code)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None
