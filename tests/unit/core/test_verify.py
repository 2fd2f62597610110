# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.verify: Glance's hash, the threaded hashing."""

import hashlib
import logging
import os
import threading

import pytest

from netapp_eic.core import verify
from netapp_eic import exception


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
