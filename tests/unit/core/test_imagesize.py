# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.imagesize: the real virtual size, from Glance's bytes."""

import pytest

from netapp_eic.core import imagesize
from netapp_eic import exception
from netapp_eic_testing import images

MiB = 1024 * 1024


class Stream:
    """Glance's data stream: chunks, counted, closable."""

    def __init__(self, path, chunk=64 * 1024):
        self.file = open(path, 'rb')
        self.chunk = chunk
        self.read = 0
        self.closed = False

    def __iter__(self):
        while data := self.file.read(self.chunk):
            self.read += len(data)
            yield data

    def close(self):
        self.closed = True
        self.file.close()


def test_raw_size_is_glances_stored_size_and_nothing_is_read(tmp_path):
    path = str(tmp_path / 'raw')
    images.make_image(path, 'raw', 4 * MiB)
    stream = Stream(path)
    meta = {'disk_format': 'raw', 'size': 4 * MiB, 'virtual_size': 1}
    assert imagesize.virtual_size(meta, stream) == 4 * MiB
    assert (stream.read, stream.closed) == (0, True)


def test_qcow2_size_from_its_header_not_from_glance(tmp_path):
    path = str(tmp_path / 'img.qcow2')
    images.make_image(path, 'qcow2', 48 * MiB)
    stream = Stream(path)
    meta = {'disk_format': 'qcow2', 'size': 1, 'virtual_size': 1 * MiB}
    assert imagesize.virtual_size(meta, stream) == 48 * MiB
    assert stream.read <= 64 * 1024 and stream.closed


def test_no_header_within_the_bound(tmp_path):
    path = tmp_path / 'junk'
    path.write_bytes(b'\1' * (2 * MiB))
    with pytest.raises(exception.EicError, match='no qcow2 header'):
        imagesize.virtual_size({'disk_format': 'qcow2'}, Stream(str(path)))


def test_raw_without_size(tmp_path):
    with pytest.raises(exception.EicError, match='no size'):
        imagesize.virtual_size({'disk_format': 'raw'}, [])
