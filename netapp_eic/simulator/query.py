# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP query syntax: filters, ``fields``, ``return_records``, pagination.

Filters: exact match, ``*`` wildcard, ``|`` alternatives, ``,`` lists,
``!`` negation, ``<``/``>``/``<=``/``>=``, ``null``/``!null``; dotted keys
walk nested dicts and lists (``aggregates.name=aggr1``). Booleans compare
case-insensitively.
"""

import copy
import fnmatch
import operator
from typing import Any
from urllib.parse import parse_qsl, quote

MISSING = object()
#: Query parameters that are not record filters.
RESERVED = frozenset({
    'fields', 'max_records', 'return_records', 'return_timeout', 'order_by',
    'start.offset', 'return_metadata', 'recurse', 'byte_offset', 'length',
    'hydrate', 'allow_delete_while_mapped', 'privileged_access',
})
#: Always present on records, whatever ``fields`` says.
IDENTITY = ('uuid', 'name')


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
    """Parse a query boolean (``true``/``True``/``1``...)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ('true', '1', 'yes', 'on')


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
    """The record filters in a parsed query (reserved keys removed)."""
    return {k: v for k, v in params.items() if k not in RESERVED}


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
        field = field.removesuffix('.*')
        _copy_path(record, out, field.split('.'))
    return out


def collection(records: list[Record], params: Params, path: str,
               defaults: tuple[str, ...] = IDENTITY) -> Record:
    """Filter, project and paginate records into an ONTAP collection body.

    ``path`` is the request path (starting with ``/api/``) used to build
    ``_links.next``.
    """
    selected = [r for r in records if matches(r, filters_of(params))]
    total = len(selected)
    if not as_bool(params.get('return_records'), default=True):
        return {'num_records': total}
    offset = max(0, as_int(params.get('start.offset')) or 0)
    limit = as_int(params.get('max_records'))
    end = total if limit is None or limit <= 0 else min(total, offset + limit)
    page = [project(r, params.get('fields'), defaults)
            for r in selected[offset:end]]
    body: Record = {'records': page, 'num_records': len(page)}
    if end < total:
        body['_links'] = {'next': {'href': next_href(path, params, end)}}
    return body


def next_href(path: str, params: Params, offset: int) -> str:
    """The ``_links.next.href`` of a page starting at ``offset``."""
    query = dict(params)
    query['start.offset'] = str(offset)
    encoded = '&'.join(
        '{}={}'.format(quote(k, safe='.*'), quote(v, safe=',*:/|!'))
        for k, v in query.items())
    return f'{path}?{encoded}'
