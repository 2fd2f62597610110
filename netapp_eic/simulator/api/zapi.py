# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The three ZAPI calls Cinder's REST client makes when it is built.

Any other ZAPI call answers ``errno 13005`` (EAPINOTFOUND), which Cinder
treats as "not available".
"""

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from netapp_eic.simulator.api.router import Request, Response, Route

SERVLET = '/servlets/netapp.servlets.admin.XMLrequest_filer'


def _answer(results: str) -> Response:
    text = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<netapp version="1.21" xmlns="http://www.netapp.com/filer/admin">'
            f'{results}</netapp>')
    return Response(200, text.encode(), 'text/xml')


def _call_name(raw: bytes) -> str:
    try:
        root = ET.fromstring(raw or b'<netapp/>')
        return next(iter(root)).tag.split('}')[-1]
    except (ET.ParseError, StopIteration):
        return ''


def _ontapi_version(req: Request) -> str:
    return ('<results status="passed"><major-version>1</major-version>'
            '<minor-version>251</minor-version></results>')


def _system_version(req: Request) -> str:
    v = req.backend.cluster.cluster_record()['version']
    return (f'<results status="passed"><version>{escape(v["full"])}'
            '</version><version-tuple><system-version-tuple><generation>'
            f'{v["generation"]}</generation><major>{v["major"]}</major>'
            f'<minor>{v["minor"]}</minor></system-version-tuple>'
            '</version-tuple></results>')


def _nodes(req: Request) -> str:
    records = req.backend.cluster.node_records()
    nodes = ''.join(
        '<node-details-info><node>{}</node><node-model>{}</node-model>'
        '<is-all-flash-optimized>{}</is-all-flash-optimized>'
        '<is-all-flash-select-optimized>false'
        '</is-all-flash-select-optimized></node-details-info>'.format(
            escape(n['name']), escape(n['model']),
            str(n['is_all_flash_optimized']).lower())
        for n in records)
    return (f'<results status="passed"><attributes-list>{nodes}'
            f'</attributes-list><num-records>{len(records)}</num-records>'
            '</results>')


CALLS = {'system-get-ontapi-version': _ontapi_version,
         'system-get-version': _system_version,
         'system-node-get-iter': _nodes}


def zapi(req: Request) -> Response:
    call = _call_name(req.raw_body)
    answer = CALLS.get(call)
    if answer is not None:
        return _answer(answer(req))
    return _answer('<results status="failed" errno="13005" reason="Unable '
                   'to find API: %s (not implemented by the simulator)"/>'
                   % escape(call or 'unknown'))


ROUTES: list[Route] = [(SERVLET, {'POST': zapi})]
