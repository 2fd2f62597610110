# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic cache``: see, warm and evict the pools' image caches.

Run on a cinder-volume host of the backend (the pools' mounts are read and
changed there). ``warm`` and ``evict`` take the same locks as
cinder-volume, through the ``[coordination] backend_url`` of cinder.conf,
so they are safe while creates run: an entry being built is built once, an
entry being cloned from is not evicted.
"""

import argparse
import collections.abc
import contextlib
import datetime
import sys
import typing

from oslo_utils import units

from netapp_eic.agent import provenance
from netapp_eic.cmd import base
from netapp_eic.cmd import explain
from netapp_eic.cmd import glance
from netapp_eic.cmd import localhost
from netapp_eic.cmd import progressbar
from netapp_eic.core import cache as cache_mod
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import (CreateRequest, Outcome, Route, Settings,
                                   image_id_of)
from netapp_eic import exception
from netapp_eic.ontap import progress

LIST_COLUMNS = ('Pool', 'Image', 'Size', 'Allocated', 'Last used',
                'Verified', 'State', 'Made by')
WARM_COLUMNS = ('Pool', 'Image', 'Result', 'Seconds', 'Detail')
EVICT_COLUMNS = ('Pool', 'Image', 'Result')
#: What ``cache evict`` evicts (exactly one of them).
EVICT_SELECTIONS: tuple[tuple[str, dict[str, typing.Any]], ...] = (
    ('--image', {'metavar': 'ID', 'help': 'the entry of this image'}),
    ('--older-than', {'type': float, 'metavar': 'HOURS',
                      'help': 'entries unused for this many hours'}),
    ('--to-budget', {'action': 'store_true',
                     'help': 'least recently used entries until the budgets '
                             'hold (netapp_eic_cache_max_*, '
                             'thres_avl_size_perc_*)'}),
)


class CacheHost(localhost.LocalHost):
    """The host interface of a cache command: the backend's mounts on
    this host, commands without a shell, and Cinder's coordinator for the
    locks (the lock store cinder-volume uses)."""

    def __init__(self, backend: base.Backend) -> None:
        self._view = base.MountHost(backend)
        shares = {share: self._view.mount_point(share)
                  for share in backend.shares() + backend.image_shares()}
        super().__init__(shares, self._view.mounted_shares(),
                         self._view.image_shares())

    def mount_image_share(self, share: str) -> None:
        """Use a Glance FlexVol where cinder-volume mounted it on this
        host (os-brick's mount point); nothing is mounted here."""
        self._view.mount_image_share(share)
        self.shares.setdefault(share, self._view.mount_point(share))
        super().mount_image_share(share)

    def lock_object(self, name: str) -> typing.Any:
        """Cinder's coordinator lock named ``name``."""
        from cinder import coordination
        return coordination.COORDINATOR.get_lock(name)

    def forget_lock(self, name: str) -> None:
        from cinder import coordination
        coordination.COORDINATOR.remove_lock(name)


@contextlib.contextmanager
def managed_engine(backend: base.Backend, settings: Settings | None = None
                   ) -> collections.abc.Iterator[engine_mod.Engine]:
    """An engine with the backend's settings (or ``settings``), taking
    cinder-volume's locks (the coordinator started for the block)."""
    from cinder import coordination
    coordination.COORDINATOR.start()
    try:
        yield engine_mod.Engine(backend.ontap_client(), CacheHost(backend),
                                settings or backend.settings())
    finally:
        coordination.COORDINATOR.stop()


class _CacheCommand(base.EicLister):
    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('--pool', metavar='SHARE',
                            help='one pool (ip:/junction); default: every '
                                 'mounted pool of the backend')
        return parser

    def pools(self, backend: base.Backend, parsed_args: argparse.Namespace
              ) -> list[str]:
        mounted = base.MountHost(backend).mounted_shares()
        if parsed_args.pool:
            if parsed_args.pool not in mounted:
                raise base.CommandError('pool %s is not mounted on this '
                                        'host' % parsed_args.pool)
            return [parsed_args.pool]
        if not mounted:
            raise base.CommandError('no pool of the backend is mounted on '
                                    'this host; run it where cinder-volume '
                                    'runs')
        return list(mounted)


class CacheList(_CacheCommand):
    """List the image cache entries of the backend's pools."""

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[typing.Any, ...]]]:
        backend = self.eic_app.backend()
        eic = engine_mod.Engine(backend.ontap_client(),
                                base.MountHost(backend), backend.settings())
        rows = []
        view = base.MountHost(backend)
        for share in self.pools(backend, parsed_args):
            for entry in eic.cache_entries(share):
                mark = provenance.read(view.mount_point(share),
                                       entry.image_id)
                rows.append((share, entry.image_id, entry.size,
                             entry.allocated, _when(entry.last_used),
                             _verified(entry), _state(entry),
                             mark.describe() if mark else ''))
        return LIST_COLUMNS, rows


class CacheEvict(_CacheCommand):
    """Evict entries: one image's, those unused for a while, or down to
    the budgets; never one a create is cloning from."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        which = parser.add_mutually_exclusive_group(required=True)
        for flag, options in EVICT_SELECTIONS:
            which.add_argument(flag, **options)
        return parser

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[typing.Any, ...]]]:
        if parsed_args.older_than is not None and parsed_args.older_than < 0:
            raise base.CommandError('--older-than must not be negative')
        backend = self.eic_app.backend()
        older = (None if parsed_args.older_than is None
                 else parsed_args.older_than * 3600)
        rows = []
        with managed_engine(backend) as eic:
            for share in self.pools(backend, parsed_args):
                before = {e.image_id for e in eic.cache_entries(share)}
                try:
                    gone = eic.evict(share, parsed_args.image, older)
                except exception.EicError as e:
                    raise base.CommandError('pool %s: %s' % (share,
                                                             e.msg)) from e
                rows += [(share, image_id, 'evicted') for image_id in gone]
                if parsed_args.image in before and \
                        parsed_args.image not in gone:
                    rows.append((share, parsed_args.image,
                                 'kept: being cloned from, retry later'))
                    self.exit_status = 1
        if parsed_args.image and not rows:
            raise base.CommandError('no cache entry of image %s' %
                                    parsed_args.image)
        return EVICT_COLUMNS, rows


class CacheWarm(_CacheCommand):
    """Build an image's cache entries ahead of a boot storm, as a create
    would (one copy per FlexVol, checked and verified), with progress."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        glance.add_image_arguments(parser)
        parser.add_argument('--all-pools', action='store_true',
                            help='every mounted pool of the backend')
        return parser

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[typing.Any, ...]]]:
        if not parsed_args.image and not parsed_args.image_meta:
            raise base.CommandError('pass --image ID or --image-meta FILE')
        if bool(parsed_args.pool) == parsed_args.all_pools:
            raise base.CommandError('pass --pool SHARE or --all-pools')
        backend = self.eic_app.backend()
        meta, location = glance.image_of(backend.conf, parsed_args.image,
                                         parsed_args.image_meta)
        size = explain.default_size(meta) * units.Gi
        rows = []
        bar = progressbar.ProgressBar(sys.stderr)
        with managed_engine(backend) as eic, progress.observing(bar):
            for share in self.pools(backend, parsed_args):
                bar.status('warming %s in %s' % (meta['id'], share))
                outcome = eic.warm(CreateRequest(
                    volume_id='warm', volume_name='volume-warm',
                    size_bytes=size, pool=share, image_meta=meta,
                    image_location=location))
                rows.append(_warm_row(share, image_id_of(meta), outcome))
                if outcome.path is Route.DOWNLOAD:
                    self.exit_status = 1
        bar.close()
        return WARM_COLUMNS, rows


def _warm_row(share: str, image_id: str, outcome: Outcome
              ) -> tuple[typing.Any, ...]:
    if outcome.path is Route.CACHE_CLONE:
        return share, image_id, 'present', '%.3f' % outcome.seconds, ''
    if outcome.path is Route.DOWNLOAD:
        why = ['%s failed: %s' % f for f in outcome.failures]
        return (share, image_id, 'not built', '%.3f' % outcome.seconds,
                '; '.join(why + list(outcome.skipped)))
    return (share, image_id, 'built by %s' % outcome.path,
            '%.3f' % outcome.seconds, outcome.source)


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(
        timestamp, datetime.timezone.utc).isoformat(timespec='seconds')


def _verified(entry: cache_mod.Entry) -> str:
    if entry.record is None:
        return 'unknown'
    if entry.record.content is None:
        return 'no hash in Glance'
    if entry.record.verified:
        return entry.record.verified_by or 'yes'
    return 'no'


def _state(entry: cache_mod.Entry) -> str:
    if entry.record is None:
        return 'legacy (in-tree driver), checked at first use'
    if entry.problem:
        return 'stale: %s' % entry.problem
    return 'ok'
