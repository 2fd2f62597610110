# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Record answers: links, SVM scope, ``fields``, filters, paging.

Every record carries ``_links.self`` (the URL of the object, from
:data:`HREFS`) and every collection its own ``_links.self``. A request
scoped to an SVM (``X-Dot-SVM-Name``) sees only that SVM's objects of the
resources in :data:`SVM_KEYS`; another SVM's object answers 404 as if it
did not exist.
"""

from typing import Any

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api.router import Request, Response, ok

Record = dict[str, Any]

#: Resource -> URL of one object (``{dotted}`` filled from the record).
#: Disks have no ``_links`` in ONTAP's schema, so none here.
HREFS = {
    'aggregate': '/api/storage/aggregates/{uuid}',
    'cluster': '/api/cluster',
    'counter_table': '/api/cluster/counter/tables/{name}',
    'ip_interface': '/api/network/ip/interfaces/{uuid}',
    'job': '/api/cluster/jobs/{uuid}',
    'nfs_service': '/api/protocols/nfs/services/{svm.uuid}',
    'node': '/api/cluster/nodes/{uuid}',
    'qos_policy': '/api/storage/qos/policies/{uuid}',
    'snaplock_file_fingerprint':
        '/api/storage/snaplock/file-fingerprints/{id}',
    'split_status': '/api/storage/file/clone/split-status/{volume.uuid}',
    'svm': '/api/svm/svms/{uuid}',
    'svm_peer': '/api/svm/peers/{uuid}',
    'volume': '/api/storage/volumes/{uuid}',
}
#: Resource -> the field naming the SVM that owns a record.
SVM_KEYS = {
    'ip_interface': 'svm.name', 'nfs_service': 'svm.name',
    'qos_policy': 'svm.name', 'snaplock_file_fingerprint': 'svm.name',
    'split_status': 'svm.name', 'svm': 'name',
    'svm_peer': 'svm.name', 'volume': 'svm.name',
}


def _fill(template: str, record: Record) -> str:
    def value(name: str) -> str:
        found = query.lookup(record, name)
        return '' if found is query.MISSING else str(found[0])
    out = template
    while '{' in out:
        start = out.index('{')
        end = out.index('}', start)
        out = out[:start] + value(out[start + 1:end]) + out[end + 1:]
    return out


def linked(record: Record, resource: str) -> Record:
    """The record with its ``_links.self``."""
    template = HREFS.get(resource)
    if template is None or '_links' in record:
        return record
    return dict(record, _links={'self': {'href': _fill(template, record)}})


def in_scope(record: Record, resource: str, svm: str | None) -> bool:
    """Whether an SVM-scoped request may see ``record``."""
    key = SVM_KEYS.get(resource)
    if svm is None or key is None:
        return True
    found = query.lookup(record, key)
    return found is not query.MISSING and svm in found


def collection(records: list[Record], req: Request, resource: str,
               defaults: tuple[str, ...] = query.IDENTITY) -> Response:
    """A collection GET: scope, links, filters, order, ``fields``, paging."""
    visible = [linked(r, resource) for r in records
               if in_scope(r, resource, req.svm)]
    return ok(query.collection(visible, req.params, req.path, defaults))


def require_scope(record: Record, resource: str, req: Request) -> None:
    """404, as for an object that does not exist, when ``record`` belongs
    to another SVM than the request's scope."""
    if not in_scope(record, resource, req.svm):
        raise errors.NotFound(f'Entry not found in SVM "{req.svm}".',
                              target='uuid')


def single(record: Record, req: Request, resource: str) -> Response:
    """A single-object GET: ``fields`` honoured, ``max_records`` ignored."""
    require_scope(record, resource, req)
    record = linked(record, resource)
    fields = req.params.get('fields')
    return ok(query.project(record, fields) if fields else record)


def find(records: list[Record], key: str, value: str,
         what: str) -> Record:
    """The record whose ``key`` holds ``value``; 404 otherwise."""
    for rec in records:
        values = query.lookup(rec, key)
        if values is not query.MISSING and value in values:
            return rec
    raise errors.NotFound(f'{what} "{value}" not found.', target=key)
