# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Gather the planner's facts: read-only, changes nothing anywhere.

For one :class:`~netapp_eic.core.types.CreateRequest` it looks at the
destination pool's cache entry, parses Glance's locations and resolves them
to FlexVols through ONTAP, finds other pools' cache entries, inspects the
Glance file when one of this backend's mounts reaches it, and asks ONTAP
what the copy offload tool would need. :func:`netapp_eic.core.planner.plan`
turns the result into steps.
"""

import collections.abc
import typing

from netapp_eic.core import cachemanager
from netapp_eic.core.context import Context
from netapp_eic.core import imagecheck
from netapp_eic.core import locations
from netapp_eic.core import planner
from netapp_eic.core import records
from netapp_eic.core.pools import Pool
from netapp_eic.core.types import (CacheState, CreateRequest, ImageMeta,
                                   Settings, Source, SourceKind)
from netapp_eic import exception

RAW = 'raw'


def inspect(path: str, image_meta: ImageMeta,
            settings: Settings) -> imagecheck.ImageCheck:
    """The image checks on the real file at ``path``."""
    return imagecheck.inspect_image(
        path, image_meta.get('disk_format'),
        allow_conversion=settings.convert_images,
        container_format=image_meta.get('container_format') or 'bare')


class FactGatherer:
    """Collects :class:`~netapp_eic.core.planner.Facts` for a request."""

    def __init__(self, ctx: Context) -> None:
        self.client = ctx.client
        self.pools = ctx.pools
        self.settings = ctx.settings
        self.cache = cachemanager.CacheManager(ctx)
        #: UUIDs of the mounted FlexVols a Glance image file was found in:
        #: where a direct clone is possible (reported to the scheduler).
        self.image_flexvols: set[str] = set()

    def gather(self, request: CreateRequest
               ) -> tuple[planner.Facts, Pool | None]:
        """The facts, and the destination pool (None when unusable)."""
        base: dict[str, typing.Any] = dict(
            image_id=request.image_id, volume_id=request.volume_id,
            pool=request.pool)
        mounted = self.pools.mounted()
        by_share = {p.share: p for p in mounted}
        try:
            dest = by_share.get(request.pool) or self.pools.get(request.pool)
        except exception.EicError as e:
            return planner.Facts(dest_svm=None, dest_flexvol=None,
                                 dest_problem=str(e), **base), None
        others = [p for p in mounted if p.flexvol.uuid != dest.flexvol.uuid]
        facts = dict(base, dest_svm=dest.flexvol.svm,
                     dest_flexvol=dest.flexvol.name)
        facts.update(self._cache_facts(dest, request.image_meta))
        local, remote, rejected, local_files = self._locations(
            dest, others, request)
        facts.update(local_image=local, rejected_locations=rejected,
                     image_problem=self._image_problem(request, local_files))
        sources = tuple(self._remote_cache_sources(others, request)) + remote
        facts['remote_sources'] = sources
        facts.update(self._tool_facts(dest, sources))
        return planner.Facts(**facts), dest

    def _cache_facts(self, dest: Pool, image_meta: ImageMeta
                     ) -> dict[str, typing.Any]:
        if not self.settings.cache_enabled:
            return {'cache_state': CacheState.DISABLED,
                    'cache_reason': 'netapp_eic_cache_enabled is False'}
        found = self.cache.lookup(dest, image_meta)
        return {'cache_state': found.state, 'cache_reason': found.reason}

    def _locations(self, dest: Pool, others: list[Pool],
                   request: CreateRequest
                   ) -> tuple[Source | None, tuple[Source, ...],
                              tuple[tuple[str, str], ...], list[str]]:
        """``(local image, remote images, rejections, local files)``:
        Glance's locations resolved to FlexVols of this cluster."""
        candidates, refused = locations.parse_image_locations(
            request.image_location, image_id=request.image_id)
        rejected = [(r.url, r.reason) for r in refused]
        local, remote, local_files = None, [], []
        mounts = {p.flexvol.uuid: p for p in [dest] + others}
        for loc in candidates:
            try:
                resolved = self.client.resolve(loc.host, loc.export_path)
            except exception.EicError as e:
                rejected.append((loc.url, str(e)))
                continue
            source = Source(SourceKind.IMAGE, resolved.flexvol.svm,
                            resolved.flexvol.name, resolved.path, loc.host,
                            loc.url)
            mounted = mounts.get(resolved.flexvol.uuid)
            if mounted is not None:
                local_files.append(mounted.local(resolved.path))
                self.image_flexvols.add(resolved.flexvol.uuid)
            if resolved.flexvol.uuid == dest.flexvol.uuid:
                local = local or source
            else:
                remote.append(source)
        return local, tuple(remote), tuple(rejected), local_files

    def _image_problem(self, request: CreateRequest,
                       local_files: list[str]) -> str | None:
        """Why the Glance file must not take a fast path, or None.

        Inspects the real file when one of this backend's mounts reaches it;
        otherwise the copy is inspected in the destination before use.
        """
        problem = self._declared_problem(request.image_meta)
        if problem or not local_files:
            return problem
        check = inspect(local_files[0], request.image_meta, self.settings)
        if not check.ok:
            return check.reason
        if check.virtual_size and check.virtual_size > request.size_bytes:
            return 'image virtual size %d exceeds the volume size %d' % (
                check.virtual_size, request.size_bytes)
        return None

    def _declared_problem(self, image_meta: ImageMeta) -> str | None:
        disk_format = image_meta.get('disk_format')
        if disk_format not in imagecheck.SUPPORTED_FORMATS:
            return 'disk_format %s is not supported by the fast paths' % (
                disk_format)
        if disk_format != RAW and not self.settings.convert_images:
            return 'image conversion is disabled and the image is %s' % (
                disk_format)
        return None

    def _remote_cache_sources(self, others: list[Pool],
                              request: CreateRequest
                              ) -> collections.abc.Iterator[Source]:
        if not self.settings.cache_enabled:
            return
        name = records.entry_name(request.image_id)
        for pool in others:
            if self.cache.lookup(pool, request.image_meta
                                 ).state is CacheState.FRESH:
                yield Source(SourceKind.CACHE, pool.flexvol.svm,
                             pool.flexvol.name, name, pool.ip,
                             '%s/%s' % (pool.share, name))

    def _tool_facts(self, dest: Pool, sources: tuple[Source, ...]
                    ) -> dict[str, typing.Any]:
        tool = self.settings.copyoffload_tool_path
        if not tool or not sources:
            return {'tool_path': tool}
        svms = {dest.flexvol.svm} | {s.svm for s in sources}
        return {'tool_path': tool,
                'ontap_version': self.client.cluster_version(),
                'vstorage': tuple(sorted(
                    (svm, self.client.vstorage_enabled(svm)) for svm in svms))}
