# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A Glance-like image service serving images stored on a simulated FlexVol.

:class:`FakeImageService` has the methods Cinder calls on
``cinder.image.glance.GlanceImageService`` (``show``, ``get_location``,
``download``, ``get_stores``, ``update``, ``delete``, ``temp_images``) and
returns the same shapes: ``show`` the dict ``_translate_from_glance``
builds, ``get_location`` the ``(direct_url, locations)`` tuple Cinder gets
from Glance's location API. The image files live where Glance's filesystem
store would write them inside the Glance FlexVol, so an NFS-aware driver
can find them on the storage, while ``download`` is the host-side path
(bytes counted in ``bytes_downloaded``, sha512 verified like glanceclient).
"""

import copy
import datetime
import errno
import hashlib
import os
import shutil
import subprocess
import threading
import uuid

from netapp_eic_testing import images

_CHUNK = 1024 * 1024

LOCATION_FILE = 'file'
LOCATION_NFS = 'nfs'


class ImageNotFound(Exception):
    """Raised when cinder is not importable and an image is unknown."""


def _not_found(image_id):
    """Cinder's ImageNotFound when available (what drivers catch)."""
    try:
        from cinder import exception
    except ImportError:
        return ImageNotFound(image_id)
    return exception.ImageNotFound(image_id=image_id)


def _now():
    """UTC now, to the second, as Glance timestamps parse back."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(microsecond=0)


class FakeImageService:
    """Glance stand-in over a directory of the simulated Glance FlexVol.

    :param store_dir: where image files are written (``<store_dir>/<id>``),
        e.g. ``<vol_glance dir>/images``.
    :param share_location: ``'nfs://127.0.0.1/vol_glance'``.
    :param mountpoint: the Glance FlexVol's directory as Glance's host
        sees it (the filesystem store metadata ``mountpoint``).
    :param store_id: the store metadata ``id``.
    :param location_style: ``'file'`` (filesystem store + metadata, what
        the location API returns) or ``'nfs'`` (an ``nfs://`` direct URL).
    :param hashing_algorithm: Glance's ``hashing_algorithm`` (the
        multihash of new images).
    """

    def __init__(self, store_dir, share_location, mountpoint,
                 store_id='netapp-glance', location_style=LOCATION_FILE,
                 hashing_algorithm='sha512'):
        if location_style not in (LOCATION_FILE, LOCATION_NFS):
            raise ValueError('location_style must be file or nfs')
        self.store_dir = os.path.abspath(store_dir)
        self.share_location = share_location.rstrip('/')
        self.mountpoint = os.path.abspath(mountpoint)
        self.store_id = store_id
        self.location_style = location_style
        self.hashing_algorithm = hashing_algorithm
        self.bytes_downloaded = 0
        self.temp_images = None
        self._images = {}
        self._locations = {}
        self._lock = threading.Lock()
        os.makedirs(self.store_dir, exist_ok=True)

    # -- test-side API ----------------------------------------------------

    def image_path(self, image_id):
        """Path of the stored file of ``image_id``."""
        return os.path.join(self.store_dir, image_id)

    def add_image(self, source_path, disk_format, container_format='bare',
                  image_id=None, name=None, **props):
        """Store a copy of ``source_path`` as a new active image.

        Extra keyword arguments become custom image properties (they land
        under ``properties`` in ``show``). Returns the image id.
        """
        image_id = image_id or str(uuid.uuid4())
        shutil.copyfile(source_path, self.image_path(image_id))
        now = _now()
        meta = {
            'id': image_id,
            'name': name if name is not None else f'image-{image_id[:8]}',
            'status': 'active',
            'visibility': 'shared',
            'protected': False,
            'os_hidden': False,
            'owner': None,
            'disk_format': disk_format,
            'container_format': container_format,
            'min_disk': 0,
            'min_ram': 0,
            'tags': [],
            'created_at': now,
            'updated_at': now,
            'self': f'/v2/images/{image_id}',
            'file': f'/v2/images/{image_id}/file',
            'properties': dict(props),
        }
        meta.update(self._content_fields(image_id, disk_format))
        with self._lock:
            self._images[image_id] = meta
        return image_id

    def _content_fields(self, image_id, disk_format):
        """size, virtual_size and hashes of the stored file."""
        path = self.image_path(image_id)
        sha512, md5 = images.file_digests(path)
        multihash = sha512
        if self.hashing_algorithm != 'sha512':
            multihash = images.file_digest(path, self.hashing_algorithm)
        return {
            'size': os.path.getsize(path),
            'virtual_size': self._virtual_size(path, disk_format),
            'checksum': md5,
            'os_hash_algo': self.hashing_algorithm,
            'os_hash_value': multihash,
        }

    @staticmethod
    def _virtual_size(path, disk_format):
        """Virtual size as Glance computes it (None if qemu-img cannot)."""
        fmt = disk_format if disk_format in ('raw', 'qcow2') else None
        try:
            return images.qemu_img_info(path, fmt)['virtual-size']
        except (OSError, ValueError, KeyError, subprocess.SubprocessError):
            return None

    def update_image_content(self, image_id, source_path):
        """Replace the bytes of an image (new hashes, new ``updated_at``)."""
        meta = self._get(image_id)
        shutil.copyfile(source_path, self.image_path(image_id))
        with self._lock:
            meta.update(self._content_fields(image_id, meta['disk_format']))
            meta['updated_at'] = max(_now(), meta['updated_at'] +
                                     datetime.timedelta(seconds=1))

    def set_fields(self, image_id, **fields):
        """Set metadata fields as stored, even those Glance computes
        (``size``, hashes, ``virtual_size``): hostile or old metadata.
        A value of None removes the field."""
        meta = self._get(image_id)
        with self._lock:
            for key, value in fields.items():
                if value is None:
                    meta.pop(key, None)
                else:
                    meta[key] = value

    def set_locations(self, image_id, direct_url, locations):
        """Override what ``get_location`` returns for ``image_id``."""
        self._get(image_id)
        with self._lock:
            self._locations[image_id] = (direct_url, copy.deepcopy(locations))

    def corrupt_stored_file(self, image_id, offset=0):
        """Flip one byte of the stored file without updating the hashes."""
        with open(self.image_path(image_id), 'r+b') as stored:
            stored.seek(offset)
            byte = stored.read(1)
            stored.seek(offset)
            stored.write(bytes([byte[0] ^ 0xFF]))

    def default_locations(self, image_id):
        """The ``(direct_url, locations)`` Glance would return."""
        path = self.image_path(image_id)
        if self.location_style == LOCATION_NFS:
            relative = os.path.relpath(path, self.mountpoint)
            url = f'{self.share_location}/{relative}'
            return url, [{'url': url, 'metadata': {}}]
        metadata = {'id': self.store_id, 'mountpoint': self.mountpoint,
                    'type': 'nfs', 'share_location': self.share_location}
        return None, [{'url': 'file://' + path, 'metadata': metadata}]

    # -- the GlanceImageService interface Cinder uses -----------------------

    def show(self, context, image_id):
        """Image metadata as ``GlanceImageService.show`` returns it."""
        return copy.deepcopy(self._get(image_id))

    def get_location(self, context, image_id):
        """``(direct_url, locations)`` as ``GlanceImageService`` returns."""
        self._get(image_id)
        with self._lock:
            override = self._locations.get(image_id)
        if override is not None:
            return override[0], copy.deepcopy(override[1])
        return self.default_locations(image_id)

    def get_stores(self, context):
        """The single (file) store, as ``get_stores_info`` reports it."""
        return {'stores': [{'id': self.store_id, 'default': 'true'}]}

    def detail(self, context, **kwargs):
        """All images (filters are ignored)."""
        with self._lock:
            ids = list(self._images)
        return [self.show(context, image_id) for image_id in ids]

    def download(self, context, image_id, data=None, dst_path=None):
        """Stream the image to ``dst_path`` or the file object ``data``.

        Without either, return the chunk iterator (as Glance does). The
        sha512 is verified at the end like glanceclient: a mismatch raises
        ``IOError(EPIPE, 'Corrupt image download...')``.
        """
        chunks = self._verified_chunks(image_id)
        if dst_path is not None:
            with open(dst_path, 'wb') as target:
                target.writelines(chunks)
            return None
        if data is None:
            return chunks
        for chunk in chunks:
            data.write(chunk)
        return None

    def _verified_chunks(self, image_id):
        """Yield the stored bytes; raise IOError if the hash mismatches."""
        meta = self._get(image_id)
        expected = meta['os_hash_value']
        hasher = hashlib.sha512()
        with open(self.image_path(image_id), 'rb') as stored:
            for chunk in iter(lambda: stored.read(_CHUNK), b''):
                self.bytes_downloaded += len(chunk)
                hasher.update(chunk)
                yield chunk
        computed = hasher.hexdigest()
        if computed != expected:
            raise OSError(errno.EPIPE,
                          f'Corrupt image download. Hash was {computed} '
                          f'expected {expected}')

    def update(self, context, image_id, image_meta, data=None,
               purge_props=True, store_id=None, base_image_ref=None):
        """Update metadata (and content when ``data`` is a file object)."""
        meta = self._get(image_id)
        changes = dict(image_meta)
        properties = changes.pop('properties', None)
        for key in ('id', 'size', 'checksum', 'os_hash_value',
                    'created_at', 'updated_at'):
            changes.pop(key, None)
        with self._lock:
            meta.update(changes)
            if properties is not None:
                if purge_props:
                    meta['properties'] = {}
                meta['properties'].update(properties)
            meta['updated_at'] = _now()
        if data is not None:
            with open(self.image_path(image_id), 'wb') as stored:
                shutil.copyfileobj(data, stored)
            with self._lock:
                meta.update(self._content_fields(image_id,
                                                 meta['disk_format']))
        return self.show(context, image_id)

    def delete(self, context, image_id):
        """Delete the image and its stored file."""
        self._get(image_id)
        with self._lock:
            del self._images[image_id]
            self._locations.pop(image_id, None)
        try:
            os.unlink(self.image_path(image_id))
        except FileNotFoundError:
            pass
        return True

    def _get(self, image_id):
        """The live metadata dict; Cinder's ImageNotFound if unknown."""
        with self._lock:
            meta = self._images.get(image_id)
        if meta is None:
            raise _not_found(image_id)
        return meta
