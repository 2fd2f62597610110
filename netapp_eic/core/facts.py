# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Gather the planner's facts: read-only, changes nothing anywhere.

For one :class:`~netapp_eic.core.types.CreateRequest` it looks at the
destination pool's cache entry, parses Glance's locations and resolves them
to FlexVols through ONTAP, finds other pools' cache entries, inspects the
Glance file when one of this backend's mounts reaches it, and asks ONTAP
what the copy offload tool would need. :func:`netapp_eic.core.planner.plan`
turns the result into steps.

Every file a step would clone or copy is checked here already, through
ONTAP and on the mount (:mod:`netapp_eic.core.sourcecheck`): a Glance
location or cache entry that is a symbolic link (or not a regular file) is
refused with its reason, and so is a destination volume name that exists as
one.
"""

import collections
import collections.abc
import threading
import typing

from oslo_log import log as logging

from netapp_eic.core import cachemanager
from netapp_eic.core.context import Context
from netapp_eic.core import imagecheck
from netapp_eic.core import locations
from netapp_eic.core import failure
from netapp_eic.core import glancemounts
from netapp_eic.core import nofollow
from netapp_eic.core import planner
from netapp_eic.core import records
from netapp_eic.core.pools import Pool
from netapp_eic.core import sourcecheck
from netapp_eic.core.types import (CacheState, CreateRequest, ImageMeta,
                                   Settings, Source, SourceKind,
                                   image_id_of)
from netapp_eic import exception
from netapp_eic import ontap

LOG = logging.getLogger(__name__)

#: Images remembered per FlexVol as having their Glance file there.
LOCAL_IMAGES_KEPT = 1000


def inspect(path: str, image_meta: ImageMeta, settings: Settings,
            root: str | None = None) -> imagecheck.ImageCheck:
    """The image checks on the real file at ``path`` (below the mount
    directory ``root``), never following a link."""
    return imagecheck.inspect_image(
        path, image_meta.get('disk_format'),
        allow_conversion=settings.convert_images,
        container_format=image_meta.get('container_format') or 'bare',
        root=root)


class FactGatherer:
    """Collects :class:`~netapp_eic.core.planner.Facts` for a request."""

    def __init__(self, ctx: Context, cache: cachemanager.CacheManager,
                 glance_mounts: glancemounts.GlanceMounts) -> None:
        self.client = ctx.client
        self.host = ctx.host
        self.glance_mounts = glance_mounts
        self.pools = ctx.pools
        self.settings = ctx.settings
        self.tool_breaker = ctx.tool_breaker
        self.cache = cache
        #: The images whose Glance file was found in a mounted FlexVol
        #: (where a direct clone of it is possible), by FlexVol UUID, most
        #: recently seen last; reported to the scheduler.
        self.local_images = LocalImages()

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
            failure.log_plan_failure(e, 'could not resolve pool %s' %
                                     request.pool, request.volume_id)
            return planner.Facts(dest_svm=None, dest_flexvol=None,
                                 dest_problem=str(e), **base), None
        others = [p for p in mounted if p.flexvol.uuid != dest.flexvol.uuid]
        images = set(self.host.image_shares())
        facts = dict(base, dest_svm=dest.flexvol.svm,
                     dest_flexvol=dest.flexvol.name)
        problem = self._destination_problem(dest, request)
        if problem:
            return planner.Facts(dest_problem=problem, **facts), dest
        facts.update(self._cache_facts(dest, request.image_meta))
        local, remote, rejected, local_files = self._locations(
            dest, others, request)
        facts.update(local_image=local, rejected_locations=rejected,
                     image_problem=self._image_problem(request, local_files))
        # Cache entries only from the backend's pools: Glance's FlexVols
        # are written by whoever writes Glance's store.
        pools = [p for p in others if p.share not in images]
        sources = tuple(self._remote_cache_sources(pools, request)) + remote
        facts['remote_sources'] = sources
        facts.update(self._tool_facts(dest, sources))
        facts.update(self._peer_facts(dest, sources))
        return planner.Facts(**facts), dest

    def _peer_facts(self, dest: Pool, sources: tuple[Source, ...]
                    ) -> dict[str, typing.Any]:
        """Why a File Copy from each other SVM holding a source would be
        refused (no SVM peer allowing file_copy). Peers that cannot be
        read are not held against the copy: ONTAP's answer to it says."""
        problems = []
        for svm in sorted({s.svm for s in sources} - {dest.flexvol.svm}):
            try:
                peer = self.client.svm_peer(dest.flexvol.svm, svm)
            except exception.OntapApiError as e:
                LOG.debug('SVM peers of %(svm)s unreadable, File Copy from '
                          '%(peer)s will be tried: %(err)s', {
                              'svm': dest.flexvol.svm, 'peer': svm,
                              'err': e})
                continue
            problem = peer_problem(dest.flexvol.svm, svm, peer)
            if problem:
                problems.append((svm, problem))
        return {'peer_problems': tuple(problems),
                'create_svm_peers': self.settings.create_svm_peers}

    @staticmethod
    def _destination_problem(dest: Pool, request: CreateRequest
                             ) -> str | None:
        """Why the volume file must not be written, or None: a volume name
        that exists as anything but a regular file (a symbolic link to a
        host file or to another tenant's volume) is never written through.
        """
        path = dest.local(request.volume_name)
        kind = nofollow.existing_kind(path, dest.mount_dir)
        if kind is None:
            return None
        problem = (nofollow.regular_problem(path, dest.mount_dir)
                   if kind == 'a regular file' else 'it is %s' % kind)
        if problem is None:
            return None  # an earlier attempt's file: overwritten
        return 'volume file %s already exists and %s; refusing to write ' \
            'through it' % (request.volume_name, problem.replace(
                'it is ', 'is ').replace('it has ', 'has '))

    def _cache_facts(self, dest: Pool, image_meta: ImageMeta
                     ) -> dict[str, typing.Any]:
        if not self.settings.cache_enabled:
            return {'cache_state': CacheState.DISABLED,
                    'cache_reason': 'netapp_eic_cache_enabled is False'}
        found = self.cache.lookup(dest, image_meta)
        if found.state is CacheState.FRESH:
            problem = entry_problem(dest, image_id_of(image_meta))
            if problem:
                return {'cache_state': CacheState.STALE,
                        'cache_reason': problem}
        return {'cache_state': found.state, 'cache_reason': found.reason}

    def _locations(self, dest: Pool, others: list[Pool],
                   request: CreateRequest
                   ) -> tuple[Source | None, tuple[Source, ...],
                              tuple[tuple[str, str], ...],
                              list[tuple[str, str]]]:
        """``(local image, remote images, rejections, local files)``:
        Glance's locations resolved to FlexVols of this cluster."""
        candidates, refused = locations.parse_image_locations(
            request.image_location, image_id=request.image_id)
        rejected = [(r.url, r.reason) for r in refused]
        local, remote = None, []
        local_files: list[tuple[str, str]] = []
        mounts = {p.flexvol.uuid: p for p in [dest] + others}
        for loc in candidates:
            try:
                resolved = self.client.resolve(loc.host, loc.export_path)
            except exception.EicError as e:
                rejected.append((loc.url, str(e)))
                continue
            mounted = mounts.get(resolved.flexvol.uuid)
            if mounted is None:
                mounted = self._glance_mount(loc.host, resolved.flexvol,
                                             request.image_id)
            try:
                sourcecheck.require_regular(
                    self.client, resolved.flexvol, resolved.path,
                    mounted.mount_dir if mounted is not None else None)
            except exception.EicError as e:
                if isinstance(e, exception.OntapApiError):
                    self.client.invalidate()  # a FlexVol may be recreated
                rejected.append((loc.url, str(e)))
                continue
            source = Source(SourceKind.IMAGE, resolved.flexvol.svm,
                            resolved.flexvol.name, resolved.path, loc.host,
                            loc.url, volume=resolved.flexvol)
            if mounted is not None:
                local_files.append((mounted.local(resolved.path),
                                    mounted.mount_dir))
                self.local_images.seen(resolved.flexvol.uuid,
                                       request.image_id)
            if resolved.flexvol.uuid == dest.flexvol.uuid:
                local = local or source
            else:
                remote.append(source)
        return local, tuple(remote), tuple(rejected), local_files

    def _glance_mount(self, host: str, vol: ontap.FlexVol, image_id: str
                      ) -> Pool | None:
        """The mount of the Glance FlexVol ``vol`` named at ``host``
        (mounted read-only now when allowed), or None."""
        ip = self.pools.resolve_host(host.strip('[]'))
        if ip is None:
            return None
        return self.glance_mounts.mount_of(ip, vol, image_id)

    def _image_problem(self, request: CreateRequest,
                       local_files: list[tuple[str, str]]) -> str | None:
        """Why the Glance file must not take a fast path, or None.

        Inspects the real file when one of this backend's mounts reaches it
        (its headers only: a petabyte qcow2 is refused here, before any
        copy); otherwise the copy is inspected in the destination before
        any conversion or use.
        """
        problem = self._declared_problem(request.image_meta)
        if problem or not local_files:
            return problem
        path, root = local_files[0]
        check = inspect(path, request.image_meta, self.settings, root)
        if not check.ok:
            return check.reason
        return sourcecheck.size_problem(check.virtual_size, request,
                                        self.settings)

    def _declared_problem(self, image_meta: ImageMeta) -> str | None:
        disk_format = image_meta.get('disk_format')
        if disk_format not in imagecheck.SUPPORTED_FORMATS:
            return 'disk_format %s is not supported by the fast paths' % (
                disk_format)
        if disk_format != imagecheck.RAW and not self.settings.convert_images:
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
            found = self.cache.lookup(pool, request.image_meta)
            if found.state is not CacheState.FRESH or found.record is None:
                continue
            if entry_problem(pool, request.image_id):
                continue
            yield Source(SourceKind.CACHE, pool.flexvol.svm,
                         pool.flexvol.name, name, pool.ip,
                         '%s/%s' % (pool.share, name),
                         verified=found.record.verified, volume=pool.flexvol)

    def _tool_facts(self, dest: Pool, sources: tuple[Source, ...]
                    ) -> dict[str, typing.Any]:
        tool = self.settings.copyoffload_tool_path
        if not tool or not sources:
            return {'tool_path': tool}
        svms = {dest.flexvol.svm} | {s.svm for s in sources}
        return {'tool_path': tool,
                'tool_blocked': self.tool_breaker.why_not(),
                'ontap_version': self.client.cluster_version(),
                'vstorage': tuple(sorted(
                    (svm, self.client.vstorage_enabled(svm)) for svm in svms))}


def peer_fix(svm: str, other: str, peer: ontap.SvmPeer | None
             ) -> tuple[str, str] | None:
    """Why ONTAP refuses a File Copy between SVMs ``svm`` (the pool's)
    and ``other``, and the command that allows it; None when it allows
    it."""
    if peer is not None and peer.allows_file_copy:
        return None
    if peer is None:
        return ('SVM %s is not peered with SVM %s for file copy' % (
            other, svm), 'vserver peer create -vserver %s -peer-vserver %s '
            '-applications file-copy' % (svm, other))
    if peer.state != 'peered':
        return ('SVM peer %s-%s is %s, not peered' % (svm, other, peer.state),
                'vserver peer show')
    apps = ','.join(sorted(a.replace('_', '-') for a in peer.applications)
                    + ['file-copy'])
    return ('SVM peer %s-%s does not allow file copy' % (svm, other),
            'vserver peer modify -vserver %s -peer-vserver %s -applications '
            '%s' % (svm, other, apps))


def peer_problem(svm: str, other: str, peer: ontap.SvmPeer | None
                 ) -> str | None:
    """:func:`peer_fix` as one reason: ``why (command)``."""
    fix = peer_fix(svm, other, peer)
    return None if fix is None else '%s (%s)' % fix


def entry_problem(pool: Pool, image_id: str) -> str | None:
    """Why ``pool``'s cache entry of ``image_id`` must not be used as a
    source although its record matches, or None: it must be a regular file
    with one link on the mount (ONTAP's view is checked before the clone or
    copy itself)."""
    name = records.entry_name(image_id)
    problem = nofollow.regular_problem(pool.local(name), pool.mount_dir)
    if problem:
        return 'cache entry %s in FlexVol %s refused: %s' % (
            name, pool.flexvol.name, problem)
    return None


class LocalImages:
    """Images seen with their Glance file in a FlexVol, at most
    :data:`LOCAL_IMAGES_KEPT` per FlexVol (the least recently seen go)."""

    def __init__(self) -> None:
        self._by_flexvol: dict[str, collections.OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def seen(self, flexvol_uuid: str, image_id: str) -> None:
        with self._lock:
            images = self._by_flexvol.setdefault(flexvol_uuid,
                                                 collections.OrderedDict())
            images[image_id] = None
            images.move_to_end(image_id)
            while len(images) > LOCAL_IMAGES_KEPT:
                images.popitem(last=False)

    def recent(self, flexvol_uuid: str, limit: int) -> list[str]:
        """The most recently seen first, at most ``limit``."""
        with self._lock:
            images = list(self._by_flexvol.get(flexvol_uuid, ()))
        return images[::-1][:limit]
