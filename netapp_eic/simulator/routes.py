# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""URL table and thin handlers.

Each handler takes a :class:`Request` and returns a :class:`Response`; the
state and its rules live in ``models.py``. Paths are matched after the
server has collapsed ``//`` and dropped the trailing ``/``; path parameters
are percent-decoded here. ``ROUTES`` is the list of implemented endpoints.
"""

import dataclasses
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote, unquote_plus

from netapp_eic.simulator import errors, models, query

DENOMINATORS = {'average_processor_busy_percent': 'cpu_elapsed_time',
                'cp_phase_times': 'total_cp_msecs',
                'domain_busy_percent': 'elapsed_time'}
MAX_RETURN_TIMEOUT = 120


@dataclasses.dataclass
class Request:
    """One parsed HTTP request, as handlers see it."""

    method: str
    path: str
    params: dict
    body: object = None
    raw_body: bytes = b''
    content_type: str = ''
    args: dict = dataclasses.field(default_factory=dict)
    effects: dict = dataclasses.field(default_factory=dict)
    sim: object = None

    @property
    def backend(self):
        return self.sim.backend

    def json(self):
        """The body as a dict (``{}`` when empty); 400 when not an object."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise errors.BadRequest('The request body must be a JSON object.')
        return self.body


@dataclasses.dataclass
class Response:
    status: int
    body: object
    content_type: str = 'application/json'


def ok(body=None, status=200):
    return Response(status, {} if body is None else body)


def single(record, req):
    """A single-object GET: ``fields`` honoured, ``max_records`` ignored."""
    fields = req.params.get('fields')
    return ok(query.project(record, fields) if fields else record)


def collection(records, req, defaults=query.IDENTITY):
    return ok(query.collection(records, req.params, req.path, defaults))


def find(records, key, value, what):
    for rec in records:
        values = query.lookup(rec, key)
        if values is not query.MISSING and value in values:
            return rec
    raise errors.NotFound(f'{what} "{value}" not found.', target=key)


# -- cluster, nodes, SVMs, network, storage --------------------------------

def get_cluster(req):
    return single(req.backend.cluster_record(), req)


def list_nodes(req):
    return collection(req.backend.node_records(), req)


def get_node(req):
    return single(find(req.backend.node_records(), 'uuid',
                       req.args['uuid'], 'Node'), req)


def list_svms(req):
    return collection(req.backend.svm_records(), req)


def get_svm(req):
    return single(find(req.backend.svm_records(), 'uuid', req.args['uuid'],
                       'SVM'), req)


def list_lifs(req):
    return collection(req.backend.lif_records(), req)


def get_lif(req):
    return single(find(req.backend.lif_records(), 'uuid', req.args['uuid'],
                       'IP interface'), req)


def list_aggregates(req):
    return collection(req.backend.aggregate_records(), req)


def get_aggregate(req):
    return single(find(req.backend.aggregate_records(), 'uuid',
                       req.args['uuid'], 'Aggregate'), req)


def list_disks(req):
    return collection(req.backend.disk_records(), req)


def get_disk(req):
    return single(find(req.backend.disk_records(), 'name',
                       req.args['name'], 'Disk'), req)


def list_volumes(req):
    return collection(req.backend.volume_records(), req)


def get_volume(req):
    backend = req.backend
    return single(backend.volume_record(backend.volume(req.args['uuid'])),
                  req)


def list_snapshots(req):
    req.backend.volume(req.args['uuid'])
    return collection([], req)


def delete_snapshots(req):
    req.backend.volume(req.args['uuid'])
    return ok({'num_records': 0})


def create_snapshot(req):
    raise errors.NotImplementedApi(
        'Snapshots are not supported by the simulator.', status=400)


def empty_collection(req):
    return collection([], req)


def list_nfs(req):
    return collection(req.backend.nfs_records(), req)


def get_nfs(req):
    return single(find(req.backend.nfs_records(), 'svm.uuid',
                       req.args['uuid'], 'NFS service'), req)


def patch_nfs(req):
    svm = req.backend.svm(req.args['uuid'])
    body = req.json()
    if 'vstorage_enabled' in body:
        svm.vstorage_enabled = query.as_bool(body['vstorage_enabled'])
    return ok()


# -- counters, private CLI, EMS --------------------------------------------

def get_counter_table(req):
    asked = req.params.get('counter_schemas.name') or '|'.join(DENOMINATORS)
    schemas = [{'name': n, 'type': 'percent',
                'denominator': {'name': DENOMINATORS.get(n, 'none')}}
               for n in asked.split('|') if n]
    return ok({'name': req.args['name'], 'counter_schemas': schemas})


def get_counter_rows(req):
    return collection([], req)


def cli_efficiency(req):
    filters = {k: v for k, v in query.filters_of(req.params).items()
               if k in ('volume', 'vserver')}
    rows = [r for r in req.backend.efficiency_records()
            if query.matches(r, filters)]
    return ok({'records': rows, 'num_records': len(rows)})


def cli_disk_usage(req):
    backend = req.backend
    path = req.params.get('path', '')
    match = re.match(r'^/vol/([^/]+)/(.+)$', path)
    if not match:
        raise errors.CliFileNotFound(f'Invalid path "{path}".')
    try:
        vol = backend.volume_by_name(match.group(1),
                                     req.params.get('vserver'))
        rel, target = backend.resolve(vol, match.group(2))
        used = backend.file_record(vol, rel, target)['bytes_used']
    except errors.NotFound:
        raise errors.CliFileNotFound(
            f'File "{path}" does not exist.') from None
    unique = f'{used // 1024}KB'
    record = {'vserver': vol.svm.name, 'path': path, 'unique_bytes': unique}
    return ok({'records': [record], 'num_records': 1,
               'unique_bytes': unique})


def cli_file_clone(req):
    body = req.json()
    if body.get('snapshot-name'):
        raise errors.NotImplementedApi(
            'Snapshots are not supported by the simulator.', status=400)
    backend = req.backend
    vol = backend.volume_by_name(body.get('volume'), body.get('vserver'))
    backend.clone(vol, body.get('source-path'), body.get('destination-path'),
                  query.as_bool(body.get('overwrite-destination')),
                  no_space=req.effects.get('no_space', False))
    return ok()


def post_ems(req):
    req.backend.log_ems(req.json())
    return ok(status=201)


def split_status(req):
    # Cinder reads unsplit_size/pending_splits without asking for them.
    params = dict(req.params)
    params.setdefault('fields', '*')
    return ok(query.collection(req.backend.split_status_records(), params,
                               req.path))


# -- jobs, clone, copy -------------------------------------------------------

def job_response(req, job):
    """202 + job link, or the finished job when ``return_timeout`` allows."""
    timeout = query.as_int(req.params.get('return_timeout'), 0)
    timeout = min(MAX_RETURN_TIMEOUT, max(0, timeout))
    if timeout:
        job.done.wait(timeout)
    if not timeout or job.state not in models.TERMINAL:
        return ok({'job': job.link()}, status=202)
    body = job.record()
    body['job'] = job.link()
    return ok(body, status=201 if job.state == 'success' else 400)


def file_clone(req):
    body = models.flatten(req.json())
    backend = req.backend
    if body.get('volume.uuid'):
        vol = backend.volume(body['volume.uuid'])
    elif body.get('volume.name'):
        vol = backend.volume_by_name(body['volume.name'],
                                     body.get('svm.name'))
    else:
        raise errors.BadRequest('volume.uuid is required.',
                                target='volume.uuid')
    job = backend.clone(vol, body.get('source_path'),
                        body.get('destination_path'),
                        query.as_bool(body.get('overwrite_destination')),
                        no_space=req.effects.get('no_space', False))
    return job_response(req, job)


def file_copy(req):
    body = req.json()
    rate = body.get('max_throughput')
    job = req.backend.start_copy(body.get('files_to_copy'),
                                 max_throughput=query.as_int(rate),
                                 faults=req.effects)
    return job_response(req, job)


def list_jobs(req):
    return collection(req.backend.job_records(), req)


def get_job(req):
    return single(req.backend.job(req.args['uuid']).record(), req)


def patch_job(req):
    action = req.json().get('action') or req.params.get('action')
    if action != 'cancel':
        raise errors.BadRequest(f'Unsupported job action "{action}".',
                                target='action')
    req.backend.cancel_job(req.args['uuid'])
    return ok()


# -- files -------------------------------------------------------------------

def _file_target(req, allow_root=False):
    backend = req.backend
    vol = backend.volume(req.args['uuid'])
    path = unquote_plus(req.args.get('path', ''))
    rel, target = backend.resolve(vol, path, allow_root=allow_root)
    return vol, rel, target


def get_files(req):
    backend = req.backend
    vol, rel, target = _file_target(req, allow_root=True)
    metadata = query.as_bool(req.params.get('return_metadata'))
    record = backend.file_record(vol, rel, target)
    if metadata or record['type'] != 'directory':
        params = dict(req.params)
        params.setdefault('fields', '*')
        return ok(query.collection([record], params, req.path))
    return collection(backend.list_dir(vol, rel, target), req,
                      defaults=('path', 'type'))


def delete_file(req):
    vol, rel, target = _file_target(req)
    req.backend.delete_file(vol, rel, target,
                            query.as_bool(req.params.get('recurse')))
    return ok()


def patch_file(req):
    vol, rel, target = _file_target(req)
    body = models.flatten(req.json())
    backend = req.backend
    if 'qos_policy.name' in body:
        backend.set_file_qos(vol, rel, target, body['qos_policy.name'])
    if 'path' in body:
        backend.rename_file(vol, rel, target, unquote(str(body['path'])))
    return ok()


def post_file(req):
    if req.content_type.startswith('multipart/'):
        raise errors.NotImplementedApi(
            'Writing file data is not supported by the simulator.',
            status=400)
    vol, rel, target = _file_target(req)
    kind = req.json().get('type', 'file')
    req.backend.create_file(vol, rel, target, kind)
    return ok(status=201)


# -- QoS policies ----------------------------------------------------------

def list_qos(req):
    return collection(req.backend.qos_records(), req)


def get_qos(req):
    return single(find(req.backend.qos_records(), 'uuid', req.args['uuid'],
                       'QoS policy'), req)


def create_qos(req):
    req.backend.create_qos(req.json())
    return ok(status=201)


def _qos_matching(req):
    filters = query.filters_of(req.params)
    return [p for p in req.backend.qos_records() if query.matches(p, filters)]


def patch_qos(req):
    targets = ([{'uuid': req.args['uuid']}] if 'uuid' in req.args
               else _qos_matching(req))
    for policy in targets:
        req.backend.update_qos(policy['uuid'], req.json())
    return ok({'num_records': len(targets)})


def delete_qos(req):
    targets = ([{'uuid': req.args['uuid']}] if 'uuid' in req.args
               else _qos_matching(req))
    for policy in targets:
        req.backend.delete_qos(policy['uuid'])
    return ok({'num_records': len(targets)})


# -- ZAPI ------------------------------------------------------------------

def _zapi(results):
    text = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<netapp version="1.21" xmlns="http://www.netapp.com/filer/admin">'
            f'{results}</netapp>')
    return Response(200, text.encode(), 'text/xml')


def zapi(req):
    """The three ZAPI calls Cinder's REST client makes at construction."""
    try:
        root = ET.fromstring(req.raw_body or b'<netapp/>')
        call = next(iter(root)).tag.split('}')[-1]
    except (ET.ParseError, StopIteration):
        call = ''
    backend = req.backend
    if call == 'system-get-ontapi-version':
        return _zapi('<results status="passed"><major-version>1'
                     '</major-version><minor-version>251</minor-version>'
                     '</results>')
    if call == 'system-get-version':
        v = backend.cluster_record()['version']
        return _zapi(
            f'<results status="passed"><version>{v["full"]}</version>'
            f'<version-tuple><system-version-tuple><generation>'
            f'{v["generation"]}</generation><major>{v["major"]}</major>'
            f'<minor>{v["minor"]}</minor></system-version-tuple>'
            f'</version-tuple></results>')
    if call == 'system-node-get-iter':
        nodes = ''.join(
            '<node-details-info><node>{}</node><node-model>{}</node-model>'
            '<is-all-flash-optimized>{}</is-all-flash-optimized>'
            '<is-all-flash-select-optimized>false'
            '</is-all-flash-select-optimized></node-details-info>'.format(
                n['name'], n['model'],
                str(n['is_all_flash_optimized']).lower())
            for n in backend.node_records())
        count = len(backend.node_records())
        return _zapi(f'<results status="passed"><attributes-list>{nodes}'
                     f'</attributes-list><num-records>{count}</num-records>'
                     f'</results>')
    return _zapi('<results status="failed" errno="13005" reason="Unable to '
                 'find API: %s (not implemented by the simulator)"/>'
                 % (call or 'unknown'))


# -- URL table -------------------------------------------------------------

ROUTES = [
    ('/api/cluster', {'GET': get_cluster}),
    ('/api/cluster/nodes', {'GET': list_nodes}),
    ('/api/cluster/nodes/{uuid}', {'GET': get_node}),
    ('/api/cluster/jobs', {'GET': list_jobs}),
    ('/api/cluster/jobs/{uuid}', {'GET': get_job, 'PATCH': patch_job}),
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
    ('/api/storage/volumes/{uuid}/files', {'GET': get_files}),
    ('/api/storage/volumes/{uuid}/files/{path+}',
     {'GET': get_files, 'DELETE': delete_file, 'PATCH': patch_file,
      'POST': post_file}),
    ('/api/storage/file/clone', {'POST': file_clone}),
    ('/api/storage/file/clone/split-status', {'GET': split_status}),
    ('/api/storage/file/copy', {'POST': file_copy}),
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
    ('/api/private/cli/volume/efficiency', {'GET': cli_efficiency}),
    ('/api/private/cli/volume/file/show-disk-usage', {'GET': cli_disk_usage}),
    ('/api/private/cli/volume/file/clone', {'POST': cli_file_clone}),
    ('/servlets/netapp.servlets.admin.XMLrequest_filer', {'POST': zapi}),
]


def _compile(template):
    pattern = re.sub(r'\{(\w+)\+\}', r'(?P<\1>.+)', template)
    pattern = re.sub(r'\{(\w+)\}', r'(?P<\1>[^/]+)', pattern)
    return re.compile(f'^{pattern}$')


_TABLE = []


def register(routes):
    """Add ``(template, {method: handler})`` pairs to the URL table."""
    _TABLE.extend((_compile(t), m) for t, m in routes)


register(ROUTES)


def match(method, path):
    """``(handler, args)`` for a request; raises ONTAP-shaped errors."""
    for regex, methods in _TABLE:
        found = regex.match(path)
        if not found:
            continue
        if method not in methods:
            raise errors.MethodNotAllowed(
                f'Method {method} is not supported on {path} by the '
                'simulator.')
        args = {k: unquote(v) if k != 'path' else v
                for k, v in found.groupdict().items()}
        return methods[method], args
    raise errors.NotImplementedApi(
        f'API not implemented by the simulator: {method} {path}')


def dispatch(req):
    """Route ``req`` and run its handler."""
    handler, req.args = match(req.method, req.path)
    return handler(req)
