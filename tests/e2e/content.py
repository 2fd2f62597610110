# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Image files for the scenarios and the check of a volume's bytes.

Images are dense: every byte comes from a seeded generator (a different
seed per image), so a File Copy, a clone or a conversion that loses,
shifts or mixes up data is caught, and a copy costs what a real image's
would. A volume is checked through the FlexVol directory of the
simulator, the "NFS server" side: its size is the volume's, its first
bytes are the image's raw bytes, and everything after them reads as zeros.
"""

import dataclasses
import hashlib
import os
import random
import subprocess

MiB = 1024 ** 2
GiB = 1024 ** 3
_CHUNK = 4 * MiB


@dataclasses.dataclass(frozen=True)
class Image:
    """A local image file: what is uploaded and what a volume must hold."""

    path: str
    disk_format: str
    virtual_size: int
    raw_sha512: str


def make_image(directory: str, name: str, size_mib: int, seed: int,
               disk_format: str = 'raw') -> Image:
    """A raw (or qcow2, converted from it) image of ``size_mib`` MiB."""
    os.makedirs(directory, exist_ok=True)
    raw = os.path.join(directory, name + '.raw')
    rng = random.Random(seed)
    digest = hashlib.sha512()
    with open(raw, 'wb') as out:
        for _ in range(size_mib * MiB // _CHUNK):
            chunk = rng.randbytes(_CHUNK)
            digest.update(chunk)
            out.write(chunk)
    if disk_format == 'raw':
        return Image(raw, 'raw', size_mib * MiB, digest.hexdigest())
    if disk_format != 'qcow2':
        raise ValueError('unsupported disk format %r' % disk_format)
    qcow2 = os.path.join(directory, name + '.qcow2')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw,
                    qcow2], check=True, capture_output=True)
    os.unlink(raw)
    return Image(qcow2, 'qcow2', size_mib * MiB, digest.hexdigest())


def volume_mismatch(path: str, image: Image, size_gib: int) -> str | None:
    """Why the volume file at ``path`` does not hold ``image`` on a
    ``size_gib`` GiB disk, or None when it does."""
    if not os.path.exists(path):
        return 'volume file %s does not exist' % path
    actual = os.path.getsize(path)
    if actual != size_gib * GiB:
        return 'volume file %s is %d bytes, not %d GiB' % (path, actual,
                                                           size_gib)
    digest = hashlib.sha512()
    with open(path, 'rb') as volume:
        remaining = image.virtual_size
        while remaining:
            chunk = volume.read(min(_CHUNK, remaining))
            if not chunk:
                return 'volume file %s ends inside the image' % path
            digest.update(chunk)
            remaining -= len(chunk)
        if digest.hexdigest() != image.raw_sha512:
            return ('the first %d bytes of %s differ from the image %s' %
                    (image.virtual_size, path, image.path))
        return _nonzero_tail(volume, image.virtual_size, actual)


def _nonzero_tail(volume, start: int, end: int) -> str | None:
    """None if every byte from ``start`` to ``end`` is zero. Holes are
    skipped with SEEK_DATA; only allocated ranges are read."""
    fd = volume.fileno()
    offset = start
    while offset < end:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:  # ENXIO: no data after offset
            return None
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        volume.seek(data)
        remaining = min(hole, end) - data
        while remaining > 0:
            chunk = volume.read(min(_CHUNK, remaining))
            if chunk.strip(b'\0'):
                return 'non-zero bytes after the image in %s near %d' % (
                    volume.name, data)
            remaining -= len(chunk)
        offset = hole
    return None
