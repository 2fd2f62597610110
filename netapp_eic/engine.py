# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Carries out EIC: gathers the facts for the planner and runs the steps.

:class:`Engine` is used by the driver; it owns no Cinder state. It reaches
ONTAP only through :class:`netapp_eic.client.OntapClient` and the pools'
files only through the driver's local NFS mounts. Each step cleans up what it
created before raising, so the next step (and finally Cinder's download)
starts from a clean FlexVol.
"""

import contextlib
import dataclasses
import os
import socket
import time

from cinder import coordination
from cinder.image import image_utils
from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import units

from netapp_eic import cache as eic_cache
from netapp_eic import client
from netapp_eic import exception
from netapp_eic import imagecheck
from netapp_eic import locations as eic_locations
from netapp_eic import planner
from netapp_eic.i18n import _
from netapp_eic.planner import Path

LOG = logging.getLogger(__name__)

RAW = 'raw'


@dataclasses.dataclass(frozen=True)
class Pool:
    """A pool (NFS share) resolved to its SVM, FlexVol and local mount."""

    share: str
    ip: str
    junction: str
    flexvol: object  # client.FlexVol
    mount_dir: str

    @property
    def cache(self) -> eic_cache.ImageCache:
        return eic_cache.ImageCache(self.mount_dir, self.flexvol.name)

    def local(self, name: str) -> str:
        return os.path.join(self.mount_dir, name)


@dataclasses.dataclass
class Outcome:
    """What a create did, for the INFO line, the demo and the tests."""

    path: Path
    seconds: float = 0.0
    host_bytes: int = 0
    note: str = ''
    skipped: list = dataclasses.field(default_factory=list)
    failures: list = dataclasses.field(default_factory=list)

    @property
    def cloned(self) -> bool:
        return self.path != Path.DOWNLOAD


class Engine:
    """EIC operations for one backend."""

    def __init__(self, driver, client, configuration):
        self.driver = driver
        self.client = client
        self.conf = configuration
        self.sleep = time.sleep  # tests may replace it

    # ------------------------------------------------------------ pools
    def pool(self, share: str) -> Pool:
        """Resolve a share string (``ip:/junction``) to its FlexVol."""
        host, junction = share.rsplit(':', 1)
        ip = _resolve_ip(host.strip('[]'))
        svm = self.client.svm_for_ip(ip)
        if svm is None:
            raise exception.LocationRejected(
                location=share, reason=_('%s is not a data LIF of this '
                                         'cluster') % ip)
        for vol in self.client.flexvols(svm):
            if vol.junction == junction:
                return Pool(share, ip, junction, vol,
                            self.driver._get_mount_point_for_share(share))
        raise exception.LocationRejected(
            location=share, reason=_('no FlexVol of SVM %(svm)s is mounted '
                                     'at %(j)s') % {'svm': svm, 'j': junction})

    def mounted_pools(self) -> list[Pool]:
        pools = []
        for share in getattr(self.driver, '_mounted_shares', None) or ():
            try:
                pools.append(self.pool(share))
            except exception.EicError as e:
                LOG.debug('Share %(share)s skipped: %(err)s',
                          {'share': share, 'err': e})
        return pools

    # ------------------------------------------------------------ facts
    def gather(self, volume, pool_share, image_location, image_meta):
        """Collect the planner's facts; reads only, changes nothing."""
        image_id = image_meta['id']
        base = dict(image_id=image_id, volume_id=volume['id'],
                    pool=pool_share)
        pools = self.mounted_pools()
        by_share = {p.share: p for p in pools}
        try:
            dest = by_share.get(pool_share) or self.pool(pool_share)
        except exception.EicError as e:
            return planner.Facts(dest_svm=None, dest_flexvol=None,
                                 dest_problem=str(e), **base), None
        facts = dict(base, dest_svm=dest.flexvol.svm,
                     dest_flexvol=dest.flexvol.name)
        facts.update(self._cache_facts(dest, image_meta))
        others = [p for p in pools if p.flexvol.uuid != dest.flexvol.uuid]
        facts.update(self._location_facts(dest, others, image_location,
                                          image_meta))
        facts['image_problem'] = self._image_problem(
            volume, image_meta, facts.pop('_local_files'))
        facts['remote_sources'] = tuple(
            self._remote_cache_sources(others, image_meta)) + \
            facts['remote_sources']
        facts.update(self._tool_facts(dest, facts['remote_sources']))
        return planner.Facts(**facts), dest

    def _cache_facts(self, dest, image_meta):
        if not self.conf.netapp_eic_cache_enabled:
            return {'cache_state': 'disabled',
                    'cache_reason': 'netapp_eic_cache_enabled is False'}
        found = dest.cache.lookup(image_meta['id'],
                                  eic_cache.content_id(image_meta))
        return {'cache_state': found.state, 'cache_reason': found.reason}

    def _location_facts(self, dest, others, image_location, image_meta):
        candidates, rejected = eic_locations.parse_image_locations(
            image_location, image_id=image_meta['id'])
        rejected = [(r.url, r.reason) for r in rejected]
        local, remote, local_files = None, [], []
        mounts = {p.flexvol.uuid: p for p in [dest] + others}
        for loc in candidates:
            try:
                resolved = self.client.resolve(loc.host, loc.export_path)
            except exception.EicError as e:
                rejected.append((loc.url, str(e)))
                continue
            source = planner.Source('image', resolved.flexvol.svm,
                                    resolved.flexvol.name, resolved.path,
                                    loc.host, loc.url)
            mounted = mounts.get(resolved.flexvol.uuid)
            if mounted is not None:
                local_files.append(mounted.local(resolved.path))
            if resolved.flexvol.uuid == dest.flexvol.uuid:
                local = local or source
            else:
                remote.append(source)
        return {'local_image': local, 'remote_sources': tuple(remote),
                'rejected_locations': tuple(rejected),
                '_local_files': local_files}

    def _image_problem(self, volume, image_meta, local_files):
        """Why the Glance file must not take a fast path, or None.

        Inspects the real file when one of this backend's mounts reaches it;
        otherwise the copy is inspected in the destination before use.
        """
        problem = self._declared_problem(image_meta)
        if problem or not local_files:
            return problem
        check = self._inspect(local_files[0], image_meta)
        if not check.ok:
            return check.reason
        too_big = check.virtual_size and (
            check.virtual_size > volume['size'] * units.Gi)
        if too_big:
            return 'image virtual size %d exceeds the volume size %d GiB' % (
                check.virtual_size, volume['size'])
        return None

    def _declared_problem(self, image_meta):
        disk_format = image_meta.get('disk_format')
        if disk_format not in (RAW, 'qcow2'):
            return 'disk_format %s is not supported by the fast paths' % (
                disk_format)
        if disk_format != RAW and not self._conversion_allowed():
            return 'image conversion is disabled and the image is %s' % (
                disk_format)
        return None

    def _conversion_allowed(self):
        return (self.conf.netapp_eic_convert_images and
                not image_utils.CONF.image_conversion_disable)

    def _inspect(self, path, image_meta):
        return imagecheck.inspect_image(
            path, image_meta.get('disk_format'),
            allow_conversion=self._conversion_allowed(),
            container_format=image_meta.get('container_format') or 'bare')

    def _remote_cache_sources(self, others, image_meta):
        if not self.conf.netapp_eic_cache_enabled:
            return
        content = eic_cache.content_id(image_meta)
        for pool in others:
            if pool.cache.lookup(image_meta['id'], content).state == 'fresh':
                yield planner.Source(
                    'cache', pool.flexvol.svm, pool.flexvol.name,
                    eic_cache.entry_name(image_meta['id']), pool.ip,
                    '%s/%s' % (pool.share,
                               eic_cache.entry_name(image_meta['id'])))

    def _tool_facts(self, dest, sources):
        tool = self.conf.netapp_copyoffload_tool_path
        if not tool or not sources:
            return {'tool_path': tool}
        svms = {dest.flexvol.svm} | {s.svm for s in sources}
        return {'tool_path': tool,
                'ontap_version': self.client.cluster_version(),
                'vstorage': tuple(sorted(
                    (svm, self.client.vstorage_enabled(svm)) for svm in svms))}

    # ------------------------------------------------------------ running
    def run(self, the_plan, volume, dest, image_meta, finish):
        """Try the planned steps in order; ``finish(path)`` completes the
        volume file (visibility, size, permissions, QoS)."""
        outcome = Outcome(Path.DOWNLOAD, skipped=[
            '%s: %s' % pair for pair in the_plan.skipped])
        for step in the_plan.steps:
            if step.path == Path.DOWNLOAD:
                return outcome
            try:
                self._run_step(step, volume, dest, image_meta, outcome)
                finish(dest)
            except Exception as e:
                self._discard_volume_file(dest, volume)
                reason = getattr(e, 'msg', None) or str(e) or repr(e)
                outcome.failures.append((step.path, reason))
                LOG.warning('EIC %(path)s failed for volume %(vol)s, falling '
                            'back to the next path: %(reason)s',
                            {'path': step.path, 'vol': volume['id'],
                             'reason': reason})
                continue
            outcome.path = step.path
            outcome.skipped = [
                '%s: %s' % (path, reason) for path, reason in the_plan.skipped
                if planner.faster(path, step.path)]
            return outcome
        return outcome

    def _run_step(self, step, volume, dest, image_meta, outcome):
        if step.path == Path.CACHE_CLONE:
            self._clone_from_cache(dest, volume, image_meta)
            return
        with self.lock(image_meta['id'], dest):
            found = dest.cache.lookup(image_meta['id'],
                                      eic_cache.content_id(image_meta))
            if self.conf.netapp_eic_cache_enabled and found.state == 'fresh':
                outcome.note = 'cache filled by a concurrent request'
                self._clone_from_cache(dest, volume, image_meta)
                return
            if found.state == 'stale':
                LOG.info('Removing stale cache entry: %s', found.reason)
                dest.cache.remove(image_meta['id'])
            raw_tmp = self._materialize(step, dest, image_meta, outcome)
            self._use_raw_file(dest, raw_tmp, volume, image_meta, step)

    def _clone_from_cache(self, dest, volume, image_meta):
        image_id = image_meta['id']
        found = dest.cache.lookup(image_id, eic_cache.content_id(image_meta))
        if found.state != 'fresh':
            raise exception.EicError(reason=found.reason)
        self.client.clone_file(dest.flexvol, eic_cache.entry_name(image_id),
                               volume['name'], overwrite=True)
        if found.legacy:
            dest.cache.adopt(image_id, eic_cache.content_id(image_meta))
        dest.cache.touch(image_id)

    def _use_raw_file(self, dest, raw_tmp, volume, image_meta, step):
        """Publish ``raw_tmp`` as the pool's cache entry (or, with the cache
        off, use it once) and clone it into the volume."""
        if not self.conf.netapp_eic_cache_enabled:
            try:
                self.client.clone_file(dest.flexvol, raw_tmp, volume['name'],
                                       overwrite=True)
            finally:
                self._delete(dest, raw_tmp)
            return
        now = time.time()
        record = eic_cache.Record(
            image_meta['id'], eic_cache.content_id(image_meta),
            image_meta.get('disk_format'),
            os.path.getsize(dest.local(raw_tmp)), now, now, str(step.path))
        try:
            dest.cache.publish(raw_tmp, record)
        except BaseException:
            self._delete(dest, raw_tmp)
            raise
        self._clone_from_cache(dest, volume, image_meta)

    def _materialize(self, step, dest, image_meta, outcome):
        """Produce a checked raw file in the destination FlexVol root under
        a temporary name; remove everything created on failure."""
        created = []
        try:
            if step.path == Path.DIRECT_CLONE:
                name = self._direct_source(step.source, dest, created,
                                           image_meta, outcome)
            else:
                name = self._copy_in(step, dest, created)
                if not step.source.is_cache:
                    name = self._checked_raw(dest, name, created,
                                             image_meta, outcome)
            created.remove(name)
            return name
        finally:
            for leftover in created:
                self._delete(dest, leftover)

    def _direct_source(self, source, dest, created, image_meta, outcome):
        if image_meta.get('disk_format') == RAW:
            tmp = eic_cache.temp_name('clone')
            created.append(tmp)
            self.client.clone_file(dest.flexvol, source.path, tmp)
            return tmp
        return self._convert(dest, dest.local(source.path), created,
                             image_meta, outcome)

    def _copy_in(self, step, dest, created):
        tmp = eic_cache.temp_name('copy')
        created.append(tmp)
        if step.path == Path.COPY_OFFLOAD:
            self._copy_with_tool(step.source, dest, tmp)
        else:
            self._file_copy(step.source, dest, tmp)
        self.wait_visible(dest.local(tmp))
        return tmp

    def _file_copy(self, source, dest, tmp):
        src = client.ResolvedPath(self._flexvol(source.svm, source.flexvol),
                                  source.path)
        dst = client.ResolvedPath(dest.flexvol, tmp)
        job = self.client.start_copy(
            src, dst, self.conf.netapp_eic_file_copy_return_timeout)
        if job is None:
            return
        try:
            self.client.wait_job(
                job, self.conf.netapp_eic_file_copy_timeout,
                self.conf.netapp_eic_poll_initial_interval,
                self.conf.netapp_eic_poll_max_interval)
        except BaseException:
            with excutils.save_and_reraise_exception():
                self._cancel(job)

    def _cancel(self, job):
        """Cancel a File Copy job; a failure to cancel is logged, and the
        original error is the one raised."""
        try:
            self.client.cancel_job(job)
        except exception.EicError as e:
            LOG.warning('Could not cancel ONTAP job %(job)s: %(err)s',
                        {'job': job, 'err': e})

    def _copy_with_tool(self, source, dest, tmp):
        junction = self._flexvol(source.svm, source.flexvol).junction
        src_path = '%s/%s' % (junction.rstrip('/'), source.path)
        dst_path = '%s/%s' % (dest.junction.rstrip('/'), tmp)
        self.driver._execute(self.conf.netapp_copyoffload_tool_path,
                             source.ip, dest.ip, src_path, dst_path,
                             run_as_root=False, check_exit_code=0)

    def _checked_raw(self, dest, name, created, image_meta, outcome):
        """The copied image file if it is a safe raw image, else its
        conversion (which refuses an unsafe image)."""
        check = self._inspect(dest.local(name), image_meta)
        if check.ok and check.detected_format == RAW:
            return name
        return self._convert(dest, dest.local(name), created, image_meta,
                             outcome, check)

    def _convert(self, dest, src_path, created, image_meta, outcome,
                 check=None):
        """qemu-img convert on this host, once per (image, pool); ``check``
        is the source's inspection when the caller already made it."""
        check = check or self._inspect(src_path, image_meta)
        if not check.ok:
            raise exception.ImageUnsafe(image_id=image_meta['id'],
                                        reason=check.reason)
        tmp = eic_cache.temp_name('convert')
        created.append(tmp)
        image_utils.convert_image(src_path, dest.local(tmp), RAW,
                                  src_format=check.detected_format,
                                  run_as_root=self.driver._execute_as_root)
        outcome.host_bytes += os.path.getsize(src_path)
        result = imagecheck.inspect_image(dest.local(tmp), RAW)
        if not result.ok:
            raise exception.ImageUnsafe(image_id=image_meta['id'],
                                        reason=result.reason)
        return tmp

    # ------------------------------------------------------------ helpers
    def _flexvol(self, svm, name):
        for vol in self.client.flexvols(svm):
            if vol.name == name:
                return vol
        raise exception.EicError(reason=_('FlexVol %(vol)s of SVM %(svm)s '
                                          'not found') % {'vol': name,
                                                          'svm': svm})

    @contextlib.contextmanager
    def lock(self, image_id, dest):
        """Single-flight for a cold miss of one image in one FlexVol.

        A tooz lock through Cinder's coordinator (so it holds across hosts
        with a DLM ``backend_url``) when it runs, else a process lock.
        """
        name = 'netapp-eic-%s-%s' % (image_id, dest.flexvol.uuid)
        if getattr(coordination.COORDINATOR, 'coordinator', None):
            with coordination.COORDINATOR.get_lock(name):
                yield
        else:
            with lockutils.lock(name):
                yield

    def wait_visible(self, path):
        """Bounded wait for a file created through ONTAP to show on the
        NFS mount, touching the parent directory to refresh the client's
        attribute cache; the first check is immediate."""
        timeout = self.conf.netapp_eic_visibility_timeout
        deadline = time.monotonic() + timeout
        delay = 0.01
        while not os.path.exists(path):
            if time.monotonic() >= deadline:
                raise exception.NotVisible(path=path, timeout=timeout)
            with contextlib.suppress(OSError):
                os.utime(os.path.dirname(path))
            self.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _delete(self, dest, name):
        try:
            self.client.delete_file(dest.flexvol, name, missing_ok=True)
        except exception.EicError as e:
            LOG.warning('Could not remove %(name)s from FlexVol %(vol)s: '
                        '%(err)s', {'name': name, 'vol': dest.flexvol.name,
                                    'err': e})

    def _discard_volume_file(self, dest, volume):
        if os.path.lexists(dest.local(volume['name'])):
            self._delete(dest, volume['name'])

    def sweep_temporaries(self, max_age):
        """Remove ``.eic-tmp-*`` files older than ``max_age`` seconds from
        every mounted pool: what a cinder-volume that died mid-create left.
        Younger ones may belong to a create in progress on any host."""
        removed = []
        cutoff = time.time() - max_age
        for pool in self.mounted_pools():
            for name in os.listdir(pool.mount_dir):
                if not name.startswith(eic_cache.TEMP_PREFIX):
                    continue
                try:
                    old = os.lstat(pool.local(name)).st_mtime < cutoff
                except FileNotFoundError:
                    continue
                if old:
                    LOG.info('Removing stale temporary file %(name)s from '
                             'FlexVol %(vol)s.',
                             {'name': name, 'vol': pool.flexvol.name})
                    self._delete(pool, name)
                    removed.append(name)
        return removed

    def register(self, volume, pool_share, image_meta):
        """Publish a downloaded volume's image as the pool's cache entry,
        at the image's virtual size (never the volume's)."""
        image_id = image_meta['id']
        content = eic_cache.content_id(image_meta)
        virtual_size = image_meta.get('virtual_size')
        if not content or not virtual_size:
            return 'Glance reports no checksum or virtual size'
        dest = self.pool(pool_share)
        with self.lock(image_id, dest):
            found = dest.cache.lookup(image_id, content)
            if found.state == 'fresh':
                return 'entry already present'
            if found.state == 'stale':
                dest.cache.remove(image_id)
            tmp = eic_cache.temp_name('register')
            try:
                self.client.clone_file(dest.flexvol, volume['name'], tmp)
                self.wait_visible(dest.local(tmp))
                if os.path.getsize(dest.local(tmp)) < virtual_size:
                    raise exception.EicError(reason=_(
                        'volume smaller than the image virtual size'))
                os.truncate(dest.local(tmp), virtual_size)
                now = time.time()
                dest.cache.publish(tmp, eic_cache.Record(
                    image_id, content, image_meta.get('disk_format'),
                    virtual_size, now, now, str(Path.DOWNLOAD)))
            except BaseException:
                self._delete(dest, tmp)
                raise
        return None


def _resolve_ip(host):
    try:
        return socket.getaddrinfo(host, None)[0][4][0]
    except socket.gaierror as e:
        raise exception.LocationRejected(location=host,
                                         reason=str(e)) from e
