# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Strict requests: every argument, filter, field name and body key is
checked against the endpoint's declaration and the resource's schema.

ONTAP refuses what it does not know: an unknown query argument or body
key is ``Unexpected argument`` (262179), an invalid value (a misspelt
field in ``fields``, ``max_records=abc``, ``"yes"`` for a boolean,
``return_timeout=500``) is ``The value ... is invalid for field ...``
(262197).
"""

from collections.abc import Iterable
from typing import Any

from netapp_eic.simulator import errors, query
from netapp_eic.simulator.api import schemas


def _bool(name: str, value: str, resource: str | None) -> None:
    if value.lower() not in ('true', 'false'):
        raise errors.InvalidValue(name, value, '<boolean>')


def _count(name: str, value: str, resource: str | None) -> None:
    if not value.isdigit():
        raise errors.InvalidValue(name, value, '<integer>')


def _timeout(name: str, value: str, resource: str | None) -> None:
    if not value.isdigit() or int(value) > query.MAX_RETURN_TIMEOUT:
        raise errors.InvalidValue(
            name, value, f'<integer 0..{query.MAX_RETURN_TIMEOUT}>')


def _text(name: str, value: str, resource: str | None) -> None:
    """Any text (checked by the handler)."""


def _field_name(resource: str | None, item: str) -> bool:
    name = item.removesuffix('.**').removesuffix('.*')
    return resource is not None and (
        name in ('*', '**') or schemas.field_at(resource, name) is not None)


def _fields(name: str, value: str, resource: str | None) -> None:
    for item in value.split(','):
        if not _field_name(resource, item.strip()):
            raise errors.InvalidValue(name, item.strip(), '<field,...>')


def _order_by(name: str, value: str, resource: str | None) -> None:
    for item in value.split(','):
        words = item.split()
        ok = (len(words) in (1, 2) and words[0] not in ('*', '**') and
              _field_name(resource, words[0]) and
              (len(words) == 1 or words[1].lower() in ('asc', 'desc')))
        if not ok:
            raise errors.InvalidValue(name, item.strip(),
                                      '<field [asc|desc],...>')


_CHECKS = {'bool': _bool, 'count': _count, 'timeout': _timeout,
           'text': _text, 'fields': _fields, 'order_by': _order_by}


def check_query(params: dict[str, str], args: Iterable[str],
                resource: str | None, filters: bool) -> None:
    """Refuse unknown arguments and filters and invalid argument values."""
    allowed = set(args)
    for name, value in params.items():
        if name in allowed:
            _CHECKS[query.ARGUMENTS[name]](name, value, resource)
        elif not (filters and resource is not None and
                  schemas.field_at(resource, name) is not None):
            raise errors.UnexpectedArgument(name)


def check_body(body: dict[str, Any], resource: str, action: str | None,
               extra: Iterable[str] = ()) -> None:
    """Refuse body keys the resource does not take for ``action``
    (``'post'`` or ``'patch'``; None: no key at all) and values of the
    wrong type. ``extra`` names top-level keys the handler checks itself.
    """
    sch = schemas.schema(resource)
    allowed = _action_fields(sch, action)
    own = {k: v for k, v in body.items() if k not in set(extra)}
    _object(own, sch, allowed, action, '', resource)


def _action_fields(sch: Any, action: str | None) -> list[str]:
    """The fields of a schema a client may set with ``action``.

    A nested model that declares none takes all its fields; a nested
    reference to another resource (a volume in a copy request) also takes
    the ``uuid`` and ``name`` that identify it.
    """
    if action is None:
        return []
    names = list(getattr(sch, f'{action}able_fields', []))
    if not names:
        return list(schemas.declared(sch))
    return names + [k for k in ('uuid', 'name') if k in schemas.declared(sch)]


def _object(data: dict[str, Any], sch: Any, allowed: list[str],
            action: str | None, where: str,
            resource: str | None = None) -> None:
    known = schemas.declared(sch, resource)
    for key, value in data.items():
        head, _, rest = key.partition('.')
        if rest:  # a flat dotted key, as in {"qos_policy.name": "p"}
            value = {rest: value}
        name = where + head
        field = known.get(head)
        part = [a[len(head) + 1:] for a in allowed if a.startswith(head + '.')]
        if field is None or not (head in allowed or part):
            raise errors.UnexpectedArgument(where + key)
        nested = schemas.nested_schema(field)
        if head in allowed:
            schemas.check_value(field, value, name)
            _contents(field, value, nested, action, name)
        elif nested is None or not isinstance(value, dict):
            raise errors.InvalidValue(name, value, '<object>')
        else:
            _object(value, nested, part, action, name + '.')


def _contents(field: Any, value: Any, nested: Any, action: str | None,
              name: str) -> None:
    """Check the items of a list and the keys of nested objects."""
    items = value if isinstance(value, list) else [value]
    inner = getattr(field, 'inner', field)
    for i, item in enumerate(items):
        where = f'{name}[{i}]' if isinstance(value, list) else name
        if inner is not field:
            schemas.check_value(inner, item, where)
        if nested is not None and isinstance(item, dict):
            _object(item, nested, _action_fields(nested, action), action,
                    where + '.')
