# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""REST endpoints of file fingerprints (``netapp_ontap``'s
``SnaplockFileFingerprint``): start a session, list, read, abort.

A ``POST`` answers 201 Created with a ``Location`` header naming the new
session (``netapp_ontap`` reads the id from it) and, with
``return_records=true``, the session's record; the digest comes later,
through ``GET .../{id}``. Errors about a session id answer ONTAP's codes:
an unknown id is 404, ``14090446``; an abort of an ended session is 400,
``14090440``. The simulator serves fingerprints on every FlexVol, which
assumes that ONTAP fingerprints regular files of non-SnapLock FlexVols
without a SnapLock licence (not confirmed by NetApp's documentation).
"""

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api import records, router
from netapp_eic.simulator.api.router import Op, Request, Response, ok
from netapp_eic.simulator.models.cluster import Svm, Volume
from netapp_eic.simulator.models.fingerprints import (
    DEFAULT_ALGORITHM,
    Session,
)

RESOURCE = 'snaplock_file_fingerprint'
PATH = '/api/storage/snaplock/file-fingerprints'
#: Fields of a listed session when ``fields`` is not given.
LISTING_DEFAULTS = ('id', 'path', 'state', 'svm', 'volume')
#: Query arguments ONTAP requires on a listing.
REQUIRED_FILTERS = ('svm.uuid', 'volume.uuid')


def _required(body: dict[str, object], prefix: str) -> str:
    key = body.get(f'{prefix}.uuid') or body.get(f'{prefix}.name')
    if not key:
        raise errors.BadRequest(f'{prefix}.uuid or {prefix}.name is '
                                'required.', target=f'{prefix}.uuid')
    return str(key)


def _flexvol(req: Request, body: dict[str, object]) -> Volume:
    """The FlexVol the body names, in the SVM it names (and in the
    request's SVM scope)."""
    cluster = req.backend.cluster
    svm: Svm = cluster.svm(_required(body, 'svm'), target='svm.uuid')
    records.require_scope({'svm': svm.ref()}, 'volume', req)
    key = _required(body, 'volume')
    if body.get('volume.uuid'):
        vol = cluster.volume(key)
        if vol.svm is not svm:
            raise errors.NotFound(f'Volume "{key}" is not in SVM '
                                  f'{svm.name}.', target='volume.uuid')
        return vol
    return cluster.volume_by_name(key, svm.name)


def post_fingerprint(req: Request) -> Response:
    body = query.flatten(req.json())
    vol = _flexvol(req, body)
    if 'path' not in body:
        raise errors.BadRequest('path is required.', target='path')
    # Enums are case-insensitive, as netapp_ontap's validation has them.
    algorithm = str(body.get('algorithm') or DEFAULT_ALGORITHM).lower()
    session = req.backend.fingerprints.start(vol, body['path'], algorithm,
                                             req.effects)
    record = records.linked(session.record(), RESOURCE)
    response = ok(status=201)
    response.headers['Location'] = record['_links']['self']['href']
    if query.as_bool(req.params.get('return_records')):
        response.body.update(num_records=1, records=[record])
    return response


def list_fingerprints(req: Request) -> Response:
    for name in REQUIRED_FILTERS:
        if not req.params.get(name):
            raise errors.BadRequest(f'{name} is required.', target=name)
    return records.collection(req.backend.fingerprints.records(), req,
                              RESOURCE, LISTING_DEFAULTS)


def _session(req: Request) -> Session:
    """The session of the URL; another SVM's is an invalid id too."""
    session = req.backend.fingerprints.get(req.args['id'])
    if not records.in_scope(session.record(), RESOURCE, req.svm):
        raise errors.InvalidSession(
            f'Invalid session ID "{req.args["id"]}".', target='id')
    return session


def get_fingerprint(req: Request) -> Response:
    return records.single(_session(req).record(), req, RESOURCE)


def delete_fingerprint(req: Request) -> Response:
    req.backend.fingerprints.abort(_session(req).id)
    return ok()


ROUTES: list[router.Route] = [
    (PATH, {'GET': router.get_collection(list_fingerprints, RESOURCE),
            'POST': Op(post_fingerprint, RESOURCE, router.POST,
                       body='post')}),
    (PATH + '/{id}', {'GET': router.get_instance(get_fingerprint, RESOURCE),
                      'DELETE': Op(delete_fingerprint, RESOURCE,
                                   router.DELETE)}),
]
