# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Produce a checked raw image file in the destination FlexVol.

Each planned step other than the cache clone ends in the same place: a raw
file holding the image's bytes, under a temporary name in the destination
FlexVol's root, ready to become the pool's cache entry. This module gets it
there by the step's means: a file clone of the Glance file (direct clone),
ONTAP File Copy or the copy offload tool from another FlexVol, and
``qemu-img convert`` on this host for a non-raw image. Everything it
creates is removed again when it fails.
"""

import os

from oslo_log import log as logging
from oslo_utils import excutils

from netapp_eic import ontap
from netapp_eic.ontap import progress
from netapp_eic.core import cache
from netapp_eic.core.context import Context
from netapp_eic.core import facts as facts_mod
from netapp_eic.core import imagecheck
from netapp_eic.core import planner
from netapp_eic.core import visibility
from netapp_eic.core.pools import Pool
from netapp_eic.core.types import CreateRequest, Outcome, Path
from netapp_eic.core.types import Source
from netapp_eic import exception

LOG = logging.getLogger(__name__)

RAW = 'raw'


class Materializer:
    """Builds the raw temporary file a step starts from."""

    def __init__(self, ctx: Context) -> None:
        self.client = ctx.client
        self.host = ctx.host
        self.pools = ctx.pools
        self.settings = ctx.settings

    def raw_file(self, step: planner.Step, dest: Pool,
                 request: CreateRequest, outcome: Outcome) -> str:
        """The name (in ``dest``'s root) of a checked raw file holding the
        image; everything created is removed on failure."""
        created: list[str] = []
        source = _source_of(step)
        outcome.source = source.describe()
        try:
            if step.path is Path.DIRECT_CLONE:
                name = self._direct(source, dest, created, request, outcome)
            else:
                name = self._copy_in(step.path, source, dest, created)
                if not source.is_cache:
                    name = self._checked_raw(dest, name, created, request,
                                             outcome)
            created.remove(name)
            return name
        finally:
            for leftover in created:
                self.delete(dest, leftover)

    def _direct(self, source: Source, dest: Pool, created: list[str],
                request: CreateRequest, outcome: Outcome) -> str:
        if request.image_meta.get('disk_format') == RAW:
            tmp = cache.temp_name('clone')
            created.append(tmp)
            self.client.clone_file(dest.flexvol, source.path, tmp)
            return tmp
        return self._convert(dest, dest.local(source.path), created, request,
                             outcome)

    def _copy_in(self, path: Path, source: Source, dest: Pool,
                 created: list[str]) -> str:
        tmp = cache.temp_name('copy')
        created.append(tmp)
        if path is Path.COPY_OFFLOAD:
            self._copy_with_tool(source, dest, tmp)
        else:
            self._file_copy(source, dest, tmp)
        visibility.wait_visible(dest.local(tmp),
                                self.settings.visibility_timeout)
        return tmp

    def _file_copy(self, source: Source, dest: Pool, tmp: str) -> None:
        src = ontap.ResolvedPath(self.pools.flexvol(source.svm,
                                                    source.flexvol),
                                 source.path)
        dst = ontap.ResolvedPath(dest.flexvol, tmp)
        job = self.client.start_copy(
            src, dst, self.settings.file_copy_return_timeout)
        if job is None:
            return
        watch = progress.FileCopyProgress(
            self.client, dst, lambda: self._size(src),
            'File Copy of %s to FlexVol %s' % (source.describe(),
                                               dest.flexvol.name))
        try:
            self.client.wait_job(job, self.settings.file_copy_timeout,
                                 self.settings.poll_initial_interval,
                                 self.settings.poll_max_interval,
                                 on_poll=watch)
        except BaseException:
            with excutils.save_and_reraise_exception():
                self._cancel(job)

    def _cancel(self, job: str) -> None:
        """Cancel a File Copy job; a failure to cancel is logged, and the
        original error is the one raised."""
        try:
            self.client.cancel_job(job)
        except exception.EicError as e:
            LOG.warning('Could not cancel ONTAP job %(job)s: %(err)s',
                        {'job': job, 'err': e})

    def _copy_with_tool(self, source: Source, dest: Pool, tmp: str) -> None:
        junction = self.pools.flexvol(source.svm, source.flexvol).junction
        src_path = '%s/%s' % ((junction or '').rstrip('/'), source.path)
        dst_path = '%s/%s' % (dest.junction.rstrip('/'), tmp)
        tool = self.settings.copyoffload_tool_path or ''
        src = ontap.ResolvedPath(self.pools.flexvol(source.svm,
                                                    source.flexvol),
                                 source.path)
        with progress.watching_file(
                dest.local(tmp), lambda: self._size(src),
                'Copy offload of %s to FlexVol %s' % (source.describe(),
                                                      dest.flexvol.name)):
            self.host.run([tool, source.ip, dest.ip, src_path, dst_path])

    def _size(self, where: ontap.ResolvedPath) -> int | None:
        """A file's size through ONTAP (progress reports' total)."""
        info = self.client.file_info(where.flexvol, where.path)
        return None if info is None else info.size

    def _checked_raw(self, dest: Pool, name: str, created: list[str],
                     request: CreateRequest, outcome: Outcome) -> str:
        """The copied image file if it is a safe raw image, else its
        conversion (which refuses an unsafe image)."""
        check = facts_mod.inspect(dest.local(name), request.image_meta,
                                  self.settings)
        if check.ok and check.detected_format == RAW:
            return name
        return self._convert(dest, dest.local(name), created, request,
                             outcome, check)

    def _convert(self, dest: Pool, src_path: str, created: list[str],
                 request: CreateRequest, outcome: Outcome,
                 check: imagecheck.ImageCheck | None = None) -> str:
        """qemu-img convert on this host, once per (image, pool); ``check``
        is the source's inspection when the caller already made it."""
        check = check or facts_mod.inspect(src_path, request.image_meta,
                                           self.settings)
        if not check.ok or not check.detected_format:
            raise exception.ImageUnsafe(image_id=request.image_id,
                                        reason=check.reason)
        tmp = cache.temp_name('convert')
        created.append(tmp)
        self.host.convert_image(src_path, dest.local(tmp),
                                check.detected_format)
        outcome.host_bytes += os.path.getsize(src_path)
        outcome.converted_from = check.detected_format
        result = imagecheck.inspect_image(dest.local(tmp), RAW)
        if not result.ok:
            raise exception.ImageUnsafe(image_id=request.image_id,
                                        reason=result.reason)
        return tmp

    def delete(self, dest: Pool, name: str) -> None:
        """Remove ``name`` from ``dest`` through ONTAP; a failure is
        logged, never raised (cleanup must not hide the first error)."""
        try:
            self.client.delete_file(dest.flexvol, name, missing_ok=True)
        except exception.EicError as e:
            LOG.warning('Could not remove %(name)s from FlexVol %(vol)s: '
                        '%(err)s', {'name': name, 'vol': dest.flexvol.name,
                                    'err': e})


def _source_of(step: planner.Step) -> Source:
    if step.source is None:
        raise exception.EicError(reason='step %s has no source' % step.path)
    return step.source
