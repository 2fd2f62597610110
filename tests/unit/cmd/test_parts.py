# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Parts of the command line that need no backend: secret scrubbing, the
local host of ``bench``, the progress bar, the shares file."""

import hashlib
import io
import logging
import os
import sys

import pytest

from netapp_eic import backend
from netapp_eic.cmd import base
from netapp_eic.cmd.localhost import LocalHost
from netapp_eic.cmd import progressbar
from netapp_eic import exception
from netapp_eic.ontap import progress


def test_redactor_scrubs_cells_and_log_records():
    redactor = base.Redactor()
    redactor.add(['s3cret', ''])
    assert redactor.scrub('user admin:s3cret@x') == 'user admin:***@x'
    assert redactor.scrub(7) == 7
    record = logging.LogRecord('x', logging.ERROR, __file__, 1,
                               'failed with %s', ('s3cret',), None)
    assert redactor.filter(record)
    assert record.getMessage() == 'failed with ***'


def test_local_host_runs_without_shell_and_reports_failure(tmp_path):
    host = LocalHost({'h:/a': str(tmp_path)}, ['h:/a'])
    host.run(['true'])
    with pytest.raises(exception.CopyOffloadFailed) as err:
        host.run([sys.executable, '-c',
                  'import sys; sys.stderr.write("boom"); sys.exit(3)'])
    assert 'exited with 3: boom' in str(err.value)
    with pytest.raises(exception.CopyOffloadFailed):
        host.run(['/nonexistent-tool'])
    with pytest.raises(exception.EicError):
        host.mount_point('h:/other')
    with pytest.raises(exception.EicError):
        LocalHost({}, ['h:/a'])


def test_local_host_converts_with_qemu_img(tmp_path):
    from netapp_eic_testing import images
    src, dst = str(tmp_path / 'img.qcow2'), str(tmp_path / 'img.raw')
    images.make_image(src, 'qcow2', 1024 * 1024, seed=2)
    LocalHost({}, []).convert_image(src, dst, 'qcow2')
    assert images.raw_bytes_digest(dst, 'raw') == images.raw_bytes_digest(
        src, 'qcow2')
    with pytest.raises(exception.EicError) as err:
        LocalHost({}, []).convert_image(src, dst, 'vmdk')
    assert 'Image conversion failed: qemu-img' in str(err.value)


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_only():
    sample = progress.Sample('copy', 50, 100, 1.0)
    tty = _Tty()
    bar = progressbar.ProgressBar(tty)
    bar(sample)
    bar.close()
    assert tty.getvalue().startswith('\r[' + '#' * 15 + '.' * 15 + '] 50%')
    pipe = io.StringIO()
    progressbar.ProgressBar(pipe)(sample)
    assert pipe.getvalue() == ''


def test_shares_file_read_as_cinder_does(tmp_path):
    path = tmp_path / 'shares'
    path.write_text('# comment\n\n10.0.0.1:/vol_a -o vers=4\n'
                    '10.0.0.1:/with\\040space\n')
    assert backend.read_shares(str(path)) == ['10.0.0.1:/vol_a',
                                              '10.0.0.1:/with space']
    digest = hashlib.md5(b'10.0.0.1:/vol_a',
                         usedforsecurity=False).hexdigest()
    assert backend.mount_point('/base', '10.0.0.1:/vol_a') == os.path.join(
        '/base', digest)
