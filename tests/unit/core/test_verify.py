# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.verify: Glance's hash, the threaded hashing."""

import errno
import hashlib
import logging
import os
import threading

import pytest

from netapp_eic.core import verify
from netapp_eic import exception

C = verify.CHUNK
MIB = 1024 * 1024

#: File layouts: (size, [(offset, length) of data]); holes elsewhere.
LAYOUTS = {
    'dense': (3 * C + 123, [(0, 3 * C + 123)]),
    'hole-at-start': (4 * C, [(2 * C + 5, 2 * C - 5)]),
    'hole-in-middle': (4 * C + 100, [(0, C + 7), (3 * C, C + 100)]),
    'hole-at-end': (5 * C, [(0, C)]),
    'all-hole': (3 * C, []),
    'size-not-a-chunk-multiple': (2 * C + 4097, [(C // 2, 10),
                                                 (2 * C, 4097)]),
}


@pytest.fixture
def image(tmp_path):
    data = os.urandom(3 * verify.CHUNK + 123)
    path = tmp_path / 'img'
    path.write_bytes(data)
    return str(tmp_path), str(path), data


def test_expected_prefers_the_multihash():
    meta = {'os_hash_algo': 'SHA256', 'os_hash_value': 'AB', 'checksum': 'cd',
            'size': 5}
    assert verify.expected(meta) == verify.Expected('sha256', 'ab', 5)


def test_expected_falls_back_to_md5_then_none():
    assert verify.expected({'os_hash_algo': 'no-such-algo',
                            'os_hash_value': 'ab', 'checksum': 'CD'}) == \
        verify.Expected('md5', 'cd', None)
    assert verify.expected({'os_hash_value': 'ab'}).algo == 'sha512'
    assert verify.expected({'size': 3}) is None


def test_matching_bytes_pass(image):
    root, path, data = image
    want = verify.Expected('sha512', hashlib.sha512(data).hexdigest(),
                           len(data))
    verify.check_file(path, root, want, 'img-1')


def test_one_flipped_byte_is_caught(image):
    root, path, data = image
    want = verify.Expected('sha512', hashlib.sha512(data).hexdigest(),
                           len(data))
    with open(path, 'r+b') as f:
        f.seek(2 * verify.CHUNK)
        f.write(bytes([data[2 * verify.CHUNK] ^ 1]))
    with pytest.raises(exception.ContentMismatch) as err:
        verify.check_file(path, root, want, 'img-1')
    assert 'Glance recorded' in str(err.value)


def test_wrong_size_is_refused_before_hashing(image):
    root, path, data = image
    want = verify.Expected('md5', hashlib.md5(data).hexdigest(),
                           len(data) + 1)
    with pytest.raises(exception.ContentMismatch) as err:
        verify.Hashing(path, root, want, 'img-1')
    assert 'bytes, Glance recorded' in str(err.value)


def test_a_link_is_refused_before_hashing(image, tmp_path):
    root, path, data = image
    link = os.path.join(root, 'link')
    os.symlink(path, link)
    want = verify.Expected('md5', hashlib.md5(data).hexdigest(), len(data))
    with pytest.raises(exception.NotRegularFile):
        verify.Hashing(link, root, want, 'img-1')


def test_cancel_stops_the_thread(image):
    root, path, data = image
    before = threading.active_count()
    hashing = verify.Hashing(path, root, verify.Expected('md5', 'x', None),
                             'img-1')
    hashing.cancel()
    assert threading.active_count() == before
    with pytest.raises(exception.EicError):
        hashing.check()


def test_unverified_image_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger='netapp_eic.core.verify')
    for _ in range(3):
        verify.note_unverified('img-once', 'Glance records no hash')
    lines = [r for r in caplog.records if 'img-once' in r.getMessage()]
    assert len(lines) == 1
    assert 'not checked against Glance' in lines[0].getMessage()


def _make(path, size, extents):
    """A file of ``size`` bytes, random data at ``extents``, holes
    elsewhere; its path."""
    with open(path, 'wb') as f:
        f.truncate(size)
        for off, length in extents:
            f.seek(off)
            f.write(os.urandom(length))
    return str(path)


def _want(path, algo='sha512'):
    with open(path, 'rb') as f:
        data = f.read()
    return verify.Expected(algo, hashlib.new(algo, data).hexdigest(),
                           len(data))


def _has_holes(path):
    """Whether the file system reports the holes of ``path``."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_HOLE) < os.fstat(fd).st_size
    finally:
        os.close(fd)


def _open_fds():
    return sorted(os.listdir('/proc/self/fd'))


def _wrap_preadv(monkeypatch, before_read):
    """Call ``before_read(call number)`` before each read of the file."""
    real = os.preadv
    calls = []

    def preadv(fd, buffers, offset):
        calls.append((buffers, offset))
        before_read(len(calls))
        return real(fd, buffers, offset)
    monkeypatch.setattr(verify.os, 'preadv', preadv)
    return calls


@pytest.mark.parametrize('algo', ['sha512', 'sha256', 'md5'])
@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_digest_of_dense_and_sparse_files(tmp_path, layout, algo):
    size, extents = LAYOUTS[layout]
    path = _make(tmp_path / 'img', size, extents)
    want = _want(path, algo)
    hashing = verify.Hashing(path, str(tmp_path), want, 'img-1')
    hashing.check()
    assert hashing.size == size
    assert sum(n for _o, n in extents) <= hashing.bytes_read <= size


def test_only_the_data_of_a_sparse_file_is_read(tmp_path):
    extents = [(0, 100_000), (20 * MIB + 5, MIB), (64 * MIB - 3, 3)]
    path = _make(tmp_path / 'img', 64 * MIB, extents)
    if not _has_holes(path):
        pytest.skip('the file system does not report holes')
    hashing = verify.Hashing(path, str(tmp_path), _want(path), 'img-1')
    hashing.check()
    # SEEK_DATA's unit is the file system's block or extent: at most the
    # MiBs each extent touches are read.
    touched = sum((off + n + MIB - 1) // MIB * MIB - off // MIB * MIB
                  for off, n in extents)
    assert sum(n for _o, n in extents) <= hashing.bytes_read <= touched
    assert hashing.size == 64 * MIB


def test_data_is_read_in_large_reads_into_a_few_buffers(tmp_path,
                                                        monkeypatch):
    path = _make(tmp_path / 'img', 10 * C, [(0, 10 * C)])
    calls = _wrap_preadv(monkeypatch, lambda n: None)
    hashing = verify.Hashing(path, str(tmp_path), _want(path), 'img-1')
    hashing.check()
    assert hashing.bytes_read == 10 * C
    assert [offset for _b, offset in calls] == [i * C for i in range(10)]
    assert {len(buffers[0]) for buffers, _o in calls} == {C}
    assert len({id(buffers[0].obj) for buffers, _o in calls}) <= \
        verify.DEPTH


def test_without_seek_data_the_whole_file_is_read(tmp_path, monkeypatch):
    size, extents = LAYOUTS['hole-in-middle']
    path = _make(tmp_path / 'img', size, extents)
    real = os.lseek

    def lseek(fd, off, whence):
        if whence in (os.SEEK_DATA, os.SEEK_HOLE):
            raise OSError(errno.EINVAL, 'Invalid argument')
        return real(fd, off, whence)
    monkeypatch.setattr(verify.os, 'lseek', lseek)
    hashing = verify.Hashing(path, str(tmp_path), _want(path), 'img-1')
    hashing.check()
    assert hashing.bytes_read == size


def test_cancel_mid_hash_leaves_no_thread_and_no_descriptor(
        tmp_path, monkeypatch):
    path = _make(tmp_path / 'img', 16 * 1024 * MIB,
                 [(0, C), (8 * 1024 * MIB, C)])
    threads, fds = set(threading.enumerate()), _open_fds()
    first_read = threading.Event()
    _wrap_preadv(monkeypatch, lambda n: first_read.set())
    hashing = verify.Hashing(path, str(tmp_path),
                             verify.Expected('sha512', 'x', None), 'img-1')
    assert first_read.wait(60)
    hashing.cancel()
    assert set(threading.enumerate()) == threads
    assert _open_fds() == fds
    with pytest.raises(exception.EicError) as err:
        hashing.check()  # no digest: stopped before the end
    assert 'cancelled' in str(err.value)


def test_a_read_error_reaches_check(tmp_path, monkeypatch):
    path = _make(tmp_path / 'img', 4 * C, [(0, 4 * C)])
    threads, fds = set(threading.enumerate()), _open_fds()

    def fail(n):
        if n == 2:
            raise OSError(errno.EIO, 'Input/output error')
    _wrap_preadv(monkeypatch, fail)
    hashing = verify.Hashing(path, str(tmp_path), _want(path), 'img-1')
    with pytest.raises(OSError) as err:
        hashing.check()
    assert err.value.errno == errno.EIO
    assert set(threading.enumerate()) == threads
    assert _open_fds() == fds


@pytest.mark.parametrize('layout, cut', [
    ('dense', C + 10),         # a read comes short, the next one empty
    ('hole-at-end', 2 * C),    # SEEK_DATA finds the end before the size
])
def test_a_file_truncated_while_hashed_is_refused(tmp_path, monkeypatch,
                                                  layout, cut):
    size, extents = LAYOUTS[layout]
    path = _make(tmp_path / 'img', size, extents)
    want = _want(path)

    def truncate(n):
        if n == 1:
            os.truncate(path, cut)
    _wrap_preadv(monkeypatch, truncate)
    with pytest.raises(exception.NotRegularFile) as err:
        verify.check_file(path, str(tmp_path), want, 'img-1')
    assert 'changed while it was hashed' in str(err.value)


def test_a_file_grown_while_hashed_hashes_its_first_size_bytes(
        tmp_path, monkeypatch):
    size, extents = LAYOUTS['hole-in-middle']
    path = _make(tmp_path / 'img', size, extents)
    want = _want(path)

    def grow(n):
        if n == 1:
            with open(path, 'ab') as f:
                f.write(b'more')
    _wrap_preadv(monkeypatch, grow)
    hashing = verify.Hashing(path, str(tmp_path), want, 'img-1')
    hashing.check()
    assert not hashing.unchanged()
