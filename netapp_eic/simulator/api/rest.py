# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST endpoints of the cluster's records: cluster, nodes, SVMs, LIFs,
aggregates, disks, FlexVols, NFS services, counters, QoS policies, EMS.

Files, clone, copy and jobs are in :mod:`.files`.
"""

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api.router import (
    Request,
    Response,
    Route,
    collection,
    find,
    ok,
    single,
)

DENOMINATORS = {'average_processor_busy_percent': 'cpu_elapsed_time',
                'cp_phase_times': 'total_cp_msecs',
                'domain_busy_percent': 'elapsed_time'}


def get_cluster(req: Request) -> Response:
    return single(req.backend.cluster.cluster_record(), req)


def list_nodes(req: Request) -> Response:
    return collection(req.backend.cluster.node_records(), req)


def get_node(req: Request) -> Response:
    return single(find(req.backend.cluster.node_records(), 'uuid',
                       req.args['uuid'], 'Node'), req)


def list_svms(req: Request) -> Response:
    return collection(req.backend.cluster.svm_records(), req)


def get_svm(req: Request) -> Response:
    return single(find(req.backend.cluster.svm_records(), 'uuid',
                       req.args['uuid'], 'SVM'), req)


def list_lifs(req: Request) -> Response:
    return collection(req.backend.cluster.lif_records(), req)


def get_lif(req: Request) -> Response:
    return single(find(req.backend.cluster.lif_records(), 'uuid',
                       req.args['uuid'], 'IP interface'), req)


def list_aggregates(req: Request) -> Response:
    return collection(req.backend.cluster.aggregate_records(), req)


def get_aggregate(req: Request) -> Response:
    return single(find(req.backend.cluster.aggregate_records(), 'uuid',
                       req.args['uuid'], 'Aggregate'), req)


def list_disks(req: Request) -> Response:
    return collection(req.backend.cluster.disk_records(), req)


def get_disk(req: Request) -> Response:
    return single(find(req.backend.cluster.disk_records(), 'name',
                       req.args['name'], 'Disk'), req)


def list_volumes(req: Request) -> Response:
    return collection(req.backend.cluster.volume_records(), req)


def get_volume(req: Request) -> Response:
    cluster = req.backend.cluster
    return single(cluster.volume_record(cluster.volume(req.args['uuid'])),
                  req)


def list_snapshots(req: Request) -> Response:
    req.backend.cluster.volume(req.args['uuid'])
    return collection([], req)


def delete_snapshots(req: Request) -> Response:
    req.backend.cluster.volume(req.args['uuid'])
    return ok({'num_records': 0})


def create_snapshot(req: Request) -> Response:
    raise errors.NotImplementedApi(
        'Snapshots are not supported by the simulator.', status=400)


def empty_collection(req: Request) -> Response:
    return collection([], req)


def list_nfs(req: Request) -> Response:
    return collection(req.backend.cluster.nfs_records(), req)


def get_nfs(req: Request) -> Response:
    return single(find(req.backend.cluster.nfs_records(), 'svm.uuid',
                       req.args['uuid'], 'NFS service'), req)


def patch_nfs(req: Request) -> Response:
    svm = req.backend.cluster.svm(req.args['uuid'])
    body = req.json()
    if 'vstorage_enabled' in body:
        svm.vstorage_enabled = query.as_bool(body['vstorage_enabled'])
    return ok()


def split_status(req: Request) -> Response:
    # Cinder reads unsplit_size/pending_splits without asking for them.
    params = dict(req.params)
    params.setdefault('fields', '*')
    return ok(query.collection(req.backend.cluster.split_status_records(),
                               params, req.path))


# -- counters, EMS -----------------------------------------------------------

def get_counter_table(req: Request) -> Response:
    asked = req.params.get('counter_schemas.name') or '|'.join(DENOMINATORS)
    schemas = [{'name': n, 'type': 'percent',
                'denominator': {'name': DENOMINATORS.get(n, 'none')}}
               for n in asked.split('|') if n]
    return ok({'name': req.args['name'], 'counter_schemas': schemas})


def get_counter_rows(req: Request) -> Response:
    return collection([], req)


def post_ems(req: Request) -> Response:
    req.backend.qos.log_ems(req.json())
    return ok(status=201)


# -- QoS policies ------------------------------------------------------------

def list_qos(req: Request) -> Response:
    return collection(req.backend.qos.records(), req)


def get_qos(req: Request) -> Response:
    return single(find(req.backend.qos.records(), 'uuid', req.args['uuid'],
                       'QoS policy'), req)


def create_qos(req: Request) -> Response:
    body = req.json()
    cluster = req.backend.cluster
    flat = query.flatten(body)
    svm = cluster.svm(flat.get('svm.uuid') or flat.get('svm.name')
                      or cluster.default_vserver())
    req.backend.qos.create(body, svm.ref())
    return ok(status=201)


def _qos_targets(req: Request) -> list[str]:
    """The uuid in the path, or the uuids of the policies the query
    matches."""
    if 'uuid' in req.args:
        return [req.args['uuid']]
    filters = query.filters_of(req.params)
    return [p['uuid'] for p in req.backend.qos.records()
            if query.matches(p, filters)]


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


ROUTES: list[Route] = [
    ('/api/cluster', {'GET': get_cluster}),
    ('/api/cluster/nodes', {'GET': list_nodes}),
    ('/api/cluster/nodes/{uuid}', {'GET': get_node}),
    ('/api/cluster/counter/tables/{name}', {'GET': get_counter_table}),
    ('/api/cluster/counter/tables/{name}/rows', {'GET': get_counter_rows}),
    ('/api/svm/svms', {'GET': list_svms}),
    ('/api/svm/svms/{uuid}', {'GET': get_svm}),
    ('/api/svm/peers', {'GET': empty_collection}),
    ('/api/network/ip/interfaces', {'GET': list_lifs}),
    ('/api/network/ip/interfaces/{uuid}', {'GET': get_lif}),
    ('/api/storage/aggregates', {'GET': list_aggregates}),
    ('/api/storage/aggregates/{uuid}', {'GET': get_aggregate}),
    ('/api/storage/disks', {'GET': list_disks}),
    ('/api/storage/disks/{name}', {'GET': get_disk}),
    ('/api/storage/volumes', {'GET': list_volumes}),
    ('/api/storage/volumes/{uuid}', {'GET': get_volume}),
    ('/api/storage/volumes/{uuid}/snapshots',
     {'GET': list_snapshots, 'DELETE': delete_snapshots,
      'POST': create_snapshot}),
    ('/api/storage/file/clone/split-status', {'GET': split_status}),
    ('/api/storage/qos/policies',
     {'GET': list_qos, 'POST': create_qos, 'PATCH': patch_qos,
      'DELETE': delete_qos}),
    ('/api/storage/qos/policies/{uuid}',
     {'GET': get_qos, 'PATCH': patch_qos, 'DELETE': delete_qos}),
    ('/api/snapmirror/relationships', {'GET': empty_collection}),
    ('/api/protocols/nfs/services', {'GET': list_nfs}),
    ('/api/protocols/nfs/services/{uuid}', {'GET': get_nfs,
                                            'PATCH': patch_nfs}),
    ('/api/application/consistency-groups', {'GET': empty_collection}),
    ('/api/support/ems/application-logs', {'POST': post_ems}),
]
