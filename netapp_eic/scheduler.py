# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cache-aware placement: a Cinder scheduler weigher.

``ImageCacheWeigher`` sends a create-from-image to a pool of a netapp-eic
backend that already holds the image, so a cold create (a File Copy)
becomes a constant-time clone. Enable it in cinder-scheduler's
``cinder.conf`` next to the default weigher::

    [DEFAULT]
    scheduler_default_weighers = CapacityWeigher,ImageCacheWeigher
    netapp_eic_image_cache_weight_multiplier = 2.0

It reads ``image_id`` from the request and each pool's capabilities as the
driver reports them (:meth:`netapp_eic.core.engine.Engine.pool_report`):
a pool holding a servable entry of the image weighs 1, one whose FlexVol
holds the image's Glance file (a direct clone is possible; the driver
reports the images it has seen there) weighs 0.5, any other 0.
Cinder normalizes each weigher's weights to 0..1 and multiplies them by the
weigher's multiplier before adding them up.

What it does not do: it never overrides a filter (capacity, type,
availability zone run before any weigher); it gives nothing to a pool that
reports its cache over budget or short of space, so capacity decides
there; it leaves pools of other drivers and creates not from an image at
0. A stale report can only cost a File Copy, never a wrong volume: the
driver checks the entry again when it clones.
"""

import typing

from cinder.scheduler import weights
from oslo_config import cfg

from netapp_eic import options

CONF = cfg.CONF
CONF.register_opts(options.scheduler_opts)

#: Weight of a pool holding the image, and of one where a direct clone is
#: possible (before Cinder's normalization and the multiplier).
CACHED = 1.0
DIRECT_CLONE = 0.5


class ImageCacheWeigher(weights.BaseHostWeigher):
    """Favours pools holding the requested image (see the module doc)."""

    def weight_multiplier(self) -> float:
        return float(CONF.netapp_eic_image_cache_weight_multiplier)

    def _weigh_object(self, host_state: typing.Any,
                      weight_properties: dict[str, typing.Any]) -> float:
        image_id = _image_id(weight_properties)
        capabilities = getattr(host_state, 'capabilities', None) or {}
        if not image_id or not capabilities.get('netapp_eic_version'):
            return 0.0
        if capabilities.get('netapp_eic_cache_pressure'):
            return 0.0
        if image_id in (capabilities.get('netapp_eic_cached_images') or ()):
            return CACHED
        if image_id in (capabilities.get('netapp_eic_direct_clone_images')
                        or ()):
            return DIRECT_CLONE
        return 0.0


def _image_id(weight_properties: dict[str, typing.Any]) -> str | None:
    """The request's image id (the request spec is a dict or an object)."""
    spec = weight_properties.get('request_spec') or {}
    if isinstance(spec, dict):
        image_id = spec.get('image_id')
    else:
        image_id = getattr(spec, 'image_id', None)
    return str(image_id) if image_id else None
