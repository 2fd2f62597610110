# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The parser of the driver's per-create line (runs with the unit tests;
the end-to-end run checks it against the real driver's log)."""

from tests.e2e import driverlog

PREFIX = ('2026-11-30 17:11:34.542 4390 INFO netapp_eic.driver [req-1 req-2 '
          'e2e e2e0000000000000000000000000000e - - - -] ')
IMAGE = '1d603fd9-66bf-44dc-ad1a-a7c4b75c883f'
VOLUME = 'ccd835f5-6472-47cc-897d-9f1a507bbe4d'
HEAD = PREFIX + 'EIC image %s -> volume %s on pool ' % (IMAGE, VOLUME)


def test_line_with_note_and_skipped_paths():
    line = (HEAD + '127.0.0.1:/vol_cinder_b: path file-copy (cache filled '
            'by a concurrent request) in 0.714 s; cache-clone: no cache entry '
            'in FlexVol vol_cinder_b; direct-clone: image file is not in '
            'FlexVol vol_cinder_b\n')
    create = driverlog.parse_create_line(line)
    assert create == driverlog.Create(
        IMAGE, VOLUME, '127.0.0.1:/vol_cinder_b', 'file-copy',
        'cache filled by a concurrent request', 0.714,
        'cache-clone: no cache entry in FlexVol vol_cinder_b; direct-clone: '
        'image file is not in FlexVol vol_cinder_b')
    assert create.cloned


def test_download_line_without_note():
    line = (HEAD + '127.0.0.1:/vol_cinder_a: path download in 0.003 s; '
            'file-copy failed: ONTAP API call POST /storage/file/copy failed '
            '(HTTP 500)')
    create = driverlog.parse_create_line(line)
    assert (create.path, create.note, create.seconds) == ('download', '',
                                                          0.003)
    assert not create.cloned
    assert create.details.startswith('file-copy failed:')


def test_a_field_added_later_does_not_break_the_parse():
    line = (HEAD + '127.0.0.1:/vol_cinder_a: path cache-clone in 0.052 s, '
            '0 bytes through the host; no path skipped')
    create = driverlog.parse_create_line(line)
    assert (create.volume, create.path, create.seconds) == (
        VOLUME, 'cache-clone', 0.052)


def test_other_lines_are_not_creates():
    assert driverlog.parse_create_line(
        PREFIX + 'Image %s registered in the cache of pool '
        '127.0.0.1:/vol_cinder_a.' % IMAGE) is None


def test_every_detail_is_in_the_note():
    line = (HEAD + '127.0.0.1:/vol_cinder_b: path cache-clone (from cache '
            'entry img-cache-x in FlexVol vol_cinder_b) (waited for a '
            'concurrent request\'s copy) in 0.370 s; cache-clone: no cache '
            'entry in FlexVol vol_cinder_b')
    create = driverlog.parse_create_line(line)
    assert create.note == ('from cache entry img-cache-x in FlexVol '
                           'vol_cinder_b; waited for a concurrent request\'s '
                           'copy')
    assert create.seconds == 0.370
