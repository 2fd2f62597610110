# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What a user does, through the public REST APIs only.

python-glanceclient against Glance and python-cinderclient against the
Block Storage API, both with noauth endpoints (Cinder's token is
``user:project``; its noauth context is an administrator, so the same
client also creates volume types and lifts quotas as an operator would).
"""

import concurrent.futures
import time
from collections.abc import Sequence

import glanceclient
from cinderclient import client as cinder_client
from cinderclient.contrib import noauth
from keystoneauth1 import session as ks_session

from tests.e2e import cinder_svc

# Re-image needs 3.68; 3.71 is what python-cinderclient 9 speaks by default.
CINDER_API_VERSION = '3.71'


class VolumeFailed(AssertionError):
    """A volume ended in ``error`` or did not become available in time."""


class Api:
    """The two REST clients and the user-level steps the scenarios use."""

    def __init__(self, glance_url: str, cinder_url: str):
        self.glance = glanceclient.Client('2', endpoint=glance_url,
                                          token=cinder_svc.TOKEN)
        auth = noauth.CinderNoAuthPlugin('e2e', cinder_svc.PROJECT,
                                         endpoint=cinder_url)
        self.cinder = cinder_client.Client(
            CINDER_API_VERSION, session=ks_session.Session(auth=auth))
        self._types: dict[str, str] = {}

    # ------------------------------------------------------------ images
    def upload_image(self, path: str, name: str, disk_format: str,
                     store: str) -> str:
        """Create an image and upload ``path`` into Glance store ``store``;
        returns its id once ``active``."""
        image = self.glance.images.create(name=name, disk_format=disk_format,
                                          container_format='bare')
        with open(path, 'rb') as data:
            self.glance.images.upload(image['id'], data, backend=store)
        shown = self.glance.images.get(image['id'])
        if shown['status'] != 'active':
            raise AssertionError('image %s is %s after upload' % (
                image['id'], shown['status']))
        return str(image['id'])

    def image(self, image_id: str) -> dict:
        return dict(self.glance.images.get(image_id))

    # ------------------------------------------------------------ setup
    def lift_quotas(self) -> None:
        """The default of 10 volumes is too few for a full run."""
        self.cinder.quotas.update(cinder_svc.PROJECT, volumes=-1,
                                  gigabytes=-1, snapshots=-1)

    def volume_type(self, backend: str, pool: str | None = None) -> str:
        """A volume type pinning ``backend`` (and ``pool``, a share)."""
        name = backend if pool is None else '%s-%s' % (backend, pool)
        if name not in self._types:
            vtype = self.cinder.volume_types.create(name)
            specs = {'volume_backend_name': backend}
            if pool is not None:
                specs['pool_name'] = pool
            vtype.set_keys(specs)
            self._types[name] = vtype.id
        return name

    # ------------------------------------------------------------ volumes
    def create_volume(self, image_id: str, volume_type: str, size: int = 1,
                      name: str = 'e2e') -> str:
        volume = self.cinder.volumes.create(size, imageRef=image_id,
                                            volume_type=volume_type,
                                            name=name)
        return str(volume.id)

    def create_and_time(self, image_id: str, volume_type: str,
                        size: int = 1, name: str = 'e2e') -> tuple[str, float]:
        """Create a volume from ``image_id``; returns its id and the seconds
        from the create request to the status ``available``."""
        start = time.monotonic()
        volume_id = self.create_volume(image_id, volume_type, size, name)
        self.wait_available([volume_id], interval=0.1)
        return volume_id, time.monotonic() - start

    def create_many(self, image_id: str, volume_type: str,
                    count: int) -> list[str]:
        """``count`` create requests sent at the same moment."""
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(self.create_volume, image_id, volume_type,
                                   1, 'storm-%d' % i) for i in range(count)]
            return [f.result() for f in futures]

    def wait_available(self, volume_ids: Sequence[str],
                       timeout: float = 240.0, interval: float = 0.25,
                       accept: Sequence[str] = ('available',),
                       seen: dict[str, float] | None = None) -> dict:
        """Poll until every volume is ``available``; returns their final
        records. Raises :class:`VolumeFailed` on ``error`` or timeout.
        ``seen`` receives, per volume, the ``time.monotonic()`` of the
        first poll that found it available."""
        wanted = set(volume_ids)
        deadline = time.monotonic() + timeout
        while True:
            records = {v.id: v for v in self.cinder.volumes.list(
                search_opts={'all_tenants': 1}) if v.id in wanted}
            if seen is not None:
                now = time.monotonic()
                for v in records.values():
                    if v.status == 'available':
                        seen.setdefault(v.id, now)
            failed = [v for v in records.values()
                      if v.status.startswith('error')]
            if failed:
                raise VolumeFailed('volumes in error: %s' % ', '.join(
                    '%s (%s)' % (v.id, v.status) for v in failed))
            if len(records) == len(wanted) and all(
                    v.status in accept for v in records.values()):
                return records
            if time.monotonic() > deadline:
                raise VolumeFailed('not available after %.0f s: %s' % (
                    timeout, {i: getattr(records.get(i), 'status', None)
                              for i in wanted}))
            time.sleep(interval)

    def storm(self, image_id: str, volume_type: str,
              count: int) -> dict[str, float]:
        """``count`` creates sent at once; once all are available, the
        seconds from the send to each one's ``available``, by volume."""
        start = time.monotonic()
        volume_ids = self.create_many(image_id, volume_type, count)
        seen: dict[str, float] = {}
        self.wait_available(volume_ids, interval=0.1, seen=seen)
        return {v: seen[v] - start for v in volume_ids}

    def volume(self, volume_id: str):
        return self.cinder.volumes.get(volume_id)

    def reimage(self, volume_id: str, image_id: str) -> float:
        """Re-image an available volume; seconds until available again.
        cinder-api sets ``downloading`` before it answers, so the wait
        cannot see the old ``available``."""
        start = time.monotonic()
        self.cinder.volumes.reimage(volume_id, image_id,
                                    reimage_reserved=False)
        self.wait_available([volume_id])
        return time.monotonic() - start

    def delete_volumes(self, volume_ids: Sequence[str],
                       timeout: float = 120.0) -> None:
        """Delete and wait until the API no longer lists them."""
        for volume_id in volume_ids:
            self.cinder.volumes.delete(volume_id)
        deadline = time.monotonic() + timeout
        while True:
            left = {v.id: v.status for v in self.cinder.volumes.list()
                    if v.id in set(volume_ids)}
            if not left:
                return
            if any(s.startswith('error') for s in left.values()):
                raise VolumeFailed('delete failed: %s' % left)
            if time.monotonic() > deadline:
                raise VolumeFailed('not deleted after %.0f s: %s' % (
                    timeout, left))
            time.sleep(0.25)
