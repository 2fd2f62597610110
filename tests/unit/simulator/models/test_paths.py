# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Path resolution inside a FlexVol."""

import os

import pytest

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import paths


@pytest.fixture
def cluster(sim):
    return sim.backend.cluster


def _resolve(cluster, path, vol='vol_cinder_a', **kwargs):
    return paths.resolve(cluster.volumes, cluster.volume_by_name(vol), path,
                         **kwargs)


def test_relative_and_junction_paths(cluster):
    base = cluster.volume_by_name('vol_cinder_a').path
    assert _resolve(cluster, 'd/f') == ('d/f', os.path.join(base, 'd/f'))
    assert _resolve(cluster, '/vol_cinder_a/d/f') == (
        'd/f', os.path.join(base, 'd/f'))
    assert _resolve(cluster, '', allow_root=True) == ('', base)


@pytest.mark.parametrize('path', ['../../etc/passwd', '/etc/passwd'])
def test_escapes_are_refused(cluster, path):
    with pytest.raises(paths.PathOutside) as ctx:
        _resolve(cluster, path)
    assert ctx.value.other is None and ctx.value.status == 400


def test_escape_into_another_flexvol_names_it(cluster):
    for path in ('../vol_cinder_b/x', '/vol_cinder_b/x'):
        with pytest.raises(paths.PathOutside) as ctx:
            _resolve(cluster, path)
        assert ctx.value.other.name == 'vol_cinder_b'


def test_root_needs_allow_root_and_path_must_be_text(cluster):
    with pytest.raises(errors.BadRequest):
        _resolve(cluster, '')
    with pytest.raises(errors.BadRequest):
        _resolve(cluster, 5)


def test_snapshot_reads_are_missing_and_writes_read_only(cluster):
    """The simulator keeps no Snapshot copy: reads find nothing, writes
    are refused (a Snapshot copy is read-only on ONTAP)."""
    for path in ('.snapshot', '.snapshot/s1/f'):
        with pytest.raises(errors.FileNotFound):
            _resolve(cluster, path)
        with pytest.raises(errors.ReadOnlyPath):
            _resolve(cluster, path, write=True)


def test_linked_directories_are_not_followed(cluster):
    base = cluster.volume_by_name('vol_cinder_a').path
    os.symlink('/etc', os.path.join(base, 'ln_dir'))
    with open(os.path.join(base, 'file'), 'w'):
        pass
    with pytest.raises(errors.FileNotFound, match='symbolic link'):
        _resolve(cluster, 'ln_dir/hostname')
    with pytest.raises(errors.FileNotFound, match='not a directory'):
        _resolve(cluster, 'file/x')
    # The last component is the link itself, never its target.
    assert _resolve(cluster, 'ln_dir') == ('ln_dir',
                                           os.path.join(base, 'ln_dir'))
