# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Helpers of the core's tests: images, requests, what the FlexVols hold."""

import os

from netapp_eic.core import verifications
from netapp_eic.core.types import CreateRequest
from netapp_eic_testing import glance
from netapp_eic_testing import images

MiB = 1024 * 1024
GiB = 1024 * MiB
POOL_A = '127.0.0.1:/vol_cinder_a'
POOL_B = '127.0.0.1:/vol_cinder_b'
IMAGE_SIZE = 4 * MiB


def glance_on(sim, flexvol, subdir, ip='127.0.0.1', algorithm='sha512'):
    """A Glance stand-in whose store is ``<flexvol>/<subdir>``, hashing
    new images with ``algorithm``."""
    local = sim.shares[f'{ip}:/{flexvol}']
    return glance.FakeImageService(os.path.join(local, subdir),
                                   f'nfs://{ip}/{flexvol}', local,
                                   hashing_algorithm=algorithm)


def add_image(service, tmp_path, fmt='raw', seed=1, size=IMAGE_SIZE):
    """A new image in ``service``: ``(image_id, digest of its raw bytes)``."""
    path = str(tmp_path / f'src-{fmt}-{seed}')
    images.make_image(path, fmt, size, seed=seed)
    return (service.add_image(path, fmt),
            images.raw_bytes_digest(path, fmt))


def request(service, image_id, pool=POOL_A, size=GiB, name='volume-1'):
    """The CreateRequest a driver would build for a new volume."""
    return CreateRequest(
        volume_id=name.removeprefix('volume-'), volume_name=name,
        size_bytes=size, pool=pool, image_meta=service.show(None, image_id),
        image_location=service.get_location(None, image_id))


def posts(sim, suffix):
    return [r for r in sim.request_log()
            if r['method'] == 'POST' and r['path'].endswith(suffix)]


def leftovers(sim):
    """Temporary files left in any FlexVol."""
    return [name for directory in sim.shares.values()
            for name in os.listdir(directory) if name.startswith('.eic-tmp')]


def tree(sim):
    """Every file and link in every FlexVol, ``{flexvol: [paths]}``,
    listed without following links."""
    out = {}
    for share, directory in sim.shares.items():
        names = []
        for dirpath, dirnames, filenames in os.walk(directory):
            for name in filenames + [d for d in dirnames if os.path.islink(
                    os.path.join(dirpath, d))]:
                names.append(os.path.relpath(os.path.join(dirpath, name),
                                             directory))
        out[share.rsplit('/', 1)[1]] = sorted(names)
    return out


def verification_records(sim, image_id, share=POOL_A):
    """The names of ``image_id``'s verification records in a pool."""
    return sorted(n for n in os.listdir(sim.shares[share])
                  if verifications.image_of(n) == image_id)


def new_files(before, after):
    """Paths in ``after`` that were not in ``before``, per FlexVol."""
    return {vol: sorted(set(after[vol]) - set(before.get(vol, ())))
            for vol in after if set(after[vol]) - set(before.get(vol, ()))}


def digest(path, length=IMAGE_SIZE):
    """sha512 of the first ``length`` bytes of a raw file."""
    return images.raw_bytes_digest(path, 'raw', length=length)


def replace_with_link(path, target):
    """Turn the stored file ``path`` into a symbolic link to ``target``."""
    os.unlink(path)
    os.symlink(target, path)


def share_dir(sim, flexvol, ip='127.0.0.1'):
    return sim.shares[f'{ip}:/{flexvol}']
