# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""doc/simulator-coverage.rst names every route, method and field served."""

import os
import re

import pytest

from netapp_eic.simulator.api import ROUTER
from tests.unit.simulator.api import test_schemas
from tests.unit.simulator.helpers import REPO

DOC = os.path.join(REPO, 'doc', 'simulator-coverage.rst')
#: Routes whose fields the doc gives once, under another route.
SAME_FIELDS = {'/api/storage/volumes/{uuid}/files':
               '/api/storage/volumes/{uuid}/files/{path+}'}


def sections():
    """``{route template: (methods, fields)}`` from the document."""
    with open(DOC, encoding='utf-8') as f:
        text = f.read()
    found = {}
    parts = re.split(r'^``(/[^`]+)``\n-+\n', text, flags=re.M)
    for template, body in zip(parts[1::2], parts[2::2], strict=True):
        body = re.split(r'^\S.*\n[=~-]+\n', body, flags=re.M)[0]
        methods = set(re.findall(r'^- \[[x~ ]\] ``([A-Z]+)``', body, re.M))
        fields = set()
        for item in re.findall(r'^- Fields: (.*?)(?=^- |\Z)', body,
                               re.M | re.S):
            fields |= set(re.findall(r'``([^`]+)``', item))
        found[template] = (methods, fields)
    return found


def _documented_fields(doc, template):
    template = SAME_FIELDS.get(template, template)
    fields = doc[template][1]
    if not fields and template.endswith('}'):
        fields = doc[template.rsplit('/', 1)[0]][1]
    return fields


def test_every_route_and_method_is_documented():
    doc = sections()
    for template, methods in ROUTER.templates:
        if template.startswith('/_sim'):
            continue
        assert template in doc, template
        assert set(methods) <= doc[template][0], template


def _leaves(value, prefix=''):
    if isinstance(value, dict):
        return {leaf for k, v in value.items() if k != '_links'
                for leaf in _leaves(v, f'{prefix}{k}.')}
    if isinstance(value, list):
        return {leaf for v in value for leaf in _leaves(v, prefix)}
    return {prefix[:-1]}


@pytest.fixture
def served(sim, api):
    samples = test_schemas.populate(sim, api)
    out = {}
    for template, (_m, _n, many) in test_schemas.SCHEMAS.items():
        fields = set()
        for url in test_schemas.urls(template, samples):
            sep = '&' if '?' in url else '?'
            body = api.get(f'{sim.url}{url}{sep}fields=**').json()
            for record in body.get('records', []) if many else [body]:
                fields |= _leaves(record)
        out[template] = fields
    return out


def test_every_served_field_is_documented(served):
    doc = sections()
    for template, fields in served.items():
        missing = fields - _documented_fields(doc, template)
        assert not missing, (template, sorted(missing))
