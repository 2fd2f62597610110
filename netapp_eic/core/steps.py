# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Run a plan's steps: single-flight, publish to the cache, clone, finish.

:class:`StepRunner` tries the planned steps in order. The cache clone is a
file clone of the pool's entry. Every other step runs under the
single-flight lock of (image, FlexVol): it rechecks the cache (another
request may have filled it), builds a raw file
(:mod:`netapp_eic.core.materialize`), publishes it as the pool's cache
entry and clones the volume from it. The volume file is then checked on
the mount and given its final size. A failed step removes what it created
and the next one is tried; the download is Cinder's.
"""

import os
import time

from oslo_log import log as logging

from netapp_eic.core import cache
from netapp_eic.core.context import Context
from netapp_eic.core import facts
from netapp_eic.core import failure
from netapp_eic.core import files
from netapp_eic.core import materialize
from netapp_eic.core import planner
from netapp_eic.core import visibility
from netapp_eic.core.pools import Pool
from netapp_eic.core import trust
from netapp_eic.core.types import (CacheState, CreateRequest, ImageMeta,
                                   Outcome, Path, Registration, faster)
from netapp_eic import exception
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)


def lock_name(image_id: str, dest: Pool) -> str:
    """The single-flight lock of one image in one FlexVol."""
    return 'netapp-eic-%s-%s' % (image_id, dest.flexvol.uuid)


class StepRunner:
    """Carries out a plan for one backend."""

    def __init__(self, ctx: Context) -> None:
        self.client = ctx.client
        self.host = ctx.host
        self.settings = ctx.settings
        self.make = materialize.Materializer(ctx)

    def run(self, the_plan: planner.Plan, request: CreateRequest,
            dest: Pool) -> Outcome:
        """Try the planned steps in order until one makes the volume.

        The outcome names the path that actually made the volume, with a
        note only from that attempt; a failed attempt leaves a failure and
        nothing else.
        """
        outcome = Outcome(Path.DOWNLOAD, skipped=[
            '%s: %s' % pair for pair in the_plan.skipped])
        refused: dict[str, str] = {}
        for step in the_plan.steps:
            if step.path is Path.DOWNLOAD:
                return outcome
            label = step.source.label if step.source else None
            if label in refused:
                outcome.skipped.append('%s: %s' % (step.path,
                                                   refused[label]))
                continue
            try:
                taken, note = self._run_step(step, request, dest, outcome)
                outcome.volume_file = self._finish(request, dest)
            except Exception as e:
                self.discard(dest, request.volume_name)
                reason = failure.reason_of(e)
                outcome.failures.append((str(step.path), reason))
                failure.log_step_failure(e, step.path, request.volume_id,
                                         reason)
                if isinstance(e, exception.OntapApiError):
                    self.client.invalidate()
                if label and failure.refuses_source(e):
                    refused[label] = 'source already refused: %s' % reason
                continue
            outcome.path, outcome.note = taken, note
            outcome.skipped = [
                '%s: %s' % (path, reason) for path, reason in the_plan.skipped
                if faster(path, taken)]
            return outcome
        return outcome

    def _run_step(self, step: planner.Step, request: CreateRequest,
                  dest: Pool, outcome: Outcome) -> tuple[Path, str]:
        """Carry out ``step``; returns the path that made the volume and a
        note on how (a concurrent request's entry was cloned)."""
        if step.path is Path.CACHE_CLONE:
            self._clone_from_cache(dest, request)
            return Path.CACHE_CLONE, ''
        with self.host.lock(lock_name(request.image_id, dest)):
            found = dest.cache.lookup(request.image_id,
                                      cache.content_id(request.image_meta))
            problem = (facts.entry_problem(dest, request.image_id)
                       if found.state is CacheState.FRESH else None)
            if problem:
                LOG.warning('Removing cache entry: %s', problem)
                dest.cache.remove(request.image_id)
            elif (self.settings.cache_enabled and
                    found.state is CacheState.FRESH):
                self._clone_from_cache(dest, request)
                return (Path.CACHE_CLONE,
                        'entry filled by a concurrent request, %s not needed'
                        % step.path)
            if found.state is CacheState.STALE:
                LOG.info('Removing stale cache entry: %s', found.reason)
                dest.cache.remove(request.image_id)
            raw = self.make.raw_file(step, dest, request, outcome)
            self._use_raw_file(dest, raw, request, step.path)
        return step.path, ''

    def _clone_from_cache(self, dest: Pool, request: CreateRequest) -> None:
        image_id = request.image_id
        content = cache.content_id(request.image_meta)
        found = dest.cache.lookup(image_id, content)
        if found.state is not CacheState.FRESH:
            raise exception.EicError(reason=found.reason)
        trust.require_regular(self.client, dest.flexvol,
                              cache.entry_name(image_id), dest.mount_dir)
        self.client.clone_file(dest.flexvol, cache.entry_name(image_id),
                               request.volume_name, overwrite=True)
        if found.legacy and content:
            dest.cache.adopt(image_id, content)
        dest.cache.touch(image_id)

    def _use_raw_file(self, dest: Pool, raw: materialize.RawFile,
                      request: CreateRequest, built_by: Path) -> None:
        """Publish ``raw`` as the pool's cache entry (or, with the cache
        off, use it once) and clone it into the volume."""
        raw_tmp = raw.name
        if not self.settings.cache_enabled:
            try:
                self.client.clone_file(dest.flexvol, raw_tmp,
                                       request.volume_name, overwrite=True)
            finally:
                self.make.delete(dest, raw_tmp)
            return
        self._publish(dest, raw_tmp, request.image_meta,
                      files.size_of(dest.local(raw_tmp), dest.mount_dir),
                      built_by, verified=raw.verified)
        self._clone_from_cache(dest, request)

    def _publish(self, dest: Pool, tmp: str,
                 image_meta: ImageMeta,
                 virtual_size: int, built_by: Path,
                 verified: bool = False) -> None:
        # TODO(lead, issue 8): Record(..., verified=verified).
        now = time.time()
        record = cache.Record(
            str(image_meta['id']), cache.content_id(image_meta) or '',
            str(image_meta.get('disk_format')), virtual_size, now, now,
            str(built_by))
        try:
            dest.cache.publish(tmp, record)
        except BaseException:
            self.make.delete(dest, tmp)
            raise

    def _finish(self, request: CreateRequest, dest: Pool) -> str:
        """Check the new volume file through ONTAP and on the mount and
        give it its final size; returns its local path."""
        if self.client.file_info(dest.flexvol, request.volume_name) is None:
            raise exception.EicError(reason=_(
                'ONTAP does not report the cloned file %s') %
                request.volume_name)
        path = dest.local(request.volume_name)
        visibility.wait_visible(path, self.settings.visibility_timeout)
        with files.open_regular(path, dest.mount_dir, write=True) as volume:
            current = os.fstat(volume.fileno()).st_size
            if current > request.size_bytes:
                raise exception.EicError(reason=_(
                    'image virtual size %(img)d exceeds the volume size '
                    '%(vol)d') % {'img': current, 'vol': request.size_bytes})
            if current < request.size_bytes:
                os.ftruncate(volume.fileno(), request.size_bytes)
        return path

    def discard(self, dest: Pool, volume_name: str) -> None:
        """Remove a volume file a failed attempt left in ``dest``."""
        if os.path.lexists(dest.local(volume_name)):
            self.make.delete(dest, volume_name)

    def register(self, volume_name: str, dest: Pool,
                 image_meta: ImageMeta) -> tuple[Registration, str]:
        """Publish a downloaded volume's image as ``dest``'s cache entry,
        at the image's virtual size (never the volume's).

        :returns: what was done, and why when nothing was.
        """
        image_id = str(image_meta['id'])
        content = cache.content_id(image_meta)
        virtual_size = image_meta.get('virtual_size')
        if not content or not virtual_size:
            return (Registration.SKIPPED,
                    'Glance reports no checksum or virtual size')
        with self.host.lock(lock_name(image_id, dest)):
            found = dest.cache.lookup(image_id, content)
            if found.state is CacheState.FRESH:
                return Registration.ALREADY_PRESENT, 'entry already present'
            if found.state is CacheState.STALE:
                dest.cache.remove(image_id)
            tmp = cache.temp_name('register')
            try:
                self.client.clone_file(dest.flexvol, volume_name, tmp)
                visibility.wait_visible(dest.local(tmp),
                                        self.settings.visibility_timeout)
                if os.path.getsize(dest.local(tmp)) < virtual_size:
                    raise exception.EicError(reason=_(
                        'volume smaller than the image virtual size'))
                os.truncate(dest.local(tmp), virtual_size)
            except BaseException:
                self.make.delete(dest, tmp)
                raise
            self._publish(dest, tmp, image_meta, int(virtual_size),
                          Path.DOWNLOAD)
        return Registration.REGISTERED, ''
