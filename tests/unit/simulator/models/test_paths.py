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


def test_snapshot_paths_not_supported(cluster):
    with pytest.raises(errors.NotImplementedApi):
        _resolve(cluster, '.snapshot/s1/f')
