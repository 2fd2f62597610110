# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.visibility: the bounded wait for a file on the mount."""

import threading

import pytest

from netapp_eic.core import visibility
from netapp_eic import exception


def test_existing_file_returns_at_once(tmp_path, monkeypatch):
    path = tmp_path / 'f'
    path.write_bytes(b'x')
    naps = []
    monkeypatch.setattr(visibility, 'sleep', naps.append)
    visibility.wait_visible(str(path), 1.0)
    assert naps == []


def test_file_appearing_later_is_found(tmp_path):
    path = tmp_path / 'f'
    timer = threading.Timer(0.05, path.write_bytes, args=(b'x',))
    timer.start()
    try:
        visibility.wait_visible(str(path), 5.0)
    finally:
        timer.cancel()
    assert path.exists()


def test_missing_file_times_out(tmp_path):
    with pytest.raises(exception.NotVisible) as err:
        visibility.wait_visible(str(tmp_path / 'never'), 0.05)
    assert 'within 0.05 s' in str(err.value)
