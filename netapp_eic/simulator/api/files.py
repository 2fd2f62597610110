# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST endpoints of files, file clone, file copy and jobs.

Jobs answer as ONTAP's documentation says: 202 with the job link while
the job runs past ``return_timeout``, 200 with the job link when it
succeeded within it. A job that fails within ``return_timeout`` answers
400 with the job's error and the job link (ONTAP's shape is not
documented: the simulator's choice). ``return_timeout`` defaults to 1 s
for a file copy (ONTAP 9.9.1 and later) and 0 elsewhere.
"""

from urllib.parse import unquote

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api import records, router
from netapp_eic.simulator.api.router import Op, Request, Response, ok
from netapp_eic.simulator.models.cluster import Volume
from netapp_eic.simulator.models.jobs import Job

#: Fields of a listing record when ``fields`` is not given.
LISTING_DEFAULTS = ('path', 'name', 'type', '_links')
#: A metadata record gives everything but the volume by default.
METADATA_HIDDEN = ('volume',)


# -- jobs, clone, copy -------------------------------------------------------

def job_response(req: Request, job: Job, default_timeout: int = 0
                 ) -> Response:
    """The answer to a request that started ``job``."""
    timeout = int(req.params.get('return_timeout', default_timeout))
    if timeout:
        job.done.wait(timeout)
    if timeout and job.state == 'success':
        return ok({'job': job.link()})
    if timeout and job.state == 'failure' and job.error:
        return ok({'error': dict(job.error), 'job': job.link()}, 400)
    return ok({'job': job.link()}, status=202)


def _volume(req: Request, key: str) -> Volume:
    """A volume by uuid, 404 when it is not in the request's SVM scope."""
    vol = req.backend.cluster.volume(key)
    records.require_scope({'svm': vol.svm.ref()}, 'volume', req)
    return vol


def file_clone(req: Request) -> Response:
    body = query.flatten(req.json())
    cluster = req.backend.cluster
    if body.get('volume.uuid'):
        vol = _volume(req, body['volume.uuid'])
    elif body.get('volume.name'):
        vol = _volume(req, cluster.volume_by_name(body['volume.name'],
                                                  req.svm).uuid)
    else:
        raise errors.BadRequest('volume.uuid is required.',
                                target='volume.uuid')
    for name in ('source_path', 'destination_path'):
        if not body.get(name):
            raise errors.BadRequest(f'{name} is required.', target=name)
    _not_implemented(body, ('range', 'token_uuid'), 'file clone')
    job = req.backend.transfers.clone(
        vol, body['source_path'], body['destination_path'],
        bool(body.get('overwrite_destination')), faults=req.effects)
    return job_response(req, job)


def _not_implemented(body: dict[str, object], names: tuple[str, ...],
                     what: str) -> None:
    asked = sorted(n for n in names if n in body)
    if asked:
        raise errors.NotImplementedApi(
            f'{", ".join(asked)} of a {what} is not supported by the '
            'simulator.', status=400)


def file_copy(req: Request) -> Response:
    body = req.json()
    _not_implemented(body, ('cutover_time', 'hold_quiescence',
                            'reference_cutover_time', 'reference_path'),
                     'file copy')
    job = req.backend.transfers.start_copy(
        body.get('files_to_copy'),
        max_throughput=query.as_int(body.get('max_throughput')),
        faults=req.effects, svm_scope=req.svm)
    return job_response(req, job, default_timeout=1)


def list_jobs(req: Request) -> Response:
    return records.collection(req.backend.jobs.records(), req, 'job')


def get_job(req: Request) -> Response:
    return records.single(req.backend.jobs.get(req.args['uuid']).record(),
                          req, 'job')


def patch_job(req: Request) -> Response:
    """Cancel a job: ONTAP takes ``action`` as a query argument; Cinder
    sends it in the body, which the simulator accepts too."""
    action = req.params.get('action') or req.json().get('action')
    if action != 'cancel':
        raise errors.InvalidValue('action', action, '<cancel>')
    req.backend.jobs.cancel(req.args['uuid'])
    return ok()


# -- files -------------------------------------------------------------------

def _file_target(req: Request, allow_root: bool = False,
                 write: bool = False) -> tuple[Volume, str, str]:
    """The volume and path of a files URL. ``%2F`` and ``%2E`` decode;
    ``+`` stays a plus (the path is a URL path segment, not a form)."""
    vol = _volume(req, req.args['uuid'])
    path = unquote(req.args.get('path', ''))
    rel, target = req.backend.files.resolve(vol, path, allow_root, write)
    return vol, rel, target


def get_files(req: Request) -> Response:
    """Metadata of the path with ``return_metadata=true``; otherwise the
    listing of a directory (or the one entry of a file)."""
    files = req.backend.files
    if req.params.get('byte_offset') or req.params.get('length'):
        raise errors.NotImplementedApi(
            'Reading file data or byte ranges is not supported by the '
            'simulator.', status=400)
    vol, rel, target = _file_target(req, allow_root=True)
    if query.as_bool(req.params.get('return_metadata')):
        record = files.record(vol, rel, target)
        defaults = tuple(k for k in record if k not in METADATA_HIDDEN)
        return ok(query.collection([record], req.params, req.path, defaults))
    return ok(query.collection(files.listing(vol, rel, target), req.params,
                               req.path, LISTING_DEFAULTS))


def delete_file(req: Request) -> Response:
    vol, rel, target = _file_target(req, write=True)
    req.backend.files.delete(vol, rel, target,
                             query.as_bool(req.params.get('recurse')))
    return ok()


def patch_file(req: Request) -> Response:
    vol, rel, target = _file_target(req, write=True)
    body = query.flatten(req.json())
    files = req.backend.files
    unsupported = set(body) - {'qos_policy.name', 'path'}
    if unsupported:
        raise errors.NotImplementedApi(
            'Changing {} of a file is not supported by the simulator.'.format(
                ', '.join(sorted(unsupported))), status=400)
    if 'qos_policy.name' in body:
        files.set_qos(vol, rel, target, body['qos_policy.name'])
    if 'path' in body:
        # Cinder writes %2E and %2F in the new path too.
        files.rename(vol, rel, target, unquote(str(body['path'])))
    return ok()


def post_file(req: Request) -> Response:
    if req.content_type.startswith('multipart/'):
        raise errors.NotImplementedApi(
            'Writing file data is not supported by the simulator.',
            status=400)
    vol, rel, target = _file_target(req, write=True)
    body = req.json()
    unsupported = set(body) - {'type', 'target', 'unix_permissions'}
    if unsupported:
        raise errors.NotImplementedApi(
            'Setting {} of a new file is not supported by the '
            'simulator.'.format(', '.join(sorted(unsupported))), status=400)
    permissions = body.get('unix_permissions')
    req.backend.files.create(
        vol, rel, target, body.get('type', 'file'), body.get('target'),
        None if permissions is None else int(str(permissions), 8))
    return ok(status=201)


FILE_ARGS = ('return_metadata', 'byte_offset', 'length')
ROUTES: list[router.Route] = [
    ('/api/cluster/jobs', {'GET': router.get_collection(list_jobs, 'job')}),
    ('/api/cluster/jobs/{uuid}',
     {'GET': router.get_instance(get_job, 'job'),
      'PATCH': Op(patch_job, 'job', router.PATCH + ('action',),
                  body='patch', extra_body=('action',))}),
    ('/api/storage/volumes/{uuid}/files',
     {'GET': router.get_collection(get_files, 'file_info', FILE_ARGS)}),
    ('/api/storage/volumes/{uuid}/files/{path+}',
     {'GET': router.get_collection(get_files, 'file_info', FILE_ARGS),
      'DELETE': Op(delete_file, 'file_info',
                   router.DELETE + ('recurse', 'throttle_deletion')),
      'PATCH': Op(patch_file, 'file_info', router.PATCH, body='patch'),
      'POST': Op(post_file, 'file_info', router.POST, body='post')}),
    ('/api/storage/file/clone',
     {'POST': Op(file_clone, 'file_clone', router.POST, body='post')}),
    ('/api/storage/file/copy',
     {'POST': Op(file_copy, 'file_copy', router.POST, body='post')}),
]
