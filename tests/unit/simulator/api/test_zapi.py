# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ZAPI calls Cinder's REST client makes at construction."""

import pytest


@pytest.mark.parametrize('call,needle', [
    ('<system-get-ontapi-version/>', '<minor-version>251'),
    ('<system-get-version/>', '<major>14</major>'),
    ('<system-node-get-iter/>', '<node>node1</node>'),
    ('<volume-get-iter/>', 'errno="13005"'),
    ('', 'Unable to find API: unknown'),
])
def test_zapi(sim, api, call, needle):
    body = ('<?xml version="1.0"?><netapp version="1.15" xmlns="http://'
            f'www.netapp.com/filer/admin">{call}</netapp>')
    r = api.post(sim.url + '/servlets/netapp.servlets.admin.'
                 'XMLrequest_filer', data=body,
                 headers={'Content-Type': 'text/xml'})
    assert r.headers['Content-Type'] == 'text/xml'
    assert needle in r.text
