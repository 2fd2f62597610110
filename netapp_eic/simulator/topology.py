# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Simulator topology: the built-in default and a YAML/JSON loader.

A topology is a plain dict::

    cluster:    {name, version: "9.14.1"}
    nodes:      [{name, model, all_flash}]
    aggregates: [{name, node, size}]
    volume_size: 100GiB            # default FlexVol size
    svms:
      - name: vs0
        lifs: ["127.0.0.1"]        # or [{name, ip}]
        vstorage_enabled: true
        volumes:
          - {name: vol_cinder_a, size: 100GiB, junction: /vol_cinder_a,
             aggregate: aggr1, snapshot_reserve_percent: 5}
    svm_peers:                     # optional; none by default
      - {svm: vs0, peer: vs1, applications: [file_copy]}

Sizes are integers (bytes) or strings in IEC units as
``oslo_utils.strutils.string_to_bytes`` reads them (``100GiB``, ``1TiB``,
``512MiB``, ``4096B``). :func:`load_topology` fills every default so the
models see a complete dict. YAML files need PyYAML, part of the
``netapp-eic[simulator]`` extra.

``svm_peers`` are intracluster SVM peer relationships, peered from the
start; ``applications`` is a non-empty subset of :data:`PEER_APPLICATIONS`.
"""

import copy
import json
import os
import re
from typing import Any

from oslo_utils import strutils, units

Spec = dict[str, Any]

DEFAULT_TOPOLOGY: Spec = {
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
#: The applications of an SVM peer relationship (``vserver peer create
#: -applications``; REST spells ``file-copy`` as ``file_copy``).
PEER_APPLICATIONS = ('snapmirror', 'file_copy', 'lun_copy', 'flexcache')
_FLEXVOL_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


class TopologyError(ValueError):
    """The topology file or dict is invalid."""


def parse_size(value: object) -> int:
    """Bytes from an int or an IEC size string such as ``'100GiB'``."""
    if isinstance(value, bool):
        raise TopologyError(f'invalid size: {value!r}')
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            size = (int(text) if text.isdigit() else
                    strutils.string_to_bytes(text, 'IEC', return_int=True))
        except ValueError:
            raise TopologyError(
                f'invalid size: {value!r} (use bytes or IEC units such as '
                '100GiB)') from None
    else:
        raise TopologyError(f'invalid size: {value!r}')
    if size < 0:
        raise TopologyError(f'invalid size: {value!r}')
    return size


def parse_version(text: object) -> tuple[int, int, int]:
    """Return ``(generation, major, minor)`` from ``'9.14.1'``."""
    try:
        generation, major, minor = (int(p) for p in str(text).split('.'))
    except ValueError:
        raise TopologyError(
            f'cluster version must be X.Y.Z: {text!r}') from None
    return generation, major, minor


def _read_file(path: str | os.PathLike[str]) -> object:
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if str(path).endswith('.json'):
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise TopologyError(
            f'{path}: reading a YAML topology needs PyYAML; install '
            '"netapp-eic[simulator]" or give a .json file') from None
    return yaml.safe_load(text)


def load_topology(source: Spec | str | os.PathLike[str] | None = None
                  ) -> Spec:
    """Return a complete, validated topology dict.

    ``source`` is None (the default topology), a dict, or the path of a
    YAML or JSON file.
    """
    raw: object
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


def _normalize(raw: Spec) -> Spec:
    cluster = dict(raw.get('cluster') or {})
    cluster.setdefault('name', 'cluster1')
    cluster['version'] = str(cluster.get('version', '9.14.1'))
    parse_version(cluster['version'])
    nodes = [_node(n) for n in raw.get('nodes') or [{'name': 'node1'}]]
    aggrs = [_aggregate(a, nodes[0]['name'])
             for a in raw.get('aggregates') or [{'name': 'aggr1'}]]
    default_size = parse_size(raw.get('volume_size', 100 * units.Gi))
    svms = [_svm(s, aggrs[0]['name'], default_size)
            for s in raw.get('svms') or []]
    if not svms:
        raise TopologyError('a topology needs at least one SVM')
    _check_unique([v['name'] for s in svms for v in s['volumes']], 'volume')
    _check_unique([lif['ip'] for s in svms for lif in s['lifs']], 'LIF IP')
    _check_unique([s['name'] for s in svms], 'SVM')
    peers = [_svm_peer(p, {s['name'] for s in svms})
             for p in raw.get('svm_peers') or []]
    _check_unique([' and '.join(sorted((p['svm'], p['peer'])))
                   for p in peers], 'SVM peer relationship')
    return {'cluster': cluster, 'nodes': nodes, 'aggregates': aggrs,
            'volume_size': default_size, 'svms': svms, 'svm_peers': peers}


def _check_unique(names: list[str], what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise TopologyError(f'duplicate {what}: {name}')
        seen.add(name)


def _node(raw: Spec) -> Spec:
    return {'name': raw['name'], 'model': raw.get('model', 'AFF-A250'),
            'all_flash': bool(raw.get('all_flash', True))}


def _aggregate(raw: Spec, node: str) -> Spec:
    return {'name': raw['name'], 'node': raw.get('node', node),
            'size': parse_size(raw.get('size', units.Ti)),
            'raid_type': raw.get('raid_type', 'raid_dp'),
            'storage_type': raw.get('storage_type', 'ssd'),
            'disk_type': raw.get('disk_type', 'SSD')}


def _svm(raw: Spec, aggr: str, default_size: int) -> Spec:
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


def _volume(raw: Spec | str, aggr: str, default_size: int) -> Spec:
    if isinstance(raw, str):
        raw = {'name': raw}
    name = raw['name']
    if not _FLEXVOL_NAME.match(name):
        raise TopologyError(f'invalid FlexVol name: {name!r}')
    junction = raw.get('junction', '/' + name)
    if not junction.startswith('/'):
        raise TopologyError(f'junction must be absolute: {junction!r}')
    return {'name': name, 'junction': junction.rstrip('/') or '/',
            'size': parse_size(raw.get('size', default_size)),
            'aggregate': raw.get('aggregate', aggr),
            'snapshot_reserve_percent': int(
                raw.get('snapshot_reserve_percent', 5))}


def _svm_peer(raw: object, svm_names: set[str]) -> Spec:
    """``{svm, peer, applications}`` of an intracluster peer relationship
    between two SVMs of the topology."""
    if not isinstance(raw, dict):
        raise TopologyError(f'an SVM peer must be a mapping: {raw!r}')
    svm, peer = raw.get('svm'), raw.get('peer')
    for name in (svm, peer):
        if name not in svm_names:
            raise TopologyError(f'SVM peer names an unknown SVM: {name!r}')
    if svm == peer:
        raise TopologyError(f'an SVM cannot peer with itself: {svm}')
    applications = raw.get('applications')
    if not isinstance(applications, list) or not applications:
        raise TopologyError(
            f'SVM peer {svm} -> {peer}: applications must be a non-empty '
            f'list of {", ".join(PEER_APPLICATIONS)}')
    unknown = [a for a in applications if a not in PEER_APPLICATIONS]
    if unknown:
        raise TopologyError(
            f'SVM peer {svm} -> {peer}: unknown application(s) {unknown!r} '
            f'(use {", ".join(PEER_APPLICATIONS)})')
    return {'svm': svm, 'peer': peer,
            'applications': list(dict.fromkeys(applications))}
