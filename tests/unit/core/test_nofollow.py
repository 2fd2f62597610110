# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.nofollow on real files: links refused, never followed."""

import os

import pytest

from netapp_eic.core import nofollow
from netapp_eic import exception


@pytest.fixture
def share(tmp_path):
    """A share's mount directory, and a secret outside it."""
    root = tmp_path / 'share'
    (root / 'images').mkdir(parents=True)
    (root / 'images' / 'good').write_bytes(b'image bytes')
    secret = tmp_path / 'host-secret'
    secret.write_bytes(b'host secret')
    return str(root), str(secret)


def test_regular_file_is_opened(share):
    root, _ = share
    path = os.path.join(root, 'images', 'good')
    with nofollow.open_regular(path, root) as f:
        assert f.read() == b'image bytes'
    assert nofollow.is_regular(path, root)
    assert nofollow.size_of(path, root) == len(b'image bytes')


def test_symlink_to_host_file_is_refused_not_followed(share):
    root, secret = share
    link = os.path.join(root, 'images', 'evil')
    os.symlink(secret, link)
    with pytest.raises(exception.NotRegularFile) as err:
        nofollow.open_regular(link, root)
    assert 'symbolic link' in str(err.value)
    assert nofollow.regular_problem(link, root) == 'it is a symbolic link'
    assert not nofollow.is_regular(link)  # even without a root


def test_symlinked_directory_in_the_path_is_refused(share, tmp_path):
    root, _ = share
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'img').write_bytes(b'not the image')
    os.symlink(str(elsewhere), os.path.join(root, 'store'))
    path = os.path.join(root, 'store', 'img')
    problem = nofollow.regular_problem(path, root)
    assert problem and 'store' in problem and 'symbolic link' in problem


def test_hard_link_directory_fifo_are_refused(share):
    root, _ = share
    good = os.path.join(root, 'images', 'good')
    os.link(good, os.path.join(root, 'images', 'alias'))
    assert 'hard links' in nofollow.regular_problem(good, root)
    os.mkfifo(os.path.join(root, 'fifo'))
    assert 'FIFO' in nofollow.regular_problem(os.path.join(root, 'fifo'), root)
    assert 'directory' in nofollow.regular_problem(
        os.path.join(root, 'images'), root)


def test_paths_outside_the_root_are_refused(share):
    root, secret = share
    assert 'not a file below' in nofollow.regular_problem(secret, root)
    assert 'does not exist' in nofollow.regular_problem(
        os.path.join(root, 'missing'), root)


def test_existing_kind_does_not_follow(share):
    root, secret = share
    os.symlink(secret, os.path.join(root, 'volume-1'))
    assert nofollow.existing_kind(os.path.join(root, 'volume-1'),
                                  root) == 'a symbolic link'
    assert nofollow.existing_kind(os.path.join(root, 'volume-2'), root) is None
    assert nofollow.existing_kind(os.path.join(root, 'images', 'good'),
                                  root) == 'a regular file'


def test_unlink_removes_the_link_never_its_target(share):
    root, secret = share
    link = os.path.join(root, '.eic-tmp-copy-x')
    os.symlink(secret, link)
    assert nofollow.unlink_in(root, link) is True
    assert not os.path.lexists(link)
    with open(secret, 'rb') as f:
        assert f.read() == b'host secret'
    assert nofollow.unlink_in(root, link) is False
    with pytest.raises(exception.NotRegularFile):
        nofollow.unlink_in(root, os.path.join(root, 'images'))
    assert os.path.isdir(os.path.join(root, 'images'))
