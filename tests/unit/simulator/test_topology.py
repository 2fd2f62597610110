# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Topology files and dicts: defaults, sizes, validation, YAML."""

import json
import sys

import pytest
import yaml

from netapp_eic.simulator import (
    DEFAULT_TOPOLOGY,
    Simulator,
    load_topology,
    topology,
)

SPEC = {'cluster': {'version': '9.15.1'},
        'svms': [{'name': 'svm_a', 'lifs': ['127.0.0.3'],
                  'volumes': [{'name': 'v1', 'size': '2GiB',
                               'junction': '/data/v1'}]}]}


def test_default_topology():
    topo = load_topology()
    assert topo['cluster']['version'] == '9.14.1'
    svms = {s['name']: s for s in topo['svms']}
    assert [v['name'] for v in svms['vs0']['volumes']] == [
        'vol_cinder_a', 'vol_cinder_b', 'vol_glance']
    assert svms['vs1']['vstorage_enabled'] is False
    assert svms['vs1']['volumes'][0]['junction'] == '/vol_vs1'
    assert svms['vs1']['volumes'][0]['size'] == 100 * 1024 ** 3
    assert topo['aggregates'][0]['size'] == 1024 ** 4
    assert DEFAULT_TOPOLOGY['svms'][0]['lifs'] == ['127.0.0.1']
    assert topo['svm_peers'] == []


@pytest.mark.parametrize('text,size', [
    (4096, 4096), ('4096', 4096), ('512MiB', 512 * 1024 ** 2),
    ('1TiB', 1024 ** 4), ('2GB', 2 * 1024 ** 3), ('1.5KiB', 1536),
])
def test_parse_size(text, size):
    assert topology.parse_size(text) == size


@pytest.mark.parametrize('text', ['lots', '-1', True, None, '10 parsecs'])
def test_parse_size_rejects(text):
    with pytest.raises(topology.TopologyError):
        topology.parse_size(text)


def test_yaml_and_json_files(tmp_path):
    json_file = tmp_path / 'topo.json'
    json_file.write_text(json.dumps(SPEC))
    yaml_file = tmp_path / 'topo.yaml'
    yaml_file.write_text(yaml.safe_dump(SPEC))
    for path in (json_file, yaml_file):
        topo = load_topology(str(path))
        assert topo['svms'][0]['volumes'][0]['size'] == 2 * 1024 ** 3
    root = tmp_path / 'root'
    root.mkdir()
    with Simulator(topology=str(yaml_file), data_root=str(root),
                   tls=False) as sim:
        assert sim.shares == {'127.0.0.3:/data/v1': str(root / 'v1')}
        assert sim.vserver == 'svm_a'


def test_yaml_without_pyyaml_names_the_extra(tmp_path, monkeypatch):
    # PyYAML is installed here; a None entry in sys.modules makes
    # ``import yaml`` fail as it would without the extra.
    monkeypatch.setitem(sys.modules, 'yaml', None)
    path = tmp_path / 'topo.yaml'
    path.write_text(json.dumps(SPEC))  # valid JSON is valid YAML too
    with pytest.raises(topology.TopologyError,
                       match=r'netapp-eic\[simulator\]'):
        load_topology(str(path))


TWO_SVMS = [{'name': 'a', 'lifs': ['127.0.0.3']},
            {'name': 'b', 'lifs': ['127.0.0.4']}]


def test_svm_peers():
    topo = load_topology({'svms': TWO_SVMS, 'svm_peers': [
        {'svm': 'a', 'peer': 'b',
         'applications': ['file_copy', 'snapmirror', 'file_copy']}]})
    assert topo['svm_peers'] == [
        {'svm': 'a', 'peer': 'b', 'applications': ['file_copy', 'snapmirror']}]


def _peers(*peers):
    return {'svms': TWO_SVMS, 'svm_peers': list(peers)}


@pytest.mark.parametrize('spec,needle', [
    (_peers({'svm': 'a', 'peer': 'nope', 'applications': ['file_copy']}),
     "unknown SVM: 'nope'"),
    (_peers({'peer': 'b', 'applications': ['file_copy']}),
     'unknown SVM: None'),
    (_peers({'svm': 'a', 'peer': 'a', 'applications': ['file_copy']}),
     'cannot peer with itself'),
    (_peers({'svm': 'a', 'peer': 'b'}), 'non-empty list'),
    (_peers({'svm': 'a', 'peer': 'b', 'applications': []}), 'non-empty'),
    (_peers({'svm': 'a', 'peer': 'b', 'applications': ['file-copy']}),
     "unknown application.*'file-copy'"),
    (_peers({'svm': 'a', 'peer': 'b', 'applications': ['snapmirror']},
            {'svm': 'b', 'peer': 'a', 'applications': ['file_copy']}),
     'duplicate SVM peer relationship: a and b'),
    (_peers('a->b'), 'must be a mapping'),
])
def test_invalid_svm_peers(spec, needle):
    with pytest.raises(topology.TopologyError, match=needle):
        load_topology(spec)


@pytest.mark.parametrize('spec,needle', [
    ({'svms': [{'name': 'a', 'volumes': ['x', 'x']}]}, 'duplicate volume'),
    ({'svms': []}, 'at least one SVM'),
    ({'cluster': {'version': '9.14'}, 'svms': [{'name': 'a'}]}, 'X.Y.Z'),
    ({'svms': [{'name': 'a', 'volumes': ['bad-name']}]}, 'FlexVol name'),
    ({'svms': [{'name': 'a', 'volumes': [{'name': 'v', 'junction': 'v'}]}]},
     'absolute'),
])
def test_invalid_topology(spec, needle):
    with pytest.raises(topology.TopologyError, match=needle):
        load_topology(spec)
