# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Produce a checked raw image file in the destination FlexVol.

Each planned step other than the cache clone ends in the same place: a raw
file holding the image's bytes, under a temporary name in the destination
FlexVol's root, ready to become the pool's cache entry. This module gets it
there by the step's means: a file clone of the Glance file (direct clone),
ONTAP File Copy or the copy offload tool from another FlexVol, and
``qemu-img convert`` on this host for a non-raw image. Everything it
creates is removed again when it fails (through ONTAP, else through the
mount).

Nothing is trusted on the way (:mod:`netapp_eic.core.sourcecheck`): the source
must be a regular file as ONTAP and the mount see it, before and after the
copy; the virtual size must fit the volume and the configured maximum
before any conversion or use; and the bytes are hashed against Glance's
record (:mod:`netapp_eic.core.verify`) unless they come from a cache entry
that was verified already. The result says whether they were
(:class:`RawFile`).
"""

import dataclasses
import re
import time
import typing

from oslo_log import log as logging
from oslo_utils import excutils

from netapp_eic import ontap
from netapp_eic.ontap import progress
from netapp_eic.core import cache
from netapp_eic.core import contentcheck
from netapp_eic.core.context import Context
from netapp_eic.core import facts as facts_mod
from netapp_eic.core import nofollow
from netapp_eic.core import imagecheck
from netapp_eic.core import jobkeeper
from netapp_eic.core import planner
from netapp_eic.core import sourcecheck
from netapp_eic.core import verifications
from netapp_eic.core import visibility
from netapp_eic.core.pools import Pool
from netapp_eic.core.types import CreateRequest, Route
from netapp_eic.core.types import Source
from netapp_eic import exception

LOG = logging.getLogger(__name__)


#: Image ids that may appear in a temporary file name.
_SAFE_ID = re.compile(r'[0-9A-Za-z][0-9A-Za-z-]{0,63}')


def temp_for(purpose: str, image_id: str) -> str:
    """A temporary name that says which image it is being built for, so
    the sweep can ask whether that image's lock is held."""
    if _SAFE_ID.fullmatch(image_id) and '-' not in purpose:
        return cache.temp_name('%s-%s' % (purpose, image_id))
    return cache.temp_name(purpose)


def image_of_temp(name: str) -> str | None:
    """The image id in a name made by :func:`temp_for`, or None."""
    rest = name[len(cache.TEMP_PREFIX):]
    _purpose, _, tail = rest.partition('-')
    image_id, sep, suffix = tail.rpartition('-')
    if not sep or len(suffix) != 32 or not _SAFE_ID.fullmatch(image_id):
        return None
    return image_id


@dataclasses.dataclass(frozen=True)
class RawFile:
    """A checked raw file in the destination FlexVol's root, and how it was
    made.

    ``verified`` is True when its bytes were checked against Glance's hash
    (or were copied from a cache entry whose bytes were); ``verified_by``
    says by what. ``source`` names the file it came from,
    ``converted_from`` the format a conversion on this host read, and
    ``host_bytes`` the bytes this host read (hashing, conversion).
    """

    name: str
    verified: bool
    source: str = ''
    verified_by: str = ''
    host_bytes: int = 0
    converted_from: str = ''

    @property
    def verdict(self) -> contentcheck.Verdict:
        """Whether and how its bytes were checked."""
        return contentcheck.Verdict(self.verified, self.verified_by)


class Scratch:
    """The temporary files a step creates in one FlexVol: every one is
    removed when the step ends, except the one it keeps (its result)."""

    def __init__(self, delete: typing.Callable[[Pool, str], None],
                 dest: Pool) -> None:
        self._delete = delete
        self._dest = dest
        self._names: list[str] = []

    def new(self, purpose: str, image_id: str) -> str:
        name = temp_for(purpose, image_id)
        self._names.append(name)
        return name

    def keep(self, name: str) -> None:
        self._names.remove(name)

    def __enter__(self) -> 'Scratch':
        return self

    def __exit__(self, *exc_info: object) -> None:
        for name in self._names:
            self._delete(self._dest, name)


class Materializer:
    """Builds the raw temporary file a step starts from."""

    def __init__(self, ctx: Context, job_keeper: jobkeeper.JobKeeper,
                 checker: contentcheck.ContentChecker) -> None:
        self.client = ctx.client
        self.host = ctx.host
        self.pools = ctx.pools
        self.settings = ctx.settings
        self.tool_breaker = ctx.tool_breaker
        self.jobs = job_keeper
        self.checker = checker

    def raw_file(self, step: planner.Step, dest: Pool,
                 request: CreateRequest) -> RawFile:
        """A checked raw file holding the image in ``dest``'s root;
        everything else created on the way is removed (all of it on
        failure)."""
        source = _source_of(step)
        with Scratch(self.delete, dest) as scratch:
            if step.path is Route.DIRECT_CLONE:
                raw = self._direct(source, dest, scratch, request)
            else:
                if step.make_peer:
                    self._make_peer(dest, source)
                raw = self._copied(step.path, source, dest, scratch, request)
            scratch.keep(raw.name)
        return dataclasses.replace(raw, source=source.describe())

    def _direct(self, source: Source, dest: Pool, scratch: Scratch,
                request: CreateRequest) -> RawFile:
        """Clone the Glance file into a temporary name first (constant
        time), then inspect, verify and convert that clone: the bytes
        checked are the bytes used, whatever happens to the Glance file. A
        record that the Glance file, unchanged since, was verified spares
        the check; a check that passes is recorded."""
        local = (dest.local(source.path), dest.mount_dir)
        before = self._identity(dest.flexvol, source.path, local)
        known = self.checker.recorded(request, dest.flexvol, source.path,
                                      before)
        started = time.time()
        tmp = scratch.new('clone', request.image_id)
        self.client.clone_file(dest.flexvol, source.path, tmp)
        if not before.matches(self._identity(dest.flexvol, source.path,
                                              local)):
            raise _changed(dest.flexvol, source)
        pending = (contentcheck.Known(known) if known else
                   self.checker.start(request, dest.flexvol, tmp,
                                      (dest.local(tmp), dest.mount_dir),
                                      'cloned file'))
        raw = self._checked(dest, tmp, scratch, request, pending,
                            'cloned file')
        if known is None:
            self.checker.save(dest, request, dest.flexvol, source.path,
                              before, raw.verdict, started)
        return raw

    def _copied(self, path: Route, source: Source, dest: Pool,
                scratch: Scratch, request: CreateRequest) -> RawFile:
        """Copy ``source`` in from another FlexVol while it is checked
        (the array's digest, else the host hash through this host's mount
        of its FlexVol); a source nothing checked during the copy has its
        copy hashed on the host after it lands."""
        src_vol = (source.volume or
                   self.pools.flexvol(source.svm, source.flexvol))
        mount = self._mount_of(src_vol)
        local = ((mount.local(source.path), mount.mount_dir)
                 if mount is not None else None)
        before = self._identity(src_vol, source.path, local)
        if (source.is_cache or
                request.image_meta.get('disk_format') == imagecheck.RAW):
            sourcecheck.check_size(before.size, request, self.settings)
        known: contentcheck.Verdict | None = None
        if source.is_cache:
            known = contentcheck.Verdict(source.verified, (
                'inherited from the entry copied' if source.verified
                else ''))
        else:
            known = self.checker.recorded(request, src_vol, source.path,
                                          before)
        started = time.time()
        pending = (contentcheck.Known(known) if known is not None else
                   self.checker.start(request, src_vol, source.path, local,
                                      'Glance file, during the copy'))
        try:
            tmp = self._copy_in(path, source, src_vol, dest, scratch,
                                request.image_id)
            verdict = pending.finish()
            if not before.matches(self._identity(src_vol, source.path,
                                                 local)):
                raise _changed(src_vol, source)
        except BaseException:
            with excutils.save_and_reraise_exception():
                pending.cancel()
        if source.is_cache:
            sourcecheck.check_size(
                nofollow.size_of(dest.local(tmp), dest.mount_dir), request,
                self.settings)
            return RawFile(tmp, source.verified,
                           verified_by=known.how if known else '')
        # Nothing checked the source during the copy: the copy is hashed
        # here, beside its conversion.
        raw = self._checked(dest, tmp, scratch, request,
                            contentcheck.Known(verdict) if verdict else
                            self.checker.host_hash(
                                request, (dest.local(tmp), dest.mount_dir),
                                'copied file'), 'copied file')
        if known is None:
            self.checker.save(dest, request, src_vol, source.path, before,
                              raw.verdict, started)
        return raw

    def _identity(self, vol: ontap.FlexVol, path: str,
                  local: tuple[str, str] | None) -> verifications.Identity:
        """The file's identity once it is known to be a regular file with
        one link, through ONTAP and, when mounted here, the mount."""
        root = local[1] if local is not None else None
        info = sourcecheck.require_regular(self.client, vol, path, root)
        if local is None:
            return verifications.Identity.of(info)
        return verifications.Identity.of(info, *local)

    def _make_peer(self, dest: Pool, source: Source) -> None:
        """The SVM peer relationship a File Copy from ``source``'s SVM
        needs (``netapp_eic_create_svm_peers``); its failure fails the
        step."""
        done = self.client.allow_file_copy(dest.flexvol.svm, source.svm)
        LOG.info('File Copy from SVM %(src)s to SVM %(dst)s: %(done)s.',
                 {'src': source.svm, 'dst': dest.flexvol.svm, 'done': done})

    def _mount_of(self, vol: ontap.FlexVol) -> Pool | None:
        for pool in self.pools.mounted():
            if pool.flexvol.uuid == vol.uuid:
                return pool
        return None

    def _copy_in(self, path: Route, source: Source, src_vol: ontap.FlexVol,
                 dest: Pool, scratch: Scratch, image_id: str) -> str:
        tmp = scratch.new('copy', image_id)
        if path is Route.COPY_OFFLOAD:
            self._copy_with_tool(source, src_vol, dest, tmp)
        else:
            src = ontap.ResolvedPath(src_vol, source.path)
            dst = ontap.ResolvedPath(dest.flexvol, tmp)
            watch = progress.FileCopyProgress(
                self.client, dst, lambda: self._size(src),
                'File Copy of %s to FlexVol %s' % (source.describe(),
                                                   dest.flexvol.name))
            self.jobs.file_copy(src, dst, self.settings, on_poll=watch)
        visibility.wait_visible(dest.local(tmp),
                                self.settings.visibility_timeout)
        return tmp

    def _copy_with_tool(self, source: Source, src_vol: ontap.FlexVol,
                        dest: Pool, tmp: str) -> None:
        """The copy offload tool, bounded by the source's size at the
        slowest rate (its process group is killed by the host) and behind
        the backend's breaker: while the breaker is open the tool is not
        run (StepSkipped) and the next step is tried."""
        src_path = '%s/%s' % ((src_vol.junction or '').rstrip('/'),
                              source.path)
        dst_path = '%s/%s' % (dest.junction.rstrip('/'), tmp)
        tool = self.settings.copyoffload_tool_path or ''
        src = ontap.ResolvedPath(src_vol, source.path)
        with self.tool_breaker.attempt():
            bound = self.settings.tool_bound(self._size(src) or 0)
            with progress.watching_file(
                    dest.local(tmp), lambda: self._size(src),
                    'Copy offload of %s to FlexVol %s' % (
                        source.describe(), dest.flexvol.name)):
                self.host.run([tool, source.ip, dest.ip, src_path, dst_path],
                              timeout=bound)

    def _size(self, where: ontap.ResolvedPath) -> int | None:
        """A file's size through ONTAP (progress reports' total)."""
        info = self.client.file_info(where.flexvol, where.path)
        return None if info is None else info.size

    def _checked(self, dest: Pool, name: str, scratch: Scratch,
                 request: CreateRequest, pending: contentcheck.Pending,
                 what: str) -> RawFile:
        """``name`` if it is a safe raw image of an acceptable size, else
        its conversion, once ``pending`` (the check of its bytes, begun by
        the caller, running beside the conversion) has passed; a check
        that could not run (the array declined) is replaced by the host
        hash of ``name`` (the ``what``)."""
        try:
            check = facts_mod.inspect(dest.local(name), request.image_meta,
                                      self.settings, dest.mount_dir)
            if not check.ok or not check.detected_format:
                raise exception.ImageUnsafe(image_id=request.image_id,
                                            reason=check.reason)
            sourcecheck.check_size(check.virtual_size, request,
                                   self.settings)
            raw = RawFile(name, False)
            if check.detected_format != imagecheck.RAW:
                raw = self._convert(dest, name, scratch, request,
                                    check.detected_format)
            verdict = pending.finish()
            if verdict is None:
                verdict = self.checker.host_hash(
                    request, (dest.local(name), dest.mount_dir),
                    what).finish()
        except BaseException:
            with excutils.save_and_reraise_exception():
                pending.cancel()
        if verdict is None:
            raise exception.EicError(reason='no check of %s' % name)
        return dataclasses.replace(
            raw, verified=verdict.verified, verified_by=verdict.how,
            host_bytes=raw.host_bytes + verdict.host_bytes)

    def _convert(self, dest: Pool, name: str, scratch: Scratch,
                 request: CreateRequest, source_format: str) -> RawFile:
        """qemu-img convert on this host, once per (image, pool), of a
        file this step made (never of the Glance file itself)."""
        src_path = dest.local(name)
        tmp = scratch.new('convert', request.image_id)
        self.host.convert_image(src_path, dest.local(tmp), source_format)
        result = imagecheck.inspect_image(dest.local(tmp), imagecheck.RAW,
                                          root=dest.mount_dir)
        if not result.ok:
            raise exception.ImageUnsafe(image_id=request.image_id,
                                        reason=result.reason)
        sourcecheck.check_size(result.virtual_size, request, self.settings)
        return RawFile(tmp, False,
                       host_bytes=nofollow.size_of(src_path, dest.mount_dir),
                       converted_from=source_format)

    def delete(self, dest: Pool, name: str) -> None:
        """Remove ``name`` from ``dest`` through ONTAP, else (REST down,
        DELETE refused) through the mount without following links; a
        failure of both is logged, never raised (cleanup must not hide the
        first error)."""
        try:
            self.client.delete_file(dest.flexvol, name, missing_ok=True)
            return
        except exception.EicError as e:
            LOG.warning('ONTAP could not remove %(name)s from FlexVol '
                        '%(vol)s (%(err)s); removing it through the mount.',
                        {'name': name, 'vol': dest.flexvol.name, 'err': e})
        try:
            nofollow.unlink_in(dest.mount_dir, name)
        except (OSError, exception.EicError) as e:
            LOG.error('Could not remove %(name)s from FlexVol %(vol)s '
                      'through the mount either, it is left behind: '
                      '%(err)s', {'name': name, 'vol': dest.flexvol.name,
                                  'err': e})


def _changed(vol: ontap.FlexVol, source: Source) -> exception.EicError:
    return exception.NotRegularFile(path='%s:%s' % (vol.name, source.path),
                                    reason='it changed while it was copied')


def _source_of(step: planner.Step) -> Source:
    if step.source is None:
        raise exception.EicError(reason='step %s has no source' % step.path)
    return step.source
