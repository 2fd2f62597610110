# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.imagecheck with real images made by qemu-img."""

import struct
import subprocess

import pytest

from netapp_eic.core import nofollow
from netapp_eic.core import imagecheck

MiB = 1024 * 1024


def qemu_img(*args):
    subprocess.run(['qemu-img', *args], check=True, capture_output=True)


@pytest.fixture
def images(tmp_path):
    paths = {name: str(tmp_path / name) for name in (
        'raw', 'qcow2', 'base', 'backed', 'datafile', 'data.bin', 'vmdk',
        'mbr')}
    qemu_img('create', '-f', 'raw', paths['raw'], '64M')
    with open(paths['raw'], 'r+b') as f:
        f.write(b'some boot code' * 10)
    qemu_img('create', '-f', 'qcow2', paths['qcow2'], '1G')
    qemu_img('create', '-f', 'raw', paths['base'], '16M')
    qemu_img('create', '-f', 'qcow2', '-b', paths['base'], '-F', 'raw',
             paths['backed'])
    qemu_img('create', '-f', 'qcow2', '-o',
             f'data_file={paths["data.bin"]}', paths['datafile'], '16M')
    qemu_img('create', '-f', 'vmdk', paths['vmdk'], '16M')
    # A raw disk with an MBR partition table (detected as 'gpt').
    qemu_img('create', '-f', 'raw', paths['mbr'], '8M')
    with open(paths['mbr'], 'r+b') as f:
        f.seek(446)
        f.write(struct.pack('<B3BB3BII', 0x80, 0, 2, 0, 0x83, 0, 0, 0,
                            2048, 8192))
        f.seek(510)
        f.write(b'\x55\xaa')
    return paths


def check(path, declared, **kwargs):
    return imagecheck.inspect_image(path, declared, **kwargs)


def test_raw_ok(images):
    result = check(images['raw'], 'raw')
    assert result.ok, result.reason
    assert (result.detected_format, result.virtual_size) == ('raw', 64 * MiB)


def test_partitioned_raw_ok(images):
    result = check(images['mbr'], 'raw')
    assert result.ok, result.reason
    assert result.detected_format == 'raw'
    assert result.virtual_size == 8 * MiB


def test_qcow2_ok(images):
    result = check(images['qcow2'], 'qcow2')
    assert result.ok, result.reason
    assert result.detected_format == 'qcow2'
    assert result.virtual_size == 1024 * MiB


@pytest.mark.parametrize('name,declared,detected', [
    ('qcow2', 'raw', 'qcow2'),
    ('raw', 'qcow2', 'raw'),
    ('vmdk', 'raw', 'vmdk'),
])
def test_format_mismatch(images, name, declared, detected):
    result = check(images[name], declared)
    assert not result.ok
    assert result.detected_format == detected
    assert f'declared disk_format {declared}' in result.reason


def test_backing_file_refused(images):
    result = check(images['backed'], 'qcow2')
    assert not result.ok
    assert 'backing_file' in result.reason


def test_data_file_refused(images):
    result = check(images['datafile'], 'qcow2')
    assert not result.ok
    assert 'data_file' in result.reason


def test_conversion_disabled(images):
    result = check(images['qcow2'], 'qcow2', allow_conversion=False)
    assert not result.ok
    assert 'conversion is disabled' in result.reason
    assert check(images['raw'], 'raw', allow_conversion=False).ok


@pytest.mark.parametrize('container', ['compressed', 'ovf', 'ova', 'docker'])
def test_container_refused(images, container):
    result = check(images['raw'], 'raw', container_format=container)
    assert not result.ok
    assert f'container_format {container}' in result.reason


def test_container_none_is_bare(images):
    assert check(images['raw'], 'raw', container_format=None).ok


@pytest.mark.parametrize('declared', ['vmdk', 'iso', 'vhd', 'vhdx', 'vdi',
                                      'ploop', None, ''])
def test_unsupported_declared_format(images, declared):
    result = check(images['vmdk'], declared)
    assert not result.ok
    assert 'not supported on the fast path' in result.reason


def test_missing_file(tmp_path):
    result = check(str(tmp_path / 'absent'), 'raw')
    assert not result.ok
    assert result.detected_format is None
    assert 'cannot read' in result.reason


def test_directory(tmp_path):
    result = check(str(tmp_path), 'raw')
    assert not result.ok


def test_truncated_qcow2(tmp_path, images):
    path = tmp_path / 'short'
    with open(images['qcow2'], 'rb') as f:
        path.write_bytes(f.read(40))
    result = check(str(path), 'qcow2')
    assert not result.ok


def test_reads_are_bounded(tmp_path, monkeypatch):
    path = tmp_path / 'big'
    with open(path, 'wb') as f:
        f.write(b'\x01' * (16 * MiB))
    consumed = []
    real_open = nofollow.open_regular

    class Counting:
        def __init__(self, f):
            self.f = f

        def read(self, size=-1):
            data = self.f.read(size)
            consumed.append(len(data))
            return data

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def counting_open(path, root=None, write=False):
        return Counting(real_open(path, root, write))

    # The file is opened without following links; count what is read.
    monkeypatch.setattr(nofollow, 'open_regular', counting_open)
    result = imagecheck.inspect_image(str(path), 'raw')
    assert result.ok, result.reason
    assert result.virtual_size == 16 * MiB
    assert 0 < sum(consumed) <= 1 * MiB
