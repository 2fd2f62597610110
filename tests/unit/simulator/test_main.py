# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic-sim``: one JSON line, serve, exit 0 on SIGTERM."""

import json
import os
import signal
import subprocess
import sys

import requests

from tests.unit.simulator.helpers import REPO, subprocess_env


def test_cli_serves_and_exits_cleanly_on_sigterm(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, '-m', 'netapp_eic.simulator', '--seed', '1',
         '--data-root', str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(),
        text=True, cwd=REPO)
    try:
        info = json.loads(proc.stdout.readline())
        for key in ('url', 'username', 'password', 'ca_file', 'vserver',
                    'control_url', 'shares'):
            assert info[key], key
        assert info['vserver'] == 'vs0' and info['clone_mode'] == 'copy'
        assert info['shares']['127.0.0.1:/vol_cinder_a'] == str(
            tmp_path / 'vol_cinder_a')
        r = requests.get(info['url'] + '/api/cluster', verify=info['ca_file'],
                         auth=(info['username'], info['password']))
        assert r.json()['version']['major'] == 14
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not os.path.exists(info['ca_file'])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
