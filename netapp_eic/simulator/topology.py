# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Simulator topology: the built-in default and a YAML/JSON loader.

A topology is a plain dict::

    cluster:    {name, version: "9.14.1"}
    nodes:      [{name, model}]
    aggregates: [{name, node, size}]
    volume_size: 100GiB            # default FlexVol size
    svms:
      - name: vs0
        lifs: ["127.0.0.1"]        # or [{name, ip}]
        vstorage_enabled: true
        volumes:
          - {name: vol_cinder_a, size: 100GiB, junction: /vol_cinder_a,
             aggregate: aggr1, snapshot_reserve_percent: 5}

Sizes are integers (bytes) or strings with a unit (``100GiB``, ``1T``).
:func:`load_topology` fills every default so the models see a complete dict.
"""

import copy
import json
import os
import re

GIB = 1024 ** 3

DEFAULT_TOPOLOGY = {
    'cluster': {'name': 'cluster1', 'version': '9.14.1'},
    'nodes': [{'name': 'node1', 'model': 'AFF-A250'}],
    'aggregates': [{'name': 'aggr1', 'node': 'node1', 'size': '1TiB'}],
    'volume_size': '100GiB',
    'svms': [
        {'name': 'vs0', 'lifs': ['127.0.0.1'], 'vstorage_enabled': True,
         'volumes': [{'name': 'vol_cinder_a'}, {'name': 'vol_cinder_b'},
                     {'name': 'vol_glance'}]},
        {'name': 'vs1', 'lifs': ['127.0.0.2'], 'vstorage_enabled': False,
         'volumes': [{'name': 'vol_vs1'}]},
    ],
}

_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3,
          't': 1024 ** 4, 'p': 1024 ** 5}
_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$',
                      re.IGNORECASE)


class TopologyError(ValueError):
    """The topology file or dict is invalid."""


def parse_size(value):
    """Return a size in bytes from an int or a string such as ``'100GiB'``."""
    if isinstance(value, bool):
        raise TopologyError(f'invalid size: {value!r}')
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE_RE.match(str(value))
    if not match:
        raise TopologyError(f'invalid size: {value!r}')
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def parse_version(text):
    """Return ``(generation, major, minor)`` from ``'9.14.1'``."""
    parts = [int(p) for p in str(text).split('.')]
    if len(parts) != 3:
        raise TopologyError(f'cluster version must be X.Y.Z: {text!r}')
    return tuple(parts)


def _read_file(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if str(path).endswith('.json'):
        return json.loads(text)
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is optional
        return json.loads(text)
    return yaml.safe_load(text)


def load_topology(source=None):
    """Return a complete, validated topology dict.

    ``source`` is None (the default topology), a dict, or the path of a
    YAML or JSON file.
    """
    if source is None:
        raw = copy.deepcopy(DEFAULT_TOPOLOGY)
    elif isinstance(source, dict):
        raw = copy.deepcopy(source)
    elif isinstance(source, (str, os.PathLike)):
        raw = _read_file(source)
    else:
        raise TopologyError(f'unsupported topology source: {source!r}')
    if not isinstance(raw, dict):
        raise TopologyError('a topology must be a mapping')
    return _normalize(raw)


def _normalize(raw):
    cluster = dict(raw.get('cluster') or {})
    cluster.setdefault('name', 'cluster1')
    cluster['version'] = str(cluster.get('version', '9.14.1'))
    parse_version(cluster['version'])
    nodes = [_node(n) for n in raw.get('nodes') or [{'name': 'node1'}]]
    aggrs = [_aggregate(a, nodes[0]['name'])
             for a in raw.get('aggregates') or [{'name': 'aggr1'}]]
    default_size = parse_size(raw.get('volume_size', 100 * GIB))
    svms = [_svm(s, aggrs[0]['name'], default_size)
            for s in raw.get('svms') or []]
    if not svms:
        raise TopologyError('a topology needs at least one SVM')
    _check_unique([v['name'] for s in svms for v in s['volumes']], 'volume')
    _check_unique([lif['ip'] for s in svms for lif in s['lifs']], 'LIF IP')
    _check_unique([s['name'] for s in svms], 'SVM')
    return {'cluster': cluster, 'nodes': nodes, 'aggregates': aggrs,
            'volume_size': default_size, 'svms': svms}


def _check_unique(names, what):
    seen = set()
    for name in names:
        if name in seen:
            raise TopologyError(f'duplicate {what}: {name}')
        seen.add(name)


def _node(raw):
    node = {'name': raw['name'], 'model': raw.get('model', 'AFF-A250')}
    node['all_flash'] = bool(raw.get('all_flash', True))
    return node


def _aggregate(raw, node):
    return {'name': raw['name'], 'node': raw.get('node', node),
            'size': parse_size(raw.get('size', 1024 * GIB)),
            'raid_type': raw.get('raid_type', 'raid_dp'),
            'storage_type': raw.get('storage_type', 'ssd'),
            'disk_type': raw.get('disk_type', 'SSD')}


def _svm(raw, aggr, default_size):
    name = raw['name']
    lifs = []
    for i, lif in enumerate(raw.get('lifs') or []):
        if isinstance(lif, str):
            lif = {'ip': lif}
        lifs.append({'ip': lif['ip'],
                     'name': lif.get('name', f'{name}_data{i + 1}')})
    volumes = [_volume(v, aggr, default_size)
               for v in raw.get('volumes') or []]
    return {'name': name, 'lifs': lifs, 'volumes': volumes,
            'vstorage_enabled': bool(raw.get('vstorage_enabled', True))}


def _volume(raw, aggr, default_size):
    if isinstance(raw, str):
        raw = {'name': raw}
    name = raw['name']
    if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', name):
        raise TopologyError(f'invalid FlexVol name: {name!r}')
    junction = raw.get('junction', '/' + name)
    if not junction.startswith('/'):
        raise TopologyError(f'junction must be absolute: {junction!r}')
    return {'name': name, 'junction': junction.rstrip('/') or '/',
            'size': parse_size(raw.get('size', default_size)),
            'aggregate': raw.get('aggregate', aggr),
            'snapshot_reserve_percent': int(
                raw.get('snapshot_reserve_percent', 5))}
