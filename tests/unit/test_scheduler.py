# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.scheduler.ImageCacheWeigher with Cinder's own scheduler
objects: real PoolState objects fed capability reports, the
OrderedHostWeightHandler Cinder's scheduler uses (loading the weigher by its
entry point), CapacityWeigher beside it, and request specs as the
scheduler builds them."""

import datetime

from cinder import objects

objects.register_all()  # as cinder-scheduler does before loading its code

from cinder.scheduler import host_manager  # noqa: E402
from cinder.scheduler import weights  # noqa: E402
from cinder.scheduler.weights import capacity  # noqa: E402
from oslo_config import cfg  # noqa: E402
import pytest  # noqa: E402

from netapp_eic import scheduler  # noqa: E402

IMAGE = '6b0c5a37-0d5e-4c7b-9d0b-8d8d6e6c0a11'
NOW = datetime.datetime.now(datetime.timezone.utc)


def pool(name, free_gb, **eic):
    state = host_manager.PoolState('cv1@eic', None, {}, name)
    caps = {'pool_name': name, 'total_capacity_gb': 1000,
            'free_capacity_gb': free_gb, 'allocated_capacity_gb': 0,
            'provisioned_capacity_gb': 1000 - free_gb,
            'thin_provisioning_support': False,
            'thick_provisioning_support': True, 'reserved_percentage': 0,
            'timestamp': NOW}
    if eic is not None:
        caps.update(eic)
    state.update_from_volume_capability(caps)
    return state


def eic(cached=(), pressure=False, local=()):
    return {'netapp_eic_version': '0.1.0',
            'netapp_eic_cached_images': list(cached),
            'netapp_eic_cached_image_count': len(cached),
            'netapp_eic_cache_pressure': pressure,
            'netapp_eic_direct_clone_images': list(local)}


def props(image_id=IMAGE):
    spec = {'image_id': image_id, 'volume_properties': {'size': 1}}
    return {'request_spec': spec, 'size': 1, 'volume_type': {}}


def winner(pools, properties, multiplier=None):
    if multiplier is not None:
        cfg.CONF.set_override('netapp_eic_image_cache_weight_multiplier',
                              multiplier)
    handler = weights.OrderedHostWeightHandler('cinder.scheduler.weights')
    classes = [capacity.CapacityWeigher, scheduler.ImageCacheWeigher]
    try:
        return handler.get_weighed_objects(classes, pools,
                                           properties)[0].obj.pool_name
    finally:
        cfg.CONF.clear_override('netapp_eic_image_cache_weight_multiplier')


def test_weigher_is_found_by_its_entry_point():
    handler = weights.OrderedHostWeightHandler('cinder.scheduler.weights')
    assert scheduler.ImageCacheWeigher in handler.get_all_classes()


def test_pool_holding_the_image_wins_over_more_free_space():
    roomy = pool('roomy', free_gb=900, **eic())
    holder = pool('holder', free_gb=500, **eic(cached=[IMAGE]))
    assert winner([roomy, holder], props()) == 'holder'


def test_without_an_image_capacity_decides():
    roomy = pool('roomy', free_gb=900, **eic())
    holder = pool('holder', free_gb=500, **eic(cached=[IMAGE]))
    assert winner([roomy, holder], props(image_id=None)) == 'roomy'


def test_multiplier_zero_turns_it_off():
    roomy = pool('roomy', free_gb=900, **eic())
    holder = pool('holder', free_gb=500, **eic(cached=[IMAGE]))
    assert winner([roomy, holder], props(), multiplier=0.0) == 'roomy'


def test_pool_under_pressure_gets_nothing():
    roomy = pool('roomy', free_gb=900, **eic())
    full = pool('full', free_gb=500, **eic(cached=[IMAGE], pressure=True))
    assert winner([roomy, full], props()) == 'roomy'


def test_cache_entry_before_direct_clone_location():
    store = pool('store', free_gb=600, **eic(local=[IMAGE]))
    holder = pool('holder', free_gb=600, **eic(cached=[IMAGE]))
    plain = pool('plain', free_gb=900, **eic())
    assert winner([plain, store, holder], props()) == 'holder'
    assert winner([plain, store], props()) == 'store'


def test_a_store_pool_does_not_attract_other_images():
    """A pool whose FlexVol holds Glance files of other images gets
    nothing for this one: capacity decides (weights are normalized, so
    any bonus there would outweigh capacity)."""
    roomy = pool('roomy', free_gb=900, **eic())
    store = pool('store', free_gb=500, **eic(local=['other-image']))
    assert winner([roomy, store], props()) == 'roomy'


@pytest.mark.parametrize('capabilities', [
    {},  # another driver's pool
    eic(cached=['another-image']),
])
def test_pools_without_the_image_weigh_nothing(capabilities):
    weigher = scheduler.ImageCacheWeigher()
    assert weigher._weigh_object(pool('p', 500, **capabilities),
                                 props()) == 0.0


def test_request_spec_object_is_read_too():
    class Spec:
        image_id = IMAGE
    weigher = scheduler.ImageCacheWeigher()
    assert weigher._weigh_object(pool('p', 500, **eic(cached=[IMAGE])),
                                 {'request_spec': Spec()}) == 1.0
