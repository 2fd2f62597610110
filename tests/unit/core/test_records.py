# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.records: names, and records parsed strictly (hostile
records included)."""

import json
import os

import pytest

from netapp_eic.core import records

GOOD = {'image_id': 'i1', 'content': 'sha512:abc', 'source_format': 'raw',
        'size': 4, 'created_at': 1.0, 'last_used': 2.5, 'built_by': 'x',
        'verified': True, 'version': 1}


def test_names_match_the_in_tree_driver():
    assert records.entry_name('i1') == 'img-cache-i1'
    assert records.record_name('i1') == '.img-cache-i1.eic.json'
    assert records.temp_name('x').startswith('.eic-tmp-x-')
    assert records.image_id_of('img-cache-i1') == 'i1'
    assert records.image_id_of('.img-cache-i1.eic.json') == 'i1'
    assert records.image_id_of('.img-cache-i1.eic-lease-1-2') is None
    assert records.image_id_of('volume-1') is None


def test_names_groups_entries_and_records():
    assert records.names(['img-cache-a', '.img-cache-a.eic.json',
                          '.img-cache-b.eic.json', 'volume-x',
                          '.img-cache-a.eic-lease-9-z']) == {
        'a': {'entry', 'record'}, 'b': {'record'}}


@pytest.mark.parametrize('meta, expected', [
    ({'os_hash_algo': 'sha256', 'os_hash_value': 'h', 'checksum': 'm'},
     'sha256:h'),
    ({'os_hash_value': 'h'}, 'sha512:h'),
    ({'checksum': 'm'}, 'md5:m'),
    ({}, None),
])
def test_content_id(meta, expected):
    assert records.content_id(meta) == expected


def test_round_trip(tmp_path):
    record = records.Record(**dict(GOOD, version=records.VERSION))
    records.write(str(tmp_path), record)
    assert records.read(str(tmp_path / records.record_name('i1')),
                        'i1') == record
    assert [n for n in os.listdir(tmp_path) if n.startswith('.eic-tmp')] \
        == []


def test_missing_record_is_none(tmp_path):
    assert records.read(str(tmp_path / 'nothing'), 'i1') is None


HOSTILE = [
    (b'', 'not JSON'),
    (b'{"image_id": "i1"', 'not JSON'),
    (b'[1, 2]', 'not a JSON object'),
    (b'"text"', 'not a JSON object'),
    (b'[' * 5000 + b']' * 5000, 'larger than'),
    (b'[' * 2000 + b']' * 2000, 'not JSON'),
    (json.dumps(dict(GOOD, extra=1)).encode(), 'keys'),
    (json.dumps({k: v for k, v in GOOD.items() if k != 'size'}).encode(),
     'keys'),
    (json.dumps(dict(GOOD, size='4')).encode(), 'size has a wrong type'),
    (json.dumps(dict(GOOD, size=True)).encode(), 'size has a wrong type'),
    (json.dumps(dict(GOOD, verified=1)).encode(), 'verified has a wrong'),
    (json.dumps(dict(GOOD, image_id='other')).encode(), 'names image'),
    (json.dumps(dict(GOOD, version=3)).encode(), 'version'),
    (json.dumps(dict(GOOD, size=-1)).encode(), 'negative'),
    (b'\xff\xfe garbage', 'not JSON'),
]


@pytest.mark.parametrize('text, why', HOSTILE)
def test_hostile_records_are_invalid(tmp_path, text, why):
    path = tmp_path / 'record'
    path.write_bytes(text)
    with pytest.raises(records.InvalidRecord, match=why):
        records.read(str(path), 'i1')


def test_record_that_is_a_symlink_is_invalid(tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_text(json.dumps(GOOD))
    os.symlink(target, tmp_path / 'record')
    with pytest.raises(records.InvalidRecord, match='cannot be opened'):
        records.read(str(tmp_path / 'record'), 'i1')


def test_record_that_is_a_fifo_is_invalid_without_blocking(tmp_path):
    os.mkfifo(tmp_path / 'record')
    with pytest.raises(records.InvalidRecord, match='not a regular file'):
        records.read(str(tmp_path / 'record'), 'i1')


def test_version_2_says_how_the_bytes_were_verified_and_1_is_read():
    now = dict(GOOD, version=2, verified_by='array sha256 of the cloned file')
    record = records.parse(json.dumps(now).encode(), 'i1')
    assert record.verified_by == 'array sha256 of the cloned file'
    assert records.parse(record.dumps().encode(), 'i1') == record
    old = records.parse(json.dumps(GOOD).encode(), 'i1')
    assert (old.verified_by, old.version) == ('', records.VERSION)
    with pytest.raises(records.InvalidRecord, match='keys'):
        records.parse(json.dumps(dict(GOOD, verified_by='x')).encode(), 'i1')
