# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Small, real disk images made with ``qemu-img`` for tests and the demo.

Images carry deterministic, non-trivial content (random 64 KiB blocks at a
few offsets with holes between) so that a copy that loses, shifts or
zeroes data is caught by :func:`raw_bytes_digest`. The hostile variants
(backing file, external data file, qcow2 declared as raw) are what image
safety checks must refuse.
"""

import collections
import contextlib
import hashlib
import json
import os
import random
import subprocess
import tempfile

MiB = 1024 ** 2
BLOCK = 64 * 1024
_CHUNK = 1024 * 1024

ImageInfo = collections.namedtuple(
    'ImageInfo', ['path', 'format', 'virtual_size', 'size', 'sha512', 'md5'])


def _qemu_img(*args):
    """Run ``qemu-img args`` (argv list, checked); return stdout."""
    result = subprocess.run(['qemu-img'] + list(args), check=True,
                            capture_output=True, text=True)
    return result.stdout


def qemu_img_info(path, fmt=None):
    """Return ``qemu-img info --output=json`` of ``path`` as a dict.

    Without ``fmt`` qemu-img probes the format, which is what a check of
    an untrusted image wants to see (and what a mislabelled image fools).
    """
    args = ['info', '--output=json']
    if fmt:
        args += ['-f', fmt]
    return json.loads(_qemu_img(*(args + [path])))


def file_digests(path):
    """Return ``(sha512, md5)`` hex digests of the bytes of ``path``."""
    sha512 = hashlib.sha512()
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as source:
        for chunk in iter(lambda: source.read(_CHUNK), b''):
            sha512.update(chunk)
            md5.update(chunk)
    return sha512.hexdigest(), md5.hexdigest()


def file_digest(path, algorithm):
    """The hex digest of the bytes of ``path`` by ``algorithm``."""
    hasher = hashlib.new(algorithm)
    with open(path, 'rb') as source:
        for chunk in iter(lambda: source.read(_CHUNK), b''):
            hasher.update(chunk)
    return hasher.hexdigest()


def image_info(path, fmt):
    """Build the :class:`ImageInfo` of an existing image file."""
    sha512, md5 = file_digests(path)
    virtual_size = qemu_img_info(path, fmt)['virtual-size']
    return ImageInfo(path, fmt, virtual_size, os.path.getsize(path),
                     sha512, md5)


def _block_offsets(size_bytes):
    """Offsets of the data blocks: start, end and a few in between."""
    last = (size_bytes - BLOCK) // BLOCK * BLOCK
    middle = [size_bytes * n // 7 // BLOCK * BLOCK for n in (1, 3, 5)]
    return sorted({0, last, *middle})


def write_raw_content(path, size_bytes, seed=0, sparse=True):
    """Write a raw image of ``size_bytes`` with deterministic data blocks.

    ``sparse`` leaves holes between the blocks; otherwise the gaps are
    written as zeros (same bytes, fully allocated).
    """
    if size_bytes < 2 * BLOCK or size_bytes % 512:
        raise ValueError(
            f'size must be a multiple of 512, at least {2 * BLOCK}')
    rng = random.Random(seed)
    with open(path, 'wb') as image:
        if sparse:
            image.truncate(size_bytes)
        else:
            _write_zeros(image, size_bytes)
        for offset in _block_offsets(size_bytes):
            image.seek(offset)
            image.write(rng.randbytes(BLOCK))


def _write_zeros(image, size_bytes):
    """Fill ``image`` with ``size_bytes`` zero bytes, really written."""
    zeros = bytes(_CHUNK)
    remaining = size_bytes
    while remaining:
        count = min(remaining, _CHUNK)
        image.write(zeros[:count])
        remaining -= count


def make_image(path, fmt='raw', size_bytes=8 * MiB, seed=0, sparse=True):
    """Create an image at ``path`` in ``fmt`` ('raw' or 'qcow2').

    Returns its :class:`ImageInfo`: ``size`` and the digests are of the
    file as stored (what Glance records), ``virtual_size`` of the disk.
    """
    if fmt == 'raw':
        write_raw_content(path, size_bytes, seed, sparse)
    elif fmt == 'qcow2':
        with _temp_path(os.path.dirname(os.path.abspath(path))) as raw:
            write_raw_content(raw, size_bytes, seed, sparse)
            _qemu_img('convert', '-f', 'raw', '-O', 'qcow2', raw, path)
    else:
        raise ValueError(f'unsupported image format {fmt!r}')
    return image_info(path, fmt)


def raw_bytes_digest(path, fmt='raw', length=None):
    """sha512 of the disk content of an image (its raw bytes).

    For qcow2 the image is converted to raw in a temporary file first.
    ``length`` hashes exactly that many bytes (a volume larger than the
    image is compared on the image's virtual size; a shorter file is
    padded with zeros, as a sparse tail reads).
    """
    if fmt == 'raw':
        return _hash_prefix(path, length)
    directory = os.path.dirname(os.path.abspath(path))
    with _temp_path(directory) as raw:
        _qemu_img('convert', '-f', fmt, '-O', 'raw', path, raw)
        return _hash_prefix(raw, length)


def _hash_prefix(path, length=None):
    """sha512 of the first ``length`` bytes of ``path`` (all if None)."""
    sha512 = hashlib.sha512()
    remaining = os.path.getsize(path) if length is None else length
    with open(path, 'rb') as source:
        while remaining > 0:
            chunk = source.read(min(_CHUNK, remaining))
            if not chunk:
                chunk = bytes(min(_CHUNK, remaining))
            sha512.update(chunk)
            remaining -= len(chunk)
    return sha512.hexdigest()


def make_qcow2_with_backing_file(path, backing_path, size_bytes=8 * MiB,
                                 seed=1):
    """qcow2 whose reads fall through to ``backing_path`` (a raw file).

    The backing file is created when it does not exist.
    """
    if not os.path.exists(backing_path):
        write_raw_content(backing_path, size_bytes, seed)
    _qemu_img('create', '-f', 'qcow2', '-b', os.path.abspath(backing_path),
              '-F', 'raw', path)
    return image_info(path, 'qcow2')


def make_qcow2_with_data_file(path, data_path, size_bytes=8 * MiB):
    """qcow2 whose guest data lives in the external file ``data_path``."""
    _qemu_img('create', '-f', 'qcow2', '-o',
              f'data_file={os.path.abspath(data_path)}', path,
              str(size_bytes))
    return image_info(path, 'qcow2')


def make_mislabelled_qcow2(path, size_bytes=8 * MiB, seed=2):
    """A real qcow2 file meant to be declared ``disk_format='raw'``.

    The returned info says 'qcow2' (what the file really is); the caller
    uploads it as raw.
    """
    return make_image(path, 'qcow2', size_bytes, seed)


@contextlib.contextmanager
def _temp_path(directory):
    """A temporary file name in ``directory``, removed afterwards."""
    fd, path = tempfile.mkstemp(prefix='.image-tmp-', dir=directory)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
