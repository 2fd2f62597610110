# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.pools: shares resolved through ONTAP and the host."""

import pytest

from netapp_eic.core import pools as pools_mod
from netapp_eic import exception
from tests.unit.core.helpers import POOL_A


@pytest.fixture
def pools(client, host):
    return pools_mod.Pools(client, host)


def test_share_resolves_to_flexvol_and_mount(pools, sim):
    pool = pools.get(POOL_A)
    assert (pool.ip, pool.junction, pool.flexvol.name, pool.flexvol.svm) == (
        '127.0.0.1', '/vol_cinder_a', 'vol_cinder_a', 'vs0')
    assert pool.mount_dir == sim.shares[POOL_A]
    assert pool.local('x/y') == sim.shares[POOL_A] + '/x/y'


def test_host_name_is_resolved(client, host):
    pools = pools_mod.Pools(client, host, resolve_host=lambda name: {
        'ontap-data': '127.0.0.1'}.get(name))
    host.shares['ontap-data:/vol_cinder_a'] = host.shares[POOL_A]
    assert pools.get('ontap-data:/vol_cinder_a').flexvol.name == \
        'vol_cinder_a'


@pytest.mark.parametrize('share, reason', [
    ('127.0.0.9:/vol_cinder_a', '127.0.0.9 is not a data LIF'),
    ('127.0.0.1:/no_such_junction', 'no FlexVol of SVM vs0 is mounted at'),
    ('unresolvable.invalid:/vol_cinder_a', 'does not resolve'),
])
def test_unusable_share_is_rejected_with_reason(pools, share, reason):
    with pytest.raises(exception.LocationRejected) as err:
        pools.get(share)
    assert reason in str(err.value)


def test_mounted_skips_shares_that_do_not_resolve(pools, host):
    host.mounted.append('127.0.0.9:/gone')
    assert '127.0.0.9:/gone' not in [p.share for p in pools.mounted()]
    assert POOL_A in [p.share for p in pools.mounted()]


def test_flexvol_by_name(pools):
    assert pools.flexvol('vs1', 'vol_vs1').junction == '/vol_vs1'
    with pytest.raises(exception.EicError, match='vol_x of SVM vs0'):
        pools.flexvol('vs0', 'vol_x')
