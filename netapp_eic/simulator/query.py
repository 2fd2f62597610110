# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP query syntax: filters, ``fields``, ``order_by``,
``return_records``, pagination.

Filters: exact match, ``*`` wildcard, ``|`` alternatives, ``,`` lists,
``!`` negation, ``<``/``>``/``<=``/``>=``, ``null``/``!null``; dotted keys
walk nested dicts and lists (``aggregates.name=aggr1``). Booleans compare
case-insensitively. Whether a name is a valid field of the resource is
checked before (:mod:`netapp_eic.simulator.api.validation`).
"""

import copy
import fnmatch
import functools
import operator
from typing import Any
from urllib.parse import parse_qsl, quote

MISSING = object()
#: Query parameters that are not record filters, and the kind of value
#: each takes. ``start.offset`` is the simulator's own paging cursor (ONTAP's
#: is opaque too: clients follow ``_links.next`` as given).
ARGUMENTS = {
    'fields': 'fields', 'order_by': 'order_by', 'max_records': 'count',
    'start.offset': 'count', 'return_records': 'bool',
    'return_timeout': 'timeout', 'return_metadata': 'bool',
    'recurse': 'bool', 'byte_offset': 'count', 'length': 'count',
    'continue_on_failure': 'bool', 'serial_records': 'bool',
    'throttle_deletion': 'count', 'action': 'text',
}
#: ONTAP's bound on ``return_timeout`` (seconds).
MAX_RETURN_TIMEOUT = 120
#: Always present on records, whatever ``fields`` says.
IDENTITY = ('uuid', 'name', '_links')


Params = dict[str, str]
Record = dict[str, Any]


def parse_query(raw: str) -> Params:
    """Parse a raw query string; a second ``?`` counts as ``&``.

    Cinder's client appends ``?max_records=...`` to a path that already
    holds ``?return_records=false``; ONTAP reads both parameters. A later
    repeat of a key wins.
    """
    return dict(parse_qsl(raw.replace('?', '&'), keep_blank_values=True))


def flatten(value: object, prefix: str = '') -> dict[str, Any]:
    """``{'a': {'b': 1}, 'c.d': 2}`` -> ``{'a.b': 1, 'c.d': 2}``."""
    flat: dict[str, Any] = {}
    if not isinstance(value, dict):
        return flat
    for key, item in value.items():
        name = prefix + key
        if isinstance(item, dict):
            flat.update(flatten(item, name + '.'))
        else:
            flat[name] = item
    return flat


def as_bool(value: object, default: bool = False) -> bool:
    """A validated boolean: JSON ``true`` or the text ``true`` (any case)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == 'true'


def as_int(value: Any, default: int | None = None) -> int | None:
    """Parse a query integer, ``default`` when absent or invalid."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def lookup(record: Record, dotted: str) -> Any:
    """Value at a dotted path; lists fan out into a list of values."""
    values: list[Any] = [record]
    for key in dotted.split('.'):
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and key in item:
                    found.append(item[key])
        if not found:
            return MISSING
        values = found
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


_OPERATORS = {'<': operator.lt, '>': operator.gt, '<=': operator.le,
              '>=': operator.ge}


def _compare(value: object, op: str, operand: str) -> bool:
    """Numbers compare as numbers, anything else as text."""
    try:
        return bool(_OPERATORS[op](float(str(value)), float(operand)))
    except ValueError:
        return bool(_OPERATORS[op](_scalar_text(value), operand))


def _match_one(value: object, pattern: str) -> bool:
    for op in ('<=', '>=', '<', '>'):
        if pattern.startswith(op):
            return _compare(value, op, pattern[len(op):])
    text = _scalar_text(value)
    if isinstance(value, bool):
        return text == pattern.lower()
    if '*' in pattern or '?' in pattern:
        return fnmatch.fnmatchcase(text, pattern)
    return text == pattern


def match_values(values: Any, pattern: str) -> bool:
    """True when the field's values satisfy the filter ``pattern``."""
    alternatives = pattern.replace(',', '|').split('|')
    positives = [p for p in alternatives if not p.startswith('!')]
    negatives = [p[1:] for p in alternatives if p.startswith('!')]
    if values is MISSING or values == [None]:
        if 'null' in negatives:
            return False
        return 'null' in positives or (not positives and bool(negatives))
    if 'null' in negatives and not positives and len(negatives) == 1:
        return True
    if any(_match_one(v, n) for v in values for n in negatives):
        return False
    if not positives:
        return True
    return any(_match_one(v, p) for v in values for p in positives)


def filters_of(params: Params) -> Params:
    """The record filters in a parsed query (arguments removed)."""
    return {k: v for k, v in params.items() if k not in ARGUMENTS}


def matches(record: Record, filters: Params) -> bool:
    """True when ``record`` satisfies every filter."""
    return all(match_values(lookup(record, k), v) for k, v in filters.items())


def _copy_path(src: Record, dst: Record, keys: list[str]) -> None:
    key = keys[0]
    if key not in src:
        return
    value = src[key]
    if len(keys) == 1 or not isinstance(value, (dict, list)):
        dst[key] = copy.deepcopy(value)
    elif isinstance(value, list):
        existing = dst.get(key)
        current: list[Any] = (existing if isinstance(existing, list)
                              else [{} for _ in value])
        # ``current`` was built from this same ``value`` (deep copy or one
        # placeholder per item), so the lengths always match.
        for item, out in zip(value, current, strict=True):
            if isinstance(item, dict):
                _copy_path(item, out, keys[1:])
        dst[key] = current
    else:
        sub = dst.setdefault(key, {})
        if isinstance(sub, dict):
            _copy_path(value, sub, keys[1:])


def project(record: Record, fields: str | None,
            defaults: tuple[str, ...] = IDENTITY) -> Record:
    """Select ``fields`` (comma list, dotted, ``*``, ``x.*``) of a record.

    ``fields=None`` keeps only ``defaults``; identity fields are always kept.
    """
    wanted = [f.strip() for f in (fields or '').split(',') if f.strip()]
    if '*' in wanted or '**' in wanted:
        return copy.deepcopy(record)
    out: Record = {}
    for field in list(IDENTITY) + list(defaults) + wanted:
        field = field.removesuffix('.**').removesuffix('.*')
        _copy_path(record, out, field.split('.'))
    return out


def _sort_on(field: str, record: Record) -> tuple[int, Any]:
    values = lookup(record, field)
    if values is MISSING or not values or values[0] is None:
        return (2, '')
    value = values[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, _scalar_text(value))


def order(records: list[Record], order_by: str | None) -> list[Record]:
    """Sort by ``order_by`` (``field [asc|desc]``, comma-separated; the
    first field counts most); missing values sort last."""
    ordered = list(records)
    terms = [t.split() for t in (order_by or '').split(',') if t.strip()]
    for term in reversed(terms):
        descending = len(term) > 1 and term[1].lower() == 'desc'
        ordered.sort(key=functools.partial(_sort_on, term[0]),
                     reverse=descending)
    return ordered


def collection(records: list[Record], params: Params, path: str,
               defaults: tuple[str, ...] = IDENTITY) -> Record:
    """Filter, order, project and page records into a collection body.

    ``path`` is the request path (starting with ``/api/``) used to build
    ``_links.self`` and ``_links.next``.
    """
    selected = order([r for r in records if matches(r, filters_of(params))],
                     params.get('order_by'))
    total = len(selected)
    links: Record = {'self': {'href': href(path, params)}}
    if not as_bool(params.get('return_records'), default=True):
        return {'num_records': total, '_links': links}
    offset = as_int(params.get('start.offset')) or 0
    limit = as_int(params.get('max_records'))
    end = total if not limit else min(total, offset + limit)
    page = [project(r, params.get('fields'), defaults)
            for r in selected[offset:end]]
    if end < total:
        links['next'] = {'href': href(path, dict(params, **{
            'start.offset': str(end)}))}
    return {'records': page, 'num_records': len(page), '_links': links}


def href(path: str, params: Params) -> str:
    """``path`` with its query re-encoded (``_links.self``, ``next``)."""
    if not params:
        return path
    encoded = '&'.join(
        '{}={}'.format(quote(k, safe='.*'), quote(v, safe=',*:/|!'))
        for k, v in params.items())
    return f'{path}?{encoded}'
