# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The private CLI pass-through as Cinder calls it."""

import os

from tests.unit.simulator.helpers import read, vol_dir, write_file


def test_efficiency(sim, api):
    eff = api.get(sim.url + '/api//private/cli/volume/efficiency?volume='
                  'vol_cinder_a&vserver=vs0&fields=logical-data-size,'
                  'logical-data-limit').json()
    assert eff['num_records'] == 1
    assert eff['records'][0]['logical_data_limit'] == 100 * 1024 ** 3


def test_show_disk_usage(sim, api):
    write_file(sim, 'vol_cinder_a', 'img-cache-1', 8192)
    base = (sim.url + '/api//private/cli/volume/file/show-disk-usage'
            '?vserver=vs0')
    usage = api.get(base + '&path=/vol/vol_cinder_a/img-cache-1'
                    '&fields=unique_bytes').json()
    assert usage['unique_bytes'] == '8KB'
    assert usage['records'][0]['unique_bytes'] == '8KB'
    for path in ('/vol/vol_cinder_a/nope', 'not-a-vol-path'):
        missing = api.get(base + '&path=' + path)
        assert missing.json()['error']['code'] == '917806'


def test_file_clone(sim, api):
    write_file(sim, 'vol_cinder_a', 'src', data=b'abc')
    url = sim.url + '/api//private/cli/volume/file/clone'
    r = api.post(url, json={'vserver': 'vs0', 'volume': 'vol_cinder_a',
                            'source-path': 'src',
                            'destination-path': 'dst'})
    assert r.status_code == 200, r.text
    assert read(os.path.join(vol_dir(sim, 'vol_cinder_a'), 'dst')) == b'abc'
    r = api.post(url, json={'vserver': 'vs0', 'volume': 'vol_cinder_a',
                            'source-path': 'src', 'destination-path': 'x',
                            'snapshot-name': 's1'})
    assert r.status_code == 400
