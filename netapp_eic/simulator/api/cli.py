# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The private CLI pass-through (``/api/private/cli/...``) Cinder uses.

ONTAP answers these with the CLI's own field names (dashes become
underscores), not with a REST resource schema.
"""

import re

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api.router import Request, Response, Route, ok

_VOL_PATH = re.compile(r'^/vol/([^/]+)/(.+)$')


def efficiency(req: Request) -> Response:
    """``volume efficiency show``: logical data size and limit."""
    filters = {k: v for k, v in query.filters_of(req.params).items()
               if k in ('volume', 'vserver')}
    rows = [r for r in req.backend.cluster.efficiency_records()
            if query.matches(r, filters)]
    return ok({'records': rows, 'num_records': len(rows)})


def disk_usage(req: Request) -> Response:
    """``volume file show-disk-usage``.

    The unique bytes are given in the record and at the top level: Cinder
    29 reads the top-level copy.
    """
    backend = req.backend
    path = req.params.get('path', '')
    match = _VOL_PATH.match(path)
    if not match:
        raise errors.CliFileNotFound(f'Invalid path "{path}".')
    try:
        vol = backend.cluster.volume_by_name(match.group(1),
                                             req.params.get('vserver'))
        rel, target = backend.files.resolve(vol, match.group(2))
        used = backend.files.record(vol, rel, target)['bytes_used']
    except errors.NotFound:
        raise errors.CliFileNotFound(
            f'File "{path}" does not exist.') from None
    unique = f'{used // 1024}KB'
    record = {'vserver': vol.svm.name, 'path': path, 'unique_bytes': unique}
    return ok({'records': [record], 'num_records': 1,
               'unique_bytes': unique})


def file_clone(req: Request) -> Response:
    """``volume file clone create`` (Cinder's clone from a snapshot)."""
    body = req.json()
    if body.get('snapshot-name'):
        raise errors.NotImplementedApi(
            'Snapshots are not supported by the simulator.', status=400)
    backend = req.backend
    vol = backend.cluster.volume_by_name(body.get('volume'),
                                         body.get('vserver'))
    backend.transfers.clone(
        vol, body.get('source-path'), body.get('destination-path'),
        query.as_bool(body.get('overwrite-destination')), faults=req.effects)
    return ok()


ROUTES: list[Route] = [
    ('/api/private/cli/volume/efficiency', {'GET': efficiency}),
    ('/api/private/cli/volume/file/show-disk-usage', {'GET': disk_usage}),
    ('/api/private/cli/volume/file/clone', {'POST': file_clone}),
]
