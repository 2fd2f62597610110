# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST endpoints of files, file clone, file copy and jobs."""

from urllib.parse import unquote, unquote_plus

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api.router import (
    Request,
    Response,
    Route,
    collection,
    ok,
    single,
)
from netapp_eic.simulator.models.cluster import Volume
from netapp_eic.simulator.models.jobs import TERMINAL, Job

MAX_RETURN_TIMEOUT = 120


# -- jobs, clone, copy -------------------------------------------------------

def job_response(req: Request, job: Job) -> Response:
    """202 + job link, or the finished job when ``return_timeout`` allows."""
    timeout = query.as_int(req.params.get('return_timeout')) or 0
    timeout = min(MAX_RETURN_TIMEOUT, max(0, timeout))
    if timeout:
        job.done.wait(timeout)
    if not timeout or job.state not in TERMINAL:
        return ok({'job': job.link()}, status=202)
    body = job.record()
    body['job'] = job.link()
    return ok(body, status=201 if job.state == 'success' else 400)


def file_clone(req: Request) -> Response:
    body = query.flatten(req.json())
    cluster = req.backend.cluster
    if body.get('volume.uuid'):
        vol = cluster.volume(body['volume.uuid'])
    elif body.get('volume.name'):
        vol = cluster.volume_by_name(body['volume.name'],
                                     body.get('svm.name'))
    else:
        raise errors.BadRequest('volume.uuid is required.',
                                target='volume.uuid')
    job = req.backend.transfers.clone(
        vol, body.get('source_path'), body.get('destination_path'),
        query.as_bool(body.get('overwrite_destination')),
        no_space=req.effects.get('no_space', False))
    return job_response(req, job)


def file_copy(req: Request) -> Response:
    body = req.json()
    job = req.backend.transfers.start_copy(
        body.get('files_to_copy'),
        max_throughput=query.as_int(body.get('max_throughput')),
        faults=req.effects)
    return job_response(req, job)


def list_jobs(req: Request) -> Response:
    return collection(req.backend.jobs.records(), req)


def get_job(req: Request) -> Response:
    return single(req.backend.jobs.get(req.args['uuid']).record(), req)


def patch_job(req: Request) -> Response:
    action = req.json().get('action') or req.params.get('action')
    if action != 'cancel':
        raise errors.BadRequest(f'Unsupported job action "{action}".',
                                target='action')
    req.backend.jobs.cancel(req.args['uuid'])
    return ok()


# -- files -------------------------------------------------------------------

def _file_target(req: Request,
                 allow_root: bool = False) -> tuple[Volume, str, str]:
    vol = req.backend.cluster.volume(req.args['uuid'])
    path = unquote_plus(req.args.get('path', ''))
    rel, target = req.backend.files.resolve(vol, path, allow_root=allow_root)
    return vol, rel, target


def get_files(req: Request) -> Response:
    files = req.backend.files
    vol, rel, target = _file_target(req, allow_root=True)
    metadata = query.as_bool(req.params.get('return_metadata'))
    record = files.record(vol, rel, target)
    if metadata or record['type'] != 'directory':
        params = dict(req.params)
        params.setdefault('fields', '*')
        return ok(query.collection([record], params, req.path))
    return collection(files.list_dir(vol, rel, target), req,
                      defaults=('path', 'type'))


def delete_file(req: Request) -> Response:
    vol, rel, target = _file_target(req)
    req.backend.files.delete(vol, rel, target,
                             query.as_bool(req.params.get('recurse')))
    return ok()


def patch_file(req: Request) -> Response:
    vol, rel, target = _file_target(req)
    body = query.flatten(req.json())
    files = req.backend.files
    if 'qos_policy.name' in body:
        files.set_qos(vol, rel, target, body['qos_policy.name'])
    if 'path' in body:
        files.rename(vol, rel, target, unquote(str(body['path'])))
    return ok()


def post_file(req: Request) -> Response:
    if req.content_type.startswith('multipart/'):
        raise errors.NotImplementedApi(
            'Writing file data is not supported by the simulator.',
            status=400)
    vol, rel, target = _file_target(req)
    kind = req.json().get('type', 'file')
    req.backend.files.create(vol, rel, target, kind)
    return ok(status=201)


ROUTES: list[Route] = [
    ('/api/cluster/jobs', {'GET': list_jobs}),
    ('/api/cluster/jobs/{uuid}', {'GET': get_job, 'PATCH': patch_job}),
    ('/api/storage/volumes/{uuid}/files', {'GET': get_files}),
    ('/api/storage/volumes/{uuid}/files/{path+}',
     {'GET': get_files, 'DELETE': delete_file, 'PATCH': patch_file,
      'POST': post_file}),
    ('/api/storage/file/clone', {'POST': file_clone}),
    ('/api/storage/file/copy', {'POST': file_copy}),
]
