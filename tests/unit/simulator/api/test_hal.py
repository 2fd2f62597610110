# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which links a plain ``application/json`` answer keeps."""

from netapp_eic.simulator.api import hal


def test_strip_links():
    body = {'records': [{'name': 'a', '_links': {'self': {'href': '/x'}},
                         'svm': {'_links': {'self': {}}}}],
            '_links': {'self': {'href': '/c'}, 'next': {'href': '/n'}},
            'job': {'uuid': 'j', '_links': {'self': {'href': '/j'}}}}
    assert hal.strip_links(body) == {
        'records': [{'name': 'a', 'svm': {}}],
        '_links': {'next': {'href': '/n'}},
        'job': {'uuid': 'j', '_links': {'self': {'href': '/j'}}}}
    assert hal.strip_links({'_links': {'self': {}}}) == {}
