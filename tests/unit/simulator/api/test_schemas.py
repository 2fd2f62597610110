# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Every GET route, with ``fields=*`` and ``fields=**``, checked against
NetApp's own schemas (netapp_ontap) with unknown fields rejected."""

import os
import time

import pytest

from netapp_eic.simulator.api import ROUTER
from netapp_eic.simulator.api.schemas import EXTRA_FIELDS
from tests.unit.simulator import schema_check
from tests.unit.simulator.helpers import (
    copy_body,
    vol_dir,
    vol_uuid,
    write_file,
)

#: Route template -> (netapp_ontap module, resource, collection?). Kept
#: apart from the simulator's own table on purpose.
SCHEMAS = {
    '/api/cluster': ('cluster', 'Cluster', False),
    '/api/cluster/nodes': ('node', 'Node', True),
    '/api/cluster/nodes/{uuid}': ('node', 'Node', False),
    '/api/cluster/jobs': ('job', 'Job', True),
    '/api/cluster/jobs/{uuid}': ('job', 'Job', False),
    '/api/cluster/counter/tables/{name}': ('counter_table', 'CounterTable',
                                           False),
    '/api/cluster/counter/tables/{name}/rows': ('counter_row', 'CounterRow',
                                                True),
    '/api/svm/svms': ('svm', 'Svm', True),
    '/api/svm/svms/{uuid}': ('svm', 'Svm', False),
    '/api/svm/peers': ('svm_peer', 'SvmPeer', True),
    '/api/svm/peers/{uuid}': ('svm_peer', 'SvmPeer', False),
    '/api/network/ip/interfaces': ('ip_interface', 'IpInterface', True),
    '/api/network/ip/interfaces/{uuid}': ('ip_interface', 'IpInterface',
                                          False),
    '/api/storage/aggregates': ('aggregate', 'Aggregate', True),
    '/api/storage/aggregates/{uuid}': ('aggregate', 'Aggregate', False),
    '/api/storage/disks': ('disk', 'Disk', True),
    '/api/storage/disks/{name}': ('disk', 'Disk', False),
    '/api/storage/volumes': ('volume', 'Volume', True),
    '/api/storage/volumes/{uuid}': ('volume', 'Volume', False),
    '/api/storage/volumes/{uuid}/snapshots': ('snapshot', 'Snapshot', True),
    '/api/storage/volumes/{uuid}/files': ('file_info', 'FileInfo', True),
    '/api/storage/volumes/{uuid}/files/{path+}': ('file_info', 'FileInfo',
                                                  True),
    '/api/storage/file/clone/split-status': ('split_status', 'SplitStatus',
                                             True),
    '/api/storage/qos/policies': ('qos_policy', 'QosPolicy', True),
    '/api/storage/snaplock/file-fingerprints': (
        'snaplock_file_fingerprint', 'SnaplockFileFingerprint', True),
    '/api/storage/snaplock/file-fingerprints/{id}': (
        'snaplock_file_fingerprint', 'SnaplockFileFingerprint', False),
    '/api/storage/qos/policies/{uuid}': ('qos_policy', 'QosPolicy', False),
    '/api/snapmirror/relationships': ('snapmirror_relationship',
                                      'SnapmirrorRelationship', True),
    '/api/protocols/nfs/services': ('nfs_service', 'NfsService', True),
    '/api/protocols/nfs/services/{uuid}': ('nfs_service', 'NfsService',
                                           False),
    '/api/application/consistency-groups': ('consistency_group',
                                            'ConsistencyGroup', True),
}
#: GET routes that answer no REST resource (CLI pass-through fields).
NOT_SCHEMA = ('/api/private/cli/',)


def get_routes():
    return [t for t, methods in ROUTER.templates
            if 'GET' in methods and t.startswith('/api/')
            and not t.startswith(NOT_SCHEMA)]


def test_every_get_route_has_a_schema():
    assert sorted(get_routes()) == sorted(SCHEMAS)


def populate(sim, api):
    """Objects for every route: files of each type, a job, a policy, an
    SVM peer relationship, a completed file fingerprint."""
    vol = 'vol_cinder_a'
    os.makedirs(os.path.join(vol_dir(sim, vol), 'dir'))
    write_file(sim, vol, 'dir/f', data=b'x' * 5000)
    os.symlink('dir/f', os.path.join(vol_dir(sim, vol), 'ln'))
    r = api.post(sim.url + '/api/storage/file/clone', json={
        'volume': {'uuid': vol_uuid(sim, vol)}, 'source_path': 'dir/f',
        'destination_path': 'g'})
    copy = api.post(sim.url + '/api/storage/file/copy?return_timeout=10',
                    json=copy_body(sim, 'dir/f', 'c', vol, 'vol_cinder_b'))
    assert copy.status_code in (200, 201), copy.text
    api.post(sim.url + '/api/storage/qos/policies', json={
        'name': 'p1', 'svm': {'name': 'vs0'},
        'fixed': {'max_throughput_iops': 100}})
    api.patch(f'{sim.url}/api/storage/volumes/{vol_uuid(sim, vol)}/files/g',
              json={'qos_policy.name': 'p1'})
    peer = api.post(sim.url + '/api/svm/peers', json={
        'svm.name': 'vs0', 'name': 'vs1', 'applications': ['file_copy']})
    assert peer.status_code == 202, peer.text
    fingerprint = _fingerprint(sim, api, vol, '/dir/f')
    cluster = sim.backend.cluster
    files = f'/api/storage/volumes/{vol_uuid(sim, vol)}/files'
    return {
        'uuid': {
            '/api/cluster/nodes/{uuid}': cluster.nodes[0]['uuid'],
            '/api/cluster/jobs/{uuid}': r.json()['job']['uuid'],
            '/api/svm/svms/{uuid}': cluster.svms[0].uuid,
            '/api/svm/peers/{uuid}': cluster.peers[0].uuids()[1],
            '/api/network/ip/interfaces/{uuid}': cluster.svms[0].lifs[0][
                'uuid'],
            '/api/storage/aggregates/{uuid}': cluster.aggregates[0]['uuid'],
            '/api/storage/volumes/{uuid}': vol_uuid(sim, vol),
            '/api/storage/volumes/{uuid}/snapshots': vol_uuid(sim, vol),
            '/api/storage/qos/policies/{uuid}':
                sim.backend.qos.records()[0]['uuid'],
            '/api/protocols/nfs/services/{uuid}': cluster.svms[0].uuid,
        },
        'fingerprint': fingerprint,
        'files': [files, files + '?return_metadata=true',
                  files + '/dir', files + '/dir?return_metadata=true',
                  files + '/dir%2Ff', files + '/dir%2Ff?return_metadata=true',
                  files + '/ln', files + '/ln?return_metadata=true'],
    }


def _fingerprint(sim, api, vol, path):
    """The URLs (listing, session) of a completed fingerprint."""
    volume = sim.backend.volume_by_name(vol)
    r = api.post(sim.url + '/api/storage/snaplock/file-fingerprints',
                 json={'svm': {'name': volume.svm.name},
                       'volume': {'uuid': volume.uuid}, 'path': path})
    assert r.status_code == 201, r.text
    session = r.headers['Location']
    deadline = time.monotonic() + 10
    while api.get(sim.url + session).json()['state'] != 'completed':
        assert time.monotonic() < deadline
        time.sleep(0.01)
    listing = ('/api/storage/snaplock/file-fingerprints?svm.uuid='
               f'{volume.svm.uuid}&volume.uuid={volume.uuid}')
    return [listing, session]


def urls(template, samples):
    if 'file-fingerprints' in template:
        return samples['fingerprint'][template.endswith('{id}'):][:1]
    if '{path+}' in template:
        return samples['files'][2:]
    if template.endswith('/files'):
        return samples['files'][:2]
    url = template.replace('{name}', 'system:constituent') if (
        'counter' in template) else template
    url = url.replace('{name}', '1.0.0')
    if '{uuid}' in url:
        url = url.replace('{uuid}', samples['uuid'][template])
    return [url]


def check_all(sim, api):
    """``(checks, records, fields, violations)`` over every GET route."""
    samples = populate(sim, api)
    checks = records = fields = 0
    found = []
    for template, (module, name, many) in sorted(SCHEMAS.items()):
        schema = schema_check.resource_schema(module, name)
        for url in urls(template, samples):
            for mode in ('*', '**'):
                sep = '&' if '?' in url else '?'
                r = api.get(f'{sim.url}{url}{sep}fields={mode}')
                checks += 1
                if r.status_code != 200:
                    found.append(f'{url} [{mode}]: HTTP {r.status_code}')
                    continue
                body = r.json()
                found += [f'{url} [{mode}] {v}' for v in
                          schema_check.body_violations(body, schema, module,
                                                       many)]
                found += [f'{url} [{mode}] {v}' for v in _links(
                    body, many, '_links' in schema.fields or any(
                        f.data_key == '_links'
                        for f in schema.fields.values()))]
                recs = body.get('records', []) if many else [body]
                records += len(recs)
                fields += schema_check.leaf_count(recs)
    return checks, records, fields, found


def _links(body, many, linked=True):
    """Every record (of a schema that has links) and every collection
    carries its links."""
    recs = body.get('records', []) if many and linked else (
        [body] if linked else [])
    missing = [f'$.records[{i}] has no _links' for i, rec in enumerate(recs)
               if not rec.get('_links')]
    if many and 'self' not in body.get('_links', {}):
        missing.append('collection has no _links.self')
    return missing


def test_every_record_matches_its_schema(sim, api):
    checks, records, fields, found = check_all(sim, api)
    assert found == []
    assert checks == 2 * (len(SCHEMAS) + 6)  # 8 file URLs on 2 routes
    assert records > 60 and fields > 800


def test_the_check_catches_invented_fields():
    schema = schema_check.resource_schema('job', 'Job')
    assert schema_check.violations({'progress': {'percent': 5}}, schema) == [
        '$.progress: unknown field']
    assert schema_check.violations({'state': 'cancelled'}, schema)
    assert schema_check.violations({'code': True}, schema)
    disk = schema_check.resource_schema('disk', 'Disk')
    assert schema_check.violations({'uuid': 'u'}, disk)


def test_extra_fields_are_the_documented_two():
    assert {r: sorted(f) for r, f in EXTRA_FIELDS.items()} == {
        'node': ['is_all_flash_optimized', 'is_all_flash_select_optimized']}


@pytest.mark.parametrize('mode', ['*', '**'])
def test_private_cli_answers_cli_rows(sim, api, mode):
    body = api.get(sim.url + '/api/private/cli/volume/efficiency?fields='
                   + mode).json()
    assert body['num_records'] == 4
