# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.locations: table-driven, including hostile inputs."""

import pytest

from netapp_eic.core import locations
from netapp_eic.core.locations import NfsLocation

IMG = '5c3b1e2a-6d0f-4a51-9c1e-0d2f3e4a5b6c'
MOUNT = '/var/lib/glance/images'
META = {'id': 'netapp-glance', 'type': 'nfs', 'mountpoint': MOUNT,
        'share_location': 'nfs://192.0.2.10/vol_glance'}
NAMES = {'glance.example': '192.0.2.10', 'v6.example': 'FD00:0::1'}


def resolver(host):
    return NAMES.get(host)


def parse(image_location, image_id=IMG):
    return locations.parse_image_locations(image_location, image_id,
                                           resolve_host=resolver)


def one(url, metadata=None, image_id=IMG):
    return parse((None, [{'url': url, 'metadata': metadata or {}}]),
                 image_id)


def meta(**changes):
    data = dict(META)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


ACCEPTED = [
    # (url, metadata, host, export_path)
    (f'nfs://192.0.2.10/vol_glance/{IMG}', None, '192.0.2.10',
     f'/vol_glance/{IMG}'),
    (f'NFS://192.0.2.10:2049/vol_glance/images/{IMG}', None, '192.0.2.10',
     f'/vol_glance/images/{IMG}'),
    (f'nfs://[fd00::1]/vol/{IMG}', None, 'fd00::1', f'/vol/{IMG}'),
    (f'nfs://[FD00:0:0::1]:2049/vol/{IMG}', None, 'fd00::1', f'/vol/{IMG}'),
    (f'nfs://glance.example/vol_glance//./{IMG}', None, '192.0.2.10',
     f'/vol_glance/{IMG}'),
    (f'nfs://v6.example/vol/{IMG}', None, 'fd00::1', f'/vol/{IMG}'),
    (f'file://{MOUNT}/{IMG}', META, '192.0.2.10', f'/vol_glance/{IMG}'),
    (f'file://localhost{MOUNT}/{IMG}', META, '192.0.2.10',
     f'/vol_glance/{IMG}'),
    # datadir below the export's root, trailing slashes tolerated
    (f'file://{MOUNT}/{IMG}',
     meta(share_location='nfs://192.0.2.10/vol_glance/', mountpoint=MOUNT),
     '192.0.2.10', f'/vol_glance/{IMG}'),
    (f'file://{MOUNT}/sub/{IMG}',
     meta(share_location='nfs://192.0.2.10/vol_glance/glance',
          mountpoint=MOUNT + '/'),
     '192.0.2.10', f'/vol_glance/glance/sub/{IMG}'),
    (f'file://{MOUNT}/{IMG}', meta(type='NFS', store='netapp'), '192.0.2.10',
     f'/vol_glance/{IMG}'),
    (f'file://{MOUNT}/{IMG}', meta(share_location='nfs://glance.example/v'),
     '192.0.2.10', f'/v/{IMG}'),
    (f'file://{MOUNT}/{IMG}', meta(share_location='nfs://[fd00::1]/'),
     'fd00::1', f'/{IMG}'),
    # metadata given as a list: the entry whose mountpoint matches wins
    (f'file://{MOUNT}/{IMG}',
     [meta(mountpoint='/elsewhere',
           share_location='nfs://192.0.2.99/other'), META],
     '192.0.2.10', f'/vol_glance/{IMG}'),
]


@pytest.mark.parametrize('url,metadata,host,export', ACCEPTED)
def test_accepted(url, metadata, host, export):
    found, rejected = one(url, metadata)
    assert rejected == []
    assert found == [NfsLocation(url=url, host=host, export_path=export)]


REJECTED = [
    # (url, metadata, reason fragment)
    (f'http://192.0.2.10/{IMG}', None, 'unsupported scheme'),
    (f'https://glance/{IMG}', None, 'unsupported scheme'),
    (f'rbd://fsid/pool/{IMG}/snap', None, 'unsupported scheme'),
    (f'cinder://{IMG}', None, 'unsupported scheme'),
    (f'swift+https://acct/{IMG}', None, 'unsupported scheme'),
    (f'filesystem://{MOUNT}/{IMG}', META, 'unsupported scheme'),
    (f'/vol/{IMG}', None, 'unsupported scheme'),
    (f'nfs://192.0.2.10/vol/../vol_cinder/{IMG}', None, '".."'),
    (f'nfs://192.0.2.10/../{IMG}', None, '".."'),
    (f'nfs://192.0.2.10/vol/%2e%2e/{IMG}', None, 'percent'),
    (f'nfs://192.0.2.10/vol/{IMG}?x=1', None, 'query'),
    (f'nfs://192.0.2.10/vol/{IMG}?', None, 'query'),
    (f'nfs://192.0.2.10/vol/{IMG}#frag', None, 'fragment'),
    (f'nfs://192.0.2.10/vol/{IMG}\x00.raw', None, 'NUL'),
    (f'nfs://192.0.2.10/vol/\n{IMG}', None, 'control'),
    ('nfs://192.0.2.10', None, 'empty path'),
    ('nfs://192.0.2.10/', None, 'empty path'),
    (f'nfs:///vol/{IMG}', None, 'no host'),
    (f'nfs://user:pw@192.0.2.10/vol/{IMG}', None, 'user info'),
    (f'nfs://192.0.2.10:99999/vol/{IMG}', None, 'invalid host or port'),
    (f'nfs://192.0.2.10:x/vol/{IMG}', None, 'invalid host or port'),
    (f'nfs://fd00::1/vol/{IMG}', None, 'invalid host or port'),
    (f'nfs://unknown.example/vol/{IMG}', None, 'does not resolve'),
    (f'nfs://192.0.2.10/vol_cinder/volume-{IMG}', None, 'image id'),
    ('nfs://192.0.2.10/' + 'a' * 5000, None, 'too long'),
    ('', None, 'empty URL'),
    # file:// locations
    (f'file://{MOUNT}/{IMG}', None, 'without filesystem store metadata'),
    (f'file://{MOUNT}/{IMG}', 'nfs', 'without filesystem store metadata'),
    (f'file://{MOUNT}/{IMG}', meta(type='file'), 'type is not nfs'),
    (f'file://{MOUNT}/{IMG}', meta(type=None), 'type is not nfs'),
    (f'file://{MOUNT}/{IMG}', meta(share_location=None), 'no share_location'),
    (f'file://{MOUNT}/{IMG}', meta(mountpoint=None), 'no mountpoint'),
    (f'file://{MOUNT}/{IMG}', meta(mountpoint=7), 'no mountpoint'),
    (f'file://{MOUNT}/{IMG}', meta(mountpoint='relative/dir'),
     'not absolute'),
    (f'file://{MOUNT}/{IMG}', meta(mountpoint='/var/lib/../lib'), '".."'),
    (f'file://{MOUNT}/{IMG}',
     meta(share_location='http://192.0.2.10/vol'), 'not an nfs:// URL'),
    (f'file://{MOUNT}/{IMG}',
     meta(share_location='nfs://192.0.2.10/vol/../x'), '".."'),
    (f'file://{MOUNT}/{IMG}',
     meta(share_location='nfs://nowhere.example/vol'), 'does not resolve'),
    (f'file://{MOUNT}/{IMG}',
     meta(share_location='nfs://192.0.2.10/vol?x'), 'query'),
    (f'file:///etc/{IMG}', META, 'outside the metadata mountpoint'),
    (f'file://{MOUNT}', META, 'outside the metadata mountpoint'),
    (f'file://{MOUNT}-evil/{IMG}', META, 'outside the metadata mountpoint'),
    (f'file://{MOUNT}/../../../etc/{IMG}', META, '".."'),
    (f'file://{MOUNT}/sub/../{IMG}', META, '".."'),
    (f'file://otherhost{MOUNT}/{IMG}', META, 'names a host'),
    (f'file://{MOUNT}/other-image', META, 'image id'),
]


@pytest.mark.parametrize('url,metadata,reason', REJECTED)
def test_rejected(url, metadata, reason):
    found, rejected = one(url, metadata)
    assert found == []
    assert len(rejected) == 1
    assert reason in rejected[0].reason


def test_trailing_slash_is_not_the_image():
    found, rejected = one(f'nfs://192.0.2.10/vol/{IMG}/')
    # '/vol/<id>/' normalizes to '/vol/<id>': same file name.
    assert [f.export_path for f in found] == [f'/vol/{IMG}']
    assert rejected == []


def test_image_id_check_can_be_disabled():
    found, _rej = one('nfs://192.0.2.10/vol/ubuntu.img', image_id=None)
    assert found[0].export_path == '/vol/ubuntu.img'


def test_credentials_not_echoed():
    _found, rejected = one(f'nfs://admin:s3cret@192.0.2.10/vol/{IMG}')
    assert 's3cret' not in rejected[0].url
    assert 'admin' not in rejected[0].url


@pytest.mark.parametrize('image_location', [
    None, (), (None, None), (None, []), ('', []), [None, None]])
def test_empty(image_location):
    assert parse(image_location) == ([], [])


@pytest.mark.parametrize('image_location', [
    'nfs://x/y', (None, 'not-a-list'), (None, [None]), (None, ['nfs://a/b']),
    (None, [{'metadata': {}}]), (None, [{'url': 42}]), (1, 2, 3)])
def test_malformed_never_raises(image_location):
    found, rejected = parse(image_location)
    assert found == []
    assert rejected


def test_direct_url_used_and_deduplicated():
    nfs_url = f'nfs://192.0.2.10/vol_glance/{IMG}'
    found, rejected = parse((nfs_url, [
        {'url': f'file://{MOUNT}/{IMG}', 'metadata': META},
        {'url': nfs_url, 'metadata': {}},
        {'url': f'rbd://a/b/{IMG}/snap', 'metadata': {}},
    ]))
    assert found == [NfsLocation(f'file://{MOUNT}/{IMG}', '192.0.2.10',
                                 f'/vol_glance/{IMG}')]
    assert [r.reason for r in rejected] == ["unsupported scheme 'rbd'"]


def test_direct_url_alone():
    url = f'nfs://192.0.2.10/vol_glance/{IMG}'
    found, _rej = parse((url, None))
    assert [f.url for f in found] == [url]


def test_order_preserved():
    urls = [f'nfs://192.0.2.{i}/vol/{IMG}' for i in (3, 1, 2)]
    found, _rej = parse((None, [{'url': u} for u in urls]))
    assert [f.host for f in found] == ['192.0.2.3', '192.0.2.1', '192.0.2.2']


def test_resolver_only_for_names():
    calls = []

    def spy(host):
        calls.append(host)
        return '192.0.2.10'

    locations.parse_image_locations(
        (None, [{'url': f'nfs://192.0.2.10/v/{IMG}'},
                {'url': f'nfs://[fd00::2]/v/{IMG}'},
                {'url': f'nfs://name.example/v/{IMG}'}]),
        IMG, resolve_host=spy)
    assert calls == ['name.example']


@pytest.mark.parametrize('answer', [None, '', 'not-an-ip', OSError('x')])
def test_bad_resolver_answers(answer):
    def bad(host):
        if isinstance(answer, Exception):
            raise answer
        return answer

    found, rejected = locations.parse_image_locations(
        (None, [{'url': f'nfs://name.example/v/{IMG}'}]), IMG,
        resolve_host=bad)
    assert found == [] and len(rejected) == 1


def test_default_resolver():
    assert locations.default_resolver('localhost') in ('127.0.0.1', '::1')
    assert locations.default_resolver('no-such-host.invalid') is None
