# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ``/_sim`` control API: what a test or an operator asks of the fake.

Outside ``/api`` so it can never be mistaken for ONTAP: the simulator's
connection details, the request log, reset, faults, and the copy offload
tool's server-side copy.
"""

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api.files import job_response
from netapp_eic.simulator.api.router import Request, Response, Route, ok


def info(req: Request) -> Response:
    return ok(req.sim.info())


def requests_(req: Request) -> Response:
    log = req.sim.request_log()
    return ok({'records': log, 'num_records': len(log)})


def clear_requests(req: Request) -> Response:
    req.sim.clear_request_log()
    return ok()


def reset(req: Request) -> Response:
    req.sim.reset()
    return ok()


def faults(req: Request) -> Response:
    listed = req.sim.faults.records()
    return ok({'records': listed, 'num_records': len(listed)})


def add_fault(req: Request) -> Response:
    return ok(req.sim.faults.add(req.json()), status=201)


def clear_faults(req: Request) -> Response:
    req.sim.clear_faults()
    return ok()


def delete_fault(req: Request) -> Response:
    fault_id = query.as_int(req.args['id'])
    if fault_id is None:
        raise errors.BadRequest(f'Invalid fault id "{req.args["id"]}".',
                                target='id')
    req.sim.faults.clear(fault_id)
    return ok()


def copyoffload(req: Request) -> Response:
    """Server-side copy between two NFS paths, as the copy offload tool."""
    body = req.json()
    cluster = req.backend.cluster
    sides = []
    for ip_key, path_key in (('src_ip', 'src_path'), ('dst_ip', 'dst_path')):
        ip = body.get(ip_key)
        svm = cluster.svm_for_ip(ip)
        if svm is None:
            raise errors.BadRequest(
                f'{ip} is not a data LIF of this cluster.', target=ip_key)
        if not svm.vstorage_enabled:
            raise errors.BadRequest(
                f'vStorage is disabled on SVM {svm.name} (LIF {ip}): copy '
                'offload is not available.', target=ip_key, code='13001')
        vol, rel = cluster.volume_for_junction(svm, str(body.get(path_key)))
        sides.append({'volume': vol.ref(), 'path': rel})
    # NetApp's documentation of the tool asks for vStorage on both SVMs,
    # not for an SVM peer: no peer check here.
    job = req.backend.transfers.start_copy(
        [{'source': sides[0], 'destination': sides[1]}], overwrite=True,
        faults=req.effects, peer_check=False,
        description='Copy offload {}:{} -> {}:{}'.format(
            body.get('src_ip'), body.get('src_path'), body.get('dst_ip'),
            body.get('dst_path')))
    return job_response(req, job)


ROUTES: list[Route] = [
    ('/_sim/info', {'GET': info}),
    ('/_sim/requests', {'GET': requests_, 'DELETE': clear_requests}),
    ('/_sim/reset', {'POST': reset}),
    ('/_sim/faults', {'GET': faults, 'POST': add_fault,
                      'DELETE': clear_faults}),
    ('/_sim/faults/{id}', {'DELETE': delete_fault}),
    ('/_sim/copyoffload', {'POST': copyoffload}),
]
