# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""NetApp's own description of each resource: the ``netapp_ontap``
marshmallow schemas, generated from ONTAP's REST documentation.

The simulator checks ``fields``, filters, ``order_by`` and request bodies
against them, so a field that ONTAP does not have is refused here as it
would be there. :data:`EXTRA_FIELDS` lists the few fields a client reads
that the schemas lack, each with its reason.
"""

import functools
import importlib
from typing import Any

from marshmallow import Schema, ValidationError
from marshmallow import fields as mf
from netapp_ontap.resource import Size

from netapp_eic.simulator import errors

#: Resource name -> (netapp_ontap module, schema class).
SCHEMAS = {
    'aggregate': ('resources.aggregate', 'AggregateSchema'),
    'cluster': ('resources.cluster', 'ClusterSchema'),
    'consistency_group': ('resources.consistency_group',
                          'ConsistencyGroupSchema'),
    'counter_row': ('resources.counter_row', 'CounterRowSchema'),
    'counter_table': ('resources.counter_table', 'CounterTableSchema'),
    'disk': ('resources.disk', 'DiskSchema'),
    'ems_application_log': ('resources.ems_application_log',
                            'EmsApplicationLogSchema'),
    'file_clone': ('resources.file_clone', 'FileCloneSchema'),
    'file_copy': ('resources.file_copy', 'FileCopySchema'),
    'file_info': ('resources.file_info', 'FileInfoSchema'),
    'ip_interface': ('resources.ip_interface', 'IpInterfaceSchema'),
    'job': ('resources.job', 'JobSchema'),
    'nfs_service': ('resources.nfs_service', 'NfsServiceSchema'),
    'node': ('resources.node', 'NodeSchema'),
    'qos_policy': ('resources.qos_policy', 'QosPolicySchema'),
    'snaplock_file_fingerprint': ('resources.snaplock_file_fingerprint',
                                  'SnaplockFileFingerprintSchema'),
    'snapmirror_relationship': ('resources.snapmirror_relationship',
                                'SnapmirrorRelationshipSchema'),
    'snapshot': ('resources.snapshot', 'SnapshotSchema'),
    'split_status': ('resources.split_status', 'SplitStatusSchema'),
    'svm': ('resources.svm', 'SvmSchema'),
    'svm_peer': ('resources.svm_peer', 'SvmPeerSchema'),
    'volume': ('resources.volume', 'VolumeSchema'),
}

#: Top-level fields ONTAP serves that the netapp_ontap schema lacks.
#: ``is_all_flash_optimized`` and ``is_all_flash_select_optimized``:
#: Cinder 29's REST client requests both on ``/cluster/nodes`` and fails
#: with a KeyError without them, so ONTAP must serve them.
EXTRA_FIELDS: dict[str, dict[str, mf.Field]] = {
    'node': {'is_all_flash_optimized': mf.Boolean(allow_none=True),
             'is_all_flash_select_optimized': mf.Boolean(allow_none=True)},
}


@functools.cache
def schema(resource: str) -> Schema:
    """The schema instance of a resource name of :data:`SCHEMAS`."""
    module, cls = SCHEMAS[resource]
    found: Schema = getattr(importlib.import_module('netapp_ontap.' + module),
                            cls)()
    return found


def declared(sch: Schema, resource: str | None = None) -> dict[str, mf.Field]:
    """``{wire name: field}`` of a schema (plus the resource's extras)."""
    found = {f.data_key or name: f for name, f in sch.fields.items()}
    if resource is not None:
        found.update(EXTRA_FIELDS.get(resource, {}))
    return found


def nested_schema(field: mf.Field) -> Schema | None:
    """The schema a field holds objects of (through a list), or None."""
    if isinstance(field, mf.List):
        field = field.inner
    if isinstance(field, mf.Nested):
        nested = field.schema
        return nested if isinstance(nested, Schema) else None
    return None


def field_at(resource: str, dotted: str) -> mf.Field | None:
    """The field at a dotted path of a resource, None when there is none."""
    sch: Schema | None = schema(resource)
    field = None
    extras: str | None = resource
    for part in dotted.split('.'):
        if sch is None:
            return None
        field = declared(sch, extras).get(part)
        if field is None:
            return None
        sch, extras = nested_schema(field), None
    return field


def kind_of(field: mf.Field) -> str:
    """How ONTAP names a field's type in an "invalid value" message."""
    if isinstance(field, mf.Boolean):
        return '<boolean>'
    if isinstance(field, (Size, mf.Integer, mf.Number)):
        return '<integer>'
    if isinstance(field, mf.List):
        return '<array>'
    if isinstance(field, mf.Nested):
        return '<object>'
    return '<string>'


def check_value(field: mf.Field, value: Any, name: str) -> None:
    """Raise InvalidValue unless ``value`` is a JSON value of the field's
    type (booleans must be JSON booleans, strings strings) within its
    declared choices."""
    if value is None:
        if field.allow_none:
            return
        raise errors.InvalidValue(name, 'null', kind_of(field))
    strict = ((mf.Boolean, bool), (mf.Str, str), (mf.DateTime, str),
              (mf.List, list), (mf.Nested, dict))
    for kind, python in strict:
        if isinstance(field, kind) and not isinstance(value, python):
            raise errors.InvalidValue(name, value, kind_of(field))
    if isinstance(value, bool) and not isinstance(field, (mf.Boolean,
                                                          mf.Raw)):
        raise errors.InvalidValue(name, value, kind_of(field))
    if isinstance(field, (mf.List, mf.Nested)):
        return
    try:
        field.deserialize(value)
    except ValidationError:
        raise errors.InvalidValue(name, value, kind_of(field)) from None
