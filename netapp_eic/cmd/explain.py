# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic explain``: the plan ``clone_image`` would follow.

For an image and each pool of the backend (or the one ``--pool``), the
paths the driver would try, in order, and the reason each faster path is
skipped, computed by the driver's own planner
(:meth:`netapp_eic.core.engine.Engine.plan`) through a host that refuses
every change: nothing is created, copied, converted or locked.
"""

import argparse
import math
import typing

from oslo_utils import units

from netapp_eic.cmd import base
from netapp_eic.cmd import glance
from netapp_eic.core import engine as engine_mod
from netapp_eic.core import planner
from netapp_eic.core.types import CreateRequest, Route
from netapp_eic import exception

COLUMNS = ('Pool', 'Order', 'Path', 'Decision', 'Detail')
#: The Pool column of the rows about the image (how its bytes are
#: checked) and about Glance's FlexVols, after the pools' plans.
IMAGE_ROW = '(image)'
GLANCE_ROW = '(Glance)'


class Explain(base.EicLister):
    """Show the plan of a volume create from an image, without side
    effects."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        glance.add_image_arguments(parser)
        parser.add_argument('--pool', metavar='SHARE',
                            help='the pool (ip:/junction); default: every '
                                 'share of nfs_shares_config')
        parser.add_argument('--size', type=int, metavar='GiB',
                            help='volume size; default: the image\'s '
                                 'virtual size (or min_disk), rounded up')
        return parser

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[typing.Any, ...]]]:
        if not parsed_args.image and not parsed_args.image_meta:
            raise base.CommandError('pass --image ID or --image-meta FILE')
        if parsed_args.size is not None and parsed_args.size < 1:
            raise base.CommandError('--size must be at least 1 GiB')
        backend = self.eic_app.backend()
        meta, location = glance.image_of(backend.conf, parsed_args.image,
                                         parsed_args.image_meta)
        host = base.MountHost(backend)
        shares = [parsed_args.pool] if parsed_args.pool else backend.shares()
        mounted = set(host.mounted_shares())
        for share in shares:
            if share not in mounted:
                self.log.warning('Pool %s is not mounted on this host: its '
                                 'cache entry and the image file cannot be '
                                 'looked at, the plan may differ on the '
                                 'cinder-volume host.', share)
        eic = engine_mod.Engine(backend.ontap_client(), host,
                                backend.settings())
        size = parsed_args.size or default_size(meta)
        rows: list[tuple[typing.Any, ...]] = []
        for share in shares:
            request = CreateRequest(
                volume_id='explain', volume_name='volume-explain',
                size_bytes=size * units.Gi, pool=share, image_meta=meta,
                image_location=location)
            try:
                the_plan = eic.plan(request)
            except exception.EicError as e:
                raise base.CommandError('cannot plan pool %s: %s' % (
                    share, e.msg)) from e
            rows.extend(plan_rows(share, the_plan))
        rows.append((IMAGE_ROW, '-', 'content check', 'planned',
                     eic.content_checker.describe(meta)))
        rows.extend(mount_rows(eic))
        return COLUMNS, rows


def mount_rows(eic: engine_mod.Engine) -> list[tuple[typing.Any, ...]]:
    """Glance's FlexVols the locations named: mounted on this host (the
    image is hashed during its copy) or not, and why."""
    return [(GLANCE_ROW, '-', 'Glance FlexVol %s' % state.flexvol,
             'mounted' if state.mounted else 'not mounted',
             '%s: %s' % (state.share, state.why))
            for state in eic.glance_mounts.report()]


def default_size(meta: dict[str, typing.Any]) -> int:
    """GiB a volume needs to hold the image (at least 1)."""
    size = meta.get('virtual_size') or meta.get('size') or 0
    return max(1, math.ceil(int(size) / units.Gi),
               int(meta.get('min_disk') or 0))


def plan_rows(share: str, the_plan: planner.Plan
              ) -> list[tuple[typing.Any, ...]]:
    """Tried steps in order, then the skipped paths with their reason."""
    rows: list[tuple[typing.Any, ...]] = []
    for order, step in enumerate(the_plan.steps, 1):
        if step.path is Route.DOWNLOAD:
            detail = 'Cinder downloads the image (last resort)'
        elif step.source is not None:
            detail = 'from %s' % step.source.label
        else:
            detail = 'clone of the pool\'s cache entry'
        rows.append((share, order, str(step.path), 'try', detail))
    for path, reason in the_plan.skipped:
        rows.append((share, '-', str(path), 'skip', reason))
    return rows
