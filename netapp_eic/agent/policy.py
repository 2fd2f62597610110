# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Which images the agent warms, and into which pools (pure).

Decided from Glance's answer for the image (never from a notification's
payload) and the pools' free space, under the ``netapp_eic_agent_*``
options. Every refusal is a reason, logged on the image's line.
"""

import collections.abc
import dataclasses
import typing

from oslo_utils import units

#: Visibilities of images every project may boot.
OPEN_VISIBILITIES = ('public', 'community')
_FALSE = ('', 'false', 'no', '0', 'off')


@dataclasses.dataclass(frozen=True)
class Policy:
    """The agent's policy, from the backend's options."""

    #: ``all``, ``marked`` or ``none``.
    images: str = 'all'
    mark: str = 'netapp_eic_warm'
    private_owners: frozenset[str] = frozenset()
    #: Explicit pools (shares); empty: see ``pool_count``.
    pools: tuple[str, ...] = ()
    #: The N pools with the most free space; 0: every pool.
    pool_count: int = 0
    #: Largest image (virtual size, bytes) a pool's cache may hold; 0: no
    #: bound.
    max_image_bytes: int = 0

    @classmethod
    def from_config(cls, config: typing.Any, max_image_bytes: int
                    ) -> 'Policy':
        get = config.safe_get
        return cls(images=get('netapp_eic_agent_images') or 'all',
                   mark=get('netapp_eic_agent_image_mark') or '',
                   private_owners=frozenset(
                       get('netapp_eic_agent_private_owners') or ()),
                   pools=tuple(get('netapp_eic_agent_pools') or ()),
                   pool_count=int(get('netapp_eic_agent_pool_count') or 0),
                   max_image_bytes=max_image_bytes)


def image_size(meta: collections.abc.Mapping[str, typing.Any]) -> int:
    """The bytes an entry of the image takes: its virtual size when
    Glance knows it, else its size."""
    for key in ('virtual_size', 'size'):
        value = meta.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and \
                value > 0:
            return value
    return 0


def why_not(policy: Policy, meta: collections.abc.Mapping[str, typing.Any]
            ) -> str | None:
    """Why the image is not warmed, or None when it is."""
    if meta.get('status') != 'active':
        return 'status in Glance is %s, not active' % meta.get('status')
    if policy.images == 'none':
        return 'netapp_eic_agent_images is none'
    if policy.images == 'marked' and not marked(policy.mark, meta):
        return 'no tag or property %s (netapp_eic_agent_images = marked)' % (
            policy.mark)
    visibility = meta.get('visibility')
    if visibility not in OPEN_VISIBILITIES and \
            meta.get('owner') not in policy.private_owners:
        return '%s image of project %s, not in ' \
               'netapp_eic_agent_private_owners' % (visibility,
                                                    meta.get('owner'))
    size = image_size(meta)
    if policy.max_image_bytes and size > policy.max_image_bytes:
        return '%.1f GiB is more than the cache budget allows (%.1f GiB)' % (
            size / units.Gi, policy.max_image_bytes / units.Gi)
    return None


def marked(mark: str, meta: collections.abc.Mapping[str, typing.Any]
           ) -> bool:
    """Whether the image has the tag ``mark`` or a true property
    ``mark`` (Glance v2 shows properties as top-level fields)."""
    if not mark:
        return False
    tags = meta.get('tags') or []
    if isinstance(tags, list) and mark in tags:
        return True
    value = meta.get(mark)
    if value is None:
        value = (meta.get('properties') or {}).get(mark)
    return value is not None and str(value).strip().lower() not in _FALSE


def choose_pools(policy: Policy, free: collections.abc.Mapping[str, int],
                 size: int, holding: collections.abc.Container[str] = ()
                 ) -> tuple[list[str], list[str]]:
    """The pools to warm into, from the backend's pools and their free
    bytes (``free``, -1 when unknown), those ``holding`` the image first
    (the N freest count them: a second event makes no extra copy); and
    why others were left out."""
    left_out = []
    if policy.pools:
        chosen = [p for p in policy.pools if p in free]
        left_out += ['%s: not a mounted pool of the backend' % p
                     for p in policy.pools if p not in free]
    else:
        chosen = sorted(free, key=lambda p: (p not in holding, -free[p], p))
        if policy.pool_count:
            chosen = chosen[:policy.pool_count]
    roomy = []
    for share in chosen:
        if share not in holding and 0 <= free[share] < size:
            left_out.append('%s: %d bytes free, the image needs %d' % (
                share, free[share], size))
        else:
            roomy.append(share)
    return roomy, left_out
