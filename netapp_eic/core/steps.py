# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Run a plan's steps: build under single-flight, clone in parallel, finish.

:class:`StepRunner` tries the planned steps in order. A cache clone is a
file clone of the pool's entry under a reader's lease. Every other step
takes the single-flight build lock of (image, FlexVol), rechecks the cache
(another request, maybe on another host, may have built the entry
meanwhile), builds a checked raw file (:mod:`netapp_eic.core.materialize`)
and publishes it as the pool's entry; the lock is released before the
volume is cloned from the entry, so the requests that waited clone in
parallel. The volume file is then checked on the mount and given its final
size. A failed step removes what it created and the next one is tried; the
download is Cinder's. The outcome names the path that actually made the
volume.
"""

import dataclasses
import os
import time

from oslo_log import log as logging

from netapp_eic.core import cachemanager
from netapp_eic.core.context import Context
from netapp_eic.core import facts
from netapp_eic.core import failure
from netapp_eic.core import nofollow
from netapp_eic.core import materialize
from netapp_eic.core import planner
from netapp_eic.core.pools import Pool
from netapp_eic.core import records
from netapp_eic.core import sourcecheck
from netapp_eic.core.types import (CacheState, CreateRequest, ImageMeta,
                                   Outcome, Route, Registration, faster,
                                   image_id_of)
from netapp_eic.core import visibility
from netapp_eic import exception
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)


def _entry_source(dest: Pool, image_id: str) -> str:
    return 'cache entry %s in FlexVol %s' % (records.entry_name(image_id),
                                             dest.flexvol.name)


@dataclasses.dataclass(frozen=True)
class _Made:
    """How a step made the volume (or the entry): the path that did, the
    raw file it built (None for a clone of the entry), or the entry's
    description when the volume was cloned from it."""

    path: Route
    raw: materialize.RawFile | None = None
    source: str = ''
    note: str = ''
    waited: bool = False

    def outcome(self, skipped: tuple[str, ...],
                failures: tuple[tuple[str, str], ...],
                volume_file: str | None) -> Outcome:
        raw = self.raw or materialize.RawFile('', False)
        return Outcome(self.path, host_bytes=raw.host_bytes, note=self.note,
                       skipped=skipped, failures=failures,
                       volume_file=volume_file,
                       source=raw.source or self.source,
                       converted_from=raw.converted_from,
                       verified=raw.verified_by, waited=self.waited)


class StepRunner:
    """Carries out a plan for one backend."""

    def __init__(self, ctx: Context, cache: cachemanager.CacheManager,
                 materializer: materialize.Materializer) -> None:
        self.ctx = ctx
        self.materializer = materializer
        self.cache = cache

    def run(self, plan: planner.Plan, request: CreateRequest,
            dest: Pool) -> Outcome:
        """Try the planned steps in order until one makes the volume.

        The outcome names the path that actually made the volume, with a
        note only from that attempt; a failed attempt leaves a failure and
        nothing else. A source refused once (a link, changed bytes) is not
        tried again by a later step.
        """
        skipped = ['%s: %s' % pair for pair in plan.skipped]
        failures: list[tuple[str, str]] = []
        refused: dict[str, str] = {}
        held_off: list[str] = []
        for step in plan.steps:
            if step.path is Route.DOWNLOAD:
                break
            label = step.source.label if step.source else None
            if label in refused:
                skipped.append('%s: %s' % (step.path, refused[label]))
                continue
            try:
                made = self._run_step(step, request, dest)
                volume_file = self._finish(request, dest)
            except exception.StepSkipped as e:
                # Its means is held off (the tool's breaker opened, maybe
                # while this request waited for the build lock): not a
                # failure of this request, said with the skipped paths.
                self.discard(dest, request.volume_name)
                held_off.append('%s: %s' % (step.path, e.msg))
                skipped.append(held_off[-1])
                continue
            except Exception as e:
                self.discard(dest, request.volume_name)
                reason = failure.reason_of(e)
                failures.append((str(step.path), reason))
                failure.log_step_failure(e, step.path, request.volume_id,
                                         reason)
                if isinstance(e, exception.OntapApiError):
                    self.ctx.client.invalidate()
                if label and failure.refuses_source(e):
                    refused[label] = 'source already refused: %s' % reason
                continue
            faster_skipped = ['%s: %s' % (path, reason)
                              for path, reason in plan.skipped
                              if faster(path, made.path)]
            return made.outcome(tuple(faster_skipped + held_off),
                                tuple(failures), volume_file)
        return Outcome(Route.DOWNLOAD, skipped=tuple(skipped),
                       failures=tuple(failures))

    def _run_step(self, step: planner.Step, request: CreateRequest,
                  dest: Pool) -> '_Made':
        """Carry out ``step``; returns the path that made the volume and
        how (another request had built the entry, what the raw file
        was made from)."""
        entry = _entry_source(dest, request.image_id)
        if step.path is Route.CACHE_CLONE:
            if step.adopt:
                with self.cache.building(dest, request.image_id):
                    why = self.cache.adopt(dest, request.image_meta)
                if why:
                    raise exception.EicError(reason=why)
            self._clone_from_cache(dest, request)
            return _Made(Route.CACHE_CLONE, source=entry)
        if not step.into_cache:
            raw = self._clone_once(step, request, dest)
            return _Made(step.path, raw)
        with self.cache.building(dest, request.image_id):
            waited = self._usable_entry(dest, request.image_meta)
            if not waited:
                raw = self.materializer.raw_file(step, dest, request)
                self._publish(dest, raw.name, request.image_meta,
                              nofollow.size_of(dest.local(raw.name),
                                               dest.mount_dir),
                              step.path, raw.verified, raw.verified_by)
        self._clone_from_cache(dest, request)
        if not waited:
            return _Made(step.path, raw)
        return _Made(Route.CACHE_CLONE, source=entry, waited=True,
                     note='entry filled by a concurrent request, %s not '
                          'needed' % step.path)

    def warm(self, plan: planner.Plan, request: CreateRequest,
             dest: Pool) -> Outcome:
        """Build ``dest``'s cache entry by the first planned step that
        works, as a create would (single-flight, checks, verification),
        without making a volume. ``Outcome.path`` is ``CACHE_CLONE`` when
        the entry was there already, ``DOWNLOAD`` when no step could build
        it."""
        skipped = ['%s: %s' % pair for pair in plan.skipped]
        failures: list[tuple[str, str]] = []
        for step in plan.steps:
            if step.path is Route.DOWNLOAD:
                break
            try:
                with self.cache.building(dest, request.image_id):
                    if self._usable_entry(dest, request.image_meta):
                        return Outcome(Route.CACHE_CLONE,
                                       skipped=tuple(skipped),
                                       failures=tuple(failures))
                    if step.path is Route.CACHE_CLONE:
                        continue
                    raw = self.materializer.raw_file(step, dest, request)
                    self._publish(dest, raw.name, request.image_meta,
                                  nofollow.size_of(dest.local(raw.name),
                                                   dest.mount_dir),
                                  step.path, raw.verified, raw.verified_by)
            except exception.StepSkipped as e:
                skipped.append('%s: %s' % (step.path, e.msg))
                continue
            except Exception as e:
                reason = failure.reason_of(e)
                failures.append((str(step.path), reason))
                failure.log_step_failure(e, step.path, request.volume_id,
                                         reason)
                continue
            return _Made(step.path, raw).outcome(
                tuple(skipped), tuple(failures), None)
        return Outcome(Route.DOWNLOAD, skipped=tuple(skipped),
                       failures=tuple(failures))

    def _usable_entry(self, dest: Pool, image_meta: ImageMeta) -> bool:
        """Under the build lock: whether a fresh entry exists now (after
        adopting a checked legacy one, or removing an unusable one)."""
        image_id = image_id_of(image_meta)
        found = self.cache.lookup(dest, image_meta)
        if found.state is CacheState.LEGACY:
            return self.cache.adopt(dest, image_meta) is None
        problem = (facts.entry_problem(dest, image_id)
                   if found.state is CacheState.FRESH else None)
        if problem or found.state is CacheState.STALE:
            self.cache.replace(dest, image_id, problem or found.reason)
            return False
        return found.state is CacheState.FRESH

    def _clone_from_cache(self, dest: Pool, request: CreateRequest) -> None:
        """Clone the entry into the volume under a reader's lease, after
        checking it is a regular file as ONTAP and the mount see it."""
        entry = records.entry_name(request.image_id)
        with self.cache.reading(dest, request.image_meta):
            sourcecheck.require_regular(self.ctx.client, dest.flexvol, entry,
                                        dest.mount_dir)
            self.ctx.client.clone_file(dest.flexvol, entry,
                                       request.volume_name, overwrite=True)

    def _clone_once(self, step: planner.Step, request: CreateRequest,
                    dest: Pool) -> materialize.RawFile:
        """With the cache off: build the raw file, clone it, remove it."""
        raw = self.materializer.raw_file(step, dest, request)
        try:
            self.ctx.client.clone_file(dest.flexvol, raw.name,
                                       request.volume_name, overwrite=True)
        finally:
            self.materializer.delete(dest, raw.name)
        return raw

    def _publish(self, dest: Pool, tmp: str, image_meta: ImageMeta,
                 size: int, built_by: Route, verified: bool,
                 verified_by: str) -> None:
        now = time.time()
        record = records.Record(
            image_id_of(image_meta), records.content_id(image_meta),
            str(image_meta.get('disk_format')), size, now, now,
            str(built_by), verified, verified_by)
        try:
            self.cache.publish(dest, tmp, record)
        except BaseException:
            self.materializer.delete(dest, tmp)
            raise

    def _finish(self, request: CreateRequest, dest: Pool) -> str:
        """Check the new volume file on the mount, through a descriptor
        that follows no link (the clone's answer already said ONTAP made
        it), and give it its final size; returns its local path."""
        path = dest.local(request.volume_name)
        visibility.wait_visible(path, self.ctx.settings.visibility_timeout)
        with nofollow.open_regular(path, dest.mount_dir, write=True) as volume:
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
            self.materializer.delete(dest, volume_name)

    def register(self, volume_name: str, dest: Pool, image_meta: ImageMeta,
                 image_size: int) -> tuple[Registration, str]:
        """Publish a downloaded volume's first ``image_size`` bytes (the
        image's real virtual size) as ``dest``'s cache entry. Cinder
        checked the downloaded bytes against Glance's hash."""
        image_id = image_id_of(image_meta)
        with self.cache.building(dest, image_id):
            if self._usable_entry(dest, image_meta):
                return Registration.ALREADY_PRESENT, 'entry already present'
            tmp = materialize.temp_for('register', image_id)
            try:
                self.ctx.client.clone_file(dest.flexvol, volume_name, tmp)
                visibility.wait_visible(dest.local(tmp),
                                        self.ctx.settings.visibility_timeout)
                with nofollow.open_regular(dest.local(tmp), dest.mount_dir,
                                           write=True) as made:
                    if os.fstat(made.fileno()).st_size < image_size:
                        raise exception.EicError(reason=_(
                            'volume smaller than the image'))
                    os.ftruncate(made.fileno(), image_size)
            except BaseException:
                self.materializer.delete(dest, tmp)
                raise
            self._publish(dest, tmp, image_meta, image_size, Route.DOWNLOAD,
                          verified=True, verified_by=(
                              "Cinder's download, against Glance's hash"))
        return Registration.REGISTERED, ''
