# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Check ONTAP JSON against the netapp_ontap marshmallow schemas.

Written for the tests, apart from the simulator's own validation: it walks
a record with the schema of its resource and reports every field the
schema does not declare (at every depth: unknown fields are rejected,
although the library's nested fields would silently drop them), every
value of the wrong JSON type and every value outside a declared enum.
The only fields accepted beyond the schemas are the simulator's
documented :data:`~netapp_eic.simulator.api.schemas.EXTRA_FIELDS`.
"""

import importlib

from marshmallow import ValidationError
from marshmallow import fields as mf
from netapp_ontap.models.collection_links import CollectionLinksSchema

from netapp_eic.simulator.api.schemas import EXTRA_FIELDS

_STRICT = ((mf.Boolean, bool), (mf.Str, str), (mf.DateTime, str))


def resource_schema(module, name):
    """``netapp_ontap.resources.<module>.<name>Schema()``."""
    mod = importlib.import_module(f'netapp_ontap.resources.{module}')
    return getattr(mod, f'{name}Schema')()


def violations(record, schema, where='$', extra=None):
    """Every violation in ``record`` against a schema instance."""
    if not isinstance(record, dict):
        return [f'{where}: expected an object, got {type(record).__name__}']
    known = {f.data_key or n: f for n, f in schema.fields.items()}
    known.update(extra or {})
    found = []
    for key, value in record.items():
        field = known.get(key)
        if field is None:
            found.append(f'{where}.{key}: unknown field')
        else:
            found += _value(field, value, f'{where}.{key}')
    return found


def _value(field, value, where):
    if value is None:
        return [] if field.allow_none else [f'{where}: null not allowed']
    if isinstance(field, mf.Nested):
        if field.many:
            return [v for i, item in enumerate(value)
                    for v in violations(item, field.schema, f'{where}[{i}]')]
        return violations(value, field.schema, where)
    if isinstance(field, mf.List):
        if not isinstance(value, list):
            return [f'{where}: expected a list']
        return [v for i, item in enumerate(value)
                for v in _value(field.inner, item, f'{where}[{i}]')]
    for kind, python in _STRICT:
        if isinstance(field, kind) and not isinstance(value, python):
            return [f'{where}: expected {python.__name__}, got '
                    f'{type(value).__name__}']
    if isinstance(value, bool) and not isinstance(field, mf.Boolean):
        return [f'{where}: unexpected boolean']
    try:
        field.deserialize(value)
    except ValidationError as e:
        return [f'{where}: {e.messages}']
    return []


def body_violations(body, schema, resource, collection):
    """Violations of a GET answer: a collection envelope and its records,
    or one record."""
    extra = EXTRA_FIELDS.get(resource)
    if not collection:
        return violations(body, schema, extra=extra)
    found = [f'$.{key}: unknown collection field' for key in body
             if key not in ('records', 'num_records', '_links')]
    found += violations(body.get('_links', {}), CollectionLinksSchema(),
                        '$._links')
    for i, record in enumerate(body.get('records', [])):
        found += violations(record, schema, f'$.records[{i}]', extra)
    return found


def leaf_count(value):
    """How many leaf values (fields) a JSON value holds."""
    if isinstance(value, dict):
        return sum(leaf_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaf_count(v) for v in value)
    return 1
