# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST endpoints of the cluster's records: cluster, nodes, SVMs, SVM
peers, LIFs, aggregates, disks, FlexVols, NFS services, counters, QoS
policies, EMS.

Most are plain record tables (:func:`_table`): a collection GET and a
single-object GET over the records a model returns. Files, clone, copy
and jobs are in :mod:`.files`. SVM peer changes are asynchronous on
ONTAP (documented ``return_timeout``; ``DELETE`` answers 202 with a job):
the simulator answers them with a job that has already succeeded.
"""

from collections.abc import Callable
from typing import Any

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api import records
from netapp_eic.simulator.api.files import job_response
from netapp_eic.simulator.api.router import (
    BULK,
    DELETE,
    PATCH,
    POST,
    Op,
    Request,
    Response,
    Route,
    get_collection,
    get_instance,
    ok,
)
from netapp_eic.simulator.models.cluster import Svm, SvmPeer, peer_applications

Fetch = Callable[[Request], list[records.Record]]
DENOMINATORS = {'average_processor_busy_percent': 'cpu_elapsed_time',
                'cp_phase_times': 'total_cp_msecs',
                'domain_busy_percent': 'elapsed_time'}
#: Cinder reads these split-status fields without asking for them.
SPLIT_DEFAULTS = query.IDENTITY + ('volume', 'svm', 'unsplit_size',
                                   'pending_splits')


def _table(path: str, resource: str, fetch: Fetch, key: str = 'uuid',
           what: str = 'Entry', field: str | None = None) -> list[Route]:
    """``GET path`` (collection) and ``GET path/{key}`` (the record whose
    ``field``, by default ``key``, holds that value)."""
    def listing(req: Request) -> Response:
        return records.collection(fetch(req), req, resource)

    def one(req: Request) -> Response:
        record = records.find(fetch(req), field or key, req.args[key], what)
        return records.single(record, req, resource)

    return [(path, {'GET': get_collection(listing, resource)}),
            (f'{path}/{{{key}}}', {'GET': get_instance(one, resource)})]


def _empty(path: str, resource: str) -> Route:
    """A collection the simulator never fills (snapmirror, consistency
    groups)."""
    def listing(req: Request) -> Response:
        return records.collection([], req, resource)
    return (path, {'GET': get_collection(listing, resource)})


def get_cluster(req: Request) -> Response:
    return records.single(req.backend.cluster.cluster_record(), req,
                          'cluster')


# -- FlexVol snapshots (none exist in the simulator) -------------------------

def _scoped_volume(req: Request) -> None:
    vol = req.backend.cluster.volume(req.args['uuid'])
    records.require_scope({'svm': vol.svm.ref()}, 'volume', req)


def list_snapshots(req: Request) -> Response:
    _scoped_volume(req)
    return records.collection([], req, 'snapshot')


def delete_snapshots(req: Request) -> Response:
    _scoped_volume(req)
    return ok({'num_records': 0})


def create_snapshot(req: Request) -> Response:
    _scoped_volume(req)
    raise errors.NotImplementedApi(
        'Snapshots are not supported by the simulator.', status=400)


# -- NFS services, split status, counters, EMS ------------------------------

def patch_nfs(req: Request) -> Response:
    svm = req.backend.cluster.svm(req.args['uuid'])
    records.require_scope(svm.ref(), 'svm', req)
    body = req.json()
    if 'vstorage_enabled' in body:
        svm.vstorage_enabled = bool(body['vstorage_enabled'])
    return ok()


def split_status(req: Request) -> Response:
    return records.collection(req.backend.cluster.split_status_records(),
                              req, 'split_status', SPLIT_DEFAULTS)


def get_counter_table(req: Request) -> Response:
    asked = req.params.get('counter_schemas.name') or '|'.join(DENOMINATORS)
    schemas = [{'name': n, 'type': 'percent',
                'denominator': {'name': DENOMINATORS.get(n, 'none')}}
               for n in asked.split('|') if n]
    record = {'name': req.args['name'], 'counter_schemas': schemas}
    return records.single(record, req, 'counter_table')


def get_counter_rows(req: Request) -> Response:
    return records.collection([], req, 'counter_row')


def post_ems(req: Request) -> Response:
    req.backend.qos.log_ems(req.json())
    return ok(status=201)


# -- QoS policies ------------------------------------------------------------

def create_qos(req: Request) -> Response:
    body = req.json()
    cluster = req.backend.cluster
    flat = query.flatten(body)
    svm = cluster.svm(flat.get('svm.uuid') or flat.get('svm.name')
                      or req.svm or cluster.default_vserver())
    records.require_scope(svm.ref(), 'svm', req)
    req.backend.qos.create(body, svm.ref())
    return ok(status=201)


def _qos_targets(req: Request) -> list[str]:
    """The uuid in the path, or the uuids of the policies the query
    matches (within the request's SVM scope)."""
    policies = req.backend.qos.records()
    if 'uuid' in req.args:
        policy = records.find(policies, 'uuid', req.args['uuid'],
                              'QoS policy')
        records.require_scope(policy, 'qos_policy', req)
        return [policy['uuid']]
    filters = query.filters_of(req.params)
    return [p['uuid'] for p in policies
            if query.matches(p, filters) and
            records.in_scope(p, 'qos_policy', req.svm)]


def patch_qos(req: Request) -> Response:
    targets = _qos_targets(req)
    for policy_uuid in targets:
        req.backend.qos.update(policy_uuid, req.json())
    return ok({'num_records': len(targets)})


def delete_qos(req: Request) -> Response:
    targets = _qos_targets(req)
    for policy_uuid in targets:
        req.backend.qos.delete(policy_uuid)
    return ok({'num_records': len(targets)})


def _qos_fetch(req: Request) -> list[records.Record]:
    return req.backend.qos.records()


# -- SVM peers (intracluster) -----------------------------------------------

def _peer_fetch(req: Request) -> list[records.Record]:
    return req.backend.cluster.peer_records()


def _named_svm(req: Request, body: dict[str, Any], prefix: str,
               fallback: str | None = None) -> Svm:
    """The SVM a body names by ``<prefix>.uuid`` or ``<prefix>.name``."""
    key = body.get(f'{prefix}.uuid') or body.get(f'{prefix}.name') or fallback
    if not key:
        raise errors.BadRequest(f'{prefix}.name or {prefix}.uuid is '
                                'required.', target=f'{prefix}.name')
    return req.backend.cluster.svm(str(key), target=f'{prefix}.name')


def _peer_svm(req: Request, body: dict[str, Any]) -> Svm:
    """The peer SVM: ``peer.svm.*``, or ``name`` (its local name, which is
    its own name within a cluster: Cinder sends only ``name``)."""
    alias = body.get('name')
    peer = _named_svm(req, body, 'peer.svm', alias)
    if alias is not None and alias != peer.name:
        raise errors.NotImplementedApi(
            f'A local name ("{alias}") for peer SVM "{peer.name}" is not '
            'supported by the simulator.', status=400)
    return peer


def _check_peer_cluster(req: Request, body: dict[str, Any]) -> None:
    """``peer.cluster``, when given, must be this cluster: the simulator
    has no cluster peers."""
    local = req.backend.cluster.ref()
    for key in ('peer.cluster.name', 'peer.cluster.uuid'):
        value = body.get(key)
        if value is not None and value not in local.values():
            raise errors.NotFound(
                f'Cluster peer "{value}" not found: the simulator serves '
                f'intracluster SVM peers of cluster "{local["name"]}" only.',
                target=key)


def _peer_answer(req: Request, description: str,
                 record: records.Record | None = None) -> Response:
    """The finished job of a peer change, as ONTAP answers it; a created
    relationship adds its ``Location`` (and its record with
    ``return_records=true``)."""
    job = req.backend.jobs.new(description)
    job.succeed()
    response = job_response(req, job)
    if record is not None:
        linked = records.linked(record, 'svm_peer')
        response.headers['Location'] = linked['_links']['self']['href']
        if query.as_bool(req.params.get('return_records')):
            response.body.update(num_records=1, records=[linked])
    return response


def create_peer(req: Request) -> Response:
    body = query.flatten(req.json())
    svm = _named_svm(req, body, 'svm', req.svm)
    records.require_scope(svm.ref(), 'svm', req)
    peer = _peer_svm(req, body)
    _check_peer_cluster(req, body)
    if 'applications' not in body:
        raise errors.BadRequest('applications is required.',
                                target='applications')
    relationship = req.backend.cluster.create_peer(
        svm, peer, peer_applications(body['applications']))
    return _peer_answer(
        req, f'SVM peer create {svm.name} -> {peer.name}',
        relationship.records(req.backend.cluster.ref())[0])


def _peer_target(req: Request) -> tuple[SvmPeer, records.Record]:
    """The relationship of the uuid in the path and that side's record
    (404 outside the request's SVM scope)."""
    record = records.find(_peer_fetch(req), 'uuid', req.args['uuid'],
                          'SVM peer')
    records.require_scope(record, 'svm_peer', req)
    return req.backend.cluster.svm_peer(record['uuid']), record


def patch_peer(req: Request) -> Response:
    relationship, record = _peer_target(req)
    body = req.json()
    if body.get('name', record['name']) != record['name']:
        raise errors.NotImplementedApi(
            'Renaming the peer SVM (a local name) is not supported by the '
            'simulator.', status=400)
    if body.get('state', record['state']) != record['state']:
        raise errors.NotImplementedApi(
            'Changing the state of an intracluster SVM peer relationship is '
            'not supported by the simulator.', status=400)
    if 'applications' in body:
        req.backend.cluster.set_peer_applications(
            relationship, peer_applications(body['applications']))
    return _peer_answer(req, f'SVM peer modify {record["svm"]["name"]} -> '
                             f'{record["name"]}')


def delete_peer(req: Request) -> Response:
    relationship, record = _peer_target(req)
    force = req.json().get('force', False)
    if not isinstance(force, bool):  # accepted, no effect within a cluster
        raise errors.InvalidValue('force', force, '<boolean>')
    req.backend.cluster.delete_peer(relationship)
    return _peer_answer(req, f'SVM peer delete {record["svm"]["name"]} -> '
                             f'{record["name"]}')


ROUTES: list[Route] = [
    ('/api/cluster', {'GET': get_instance(get_cluster, 'cluster')}),
    *_table('/api/cluster/nodes', 'node',
            lambda req: req.backend.cluster.node_records(), what='Node'),
    ('/api/cluster/counter/tables/{name}',
     {'GET': get_instance(get_counter_table, 'counter_table')}),
    ('/api/cluster/counter/tables/{name}/rows',
     {'GET': get_collection(get_counter_rows, 'counter_row')}),
    *_table('/api/svm/svms', 'svm',
            lambda req: req.backend.cluster.svm_records(), what='SVM'),
    *_table('/api/svm/peers', 'svm_peer', _peer_fetch, what='SVM peer'),
    ('/api/svm/peers',
     {'POST': Op(create_peer, 'svm_peer', POST, body='post')}),
    ('/api/svm/peers/{uuid}',
     {'PATCH': Op(patch_peer, 'svm_peer', PATCH, body='patch'),
      'DELETE': Op(delete_peer, 'svm_peer', DELETE, extra_body=('force',))}),
    *_table('/api/network/ip/interfaces', 'ip_interface',
            lambda req: req.backend.cluster.lif_records(),
            what='IP interface'),
    *_table('/api/storage/aggregates', 'aggregate',
            lambda req: req.backend.cluster.aggregate_records(),
            what='Aggregate'),
    *_table('/api/storage/disks', 'disk',
            lambda req: req.backend.cluster.disk_records(), key='name',
            what='Disk'),
    *_table('/api/storage/volumes', 'volume',
            lambda req: req.backend.cluster.volume_records(),
            what='Volume'),
    ('/api/storage/volumes/{uuid}/snapshots',
     {'GET': get_collection(list_snapshots, 'snapshot'),
      'DELETE': Op(delete_snapshots, 'snapshot', BULK, filters=True),
      'POST': Op(create_snapshot, 'snapshot', POST, body='post')}),
    ('/api/storage/file/clone/split-status',
     {'GET': get_collection(split_status, 'split_status')}),
    *_table('/api/storage/qos/policies', 'qos_policy', _qos_fetch,
            what='QoS policy'),
    ('/api/storage/qos/policies',
     {'POST': Op(create_qos, 'qos_policy', POST, body='post'),
      'PATCH': Op(patch_qos, 'qos_policy', BULK, True, body='patch'),
      'DELETE': Op(delete_qos, 'qos_policy', BULK, filters=True)}),
    ('/api/storage/qos/policies/{uuid}',
     {'PATCH': Op(patch_qos, 'qos_policy', PATCH, body='patch'),
      'DELETE': Op(delete_qos, 'qos_policy', DELETE)}),
    _empty('/api/snapmirror/relationships', 'snapmirror_relationship'),
    *_table('/api/protocols/nfs/services', 'nfs_service',
            lambda req: req.backend.cluster.nfs_records(),
            what='NFS service', field='svm.uuid'),
    ('/api/protocols/nfs/services/{uuid}',
     {'PATCH': Op(patch_nfs, 'nfs_service', PATCH, body='patch')}),
    _empty('/api/application/consistency-groups', 'consistency_group'),
    ('/api/support/ems/application-logs',
     {'POST': Op(post_ems, 'ems_application_log', POST, body='post')}),
]
