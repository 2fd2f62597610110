# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The peer benchmark's stack: contenders, one create as Cinder runs it, and
the checks that make a wrong fast path fail instead of looking fast.

A *contender* is one configured driver on its own FlexVols with the Glance
stores an operator would give it (see ``bench_peer``'s docstring). Every
create is timed as Cinder's create flow runs it (``clone_image``, and when it
declines, ``create_volume`` + ``copy_image_to_volume``), then checked: the
path taken, the volume file's size and a digest of its image part, and the
REST calls it made (the simulator's request log, cleared before each
create).
"""

import contextlib
import copy
import dataclasses
import hashlib
import logging
import math
import os
import threading
import time

from oslo_utils import units

from netapp_eic.core import cache as eic_cache
from netapp_eic.core import verifications
from netapp_eic.core.types import CreateRequest, Route
from netapp_eic.simulator import topology as topology_mod
from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import outcomes as outcomes_mod

EIC = 'netapp-eic'
#: netapp-eic with the README's minimal stanza (no netapp_eic_image_shares).
EIC_MIN = 'netapp-eic minimal'
INTREE = 'in-tree'
INTREE_TOOL = 'in-tree + tool'

EIC_SHARES = ('127.0.0.1:/vol_cinder_a', '127.0.0.1:/vol_cinder_b')
EIC_MIN_SHARES = ('127.0.0.1:/vol_eicmin_a', '127.0.0.1:/vol_eicmin_b')
INTREE_SHARES = ('127.0.0.1:/vol_intree_a', '127.0.0.1:/vol_intree_b')
GLANCE_FLEXVOL = 'vol_glance'

COPY_POSTS = (('POST', '/api/storage/file/copy'),
              ('POST', '/_sim/copyoffload'))
CLONE_POST = ('POST', '/api/storage/file/clone')

_CHUNK = units.Mi
_ZERO = bytes(_CHUNK)


class BenchError(Exception):
    """A driver took an unexpected path, or produced wrong bytes."""


def topology():
    """The simulator's default topology plus the in-tree driver's pools."""
    topo = copy.deepcopy(topology_mod.DEFAULT_TOPOLOGY)
    topo['svms'][0]['volumes'] += [{'name': 'vol_intree_a'},
                                   {'name': 'vol_intree_b'},
                                   {'name': 'vol_eicmin_a'},
                                   {'name': 'vol_eicmin_b'}]
    return topo


@dataclasses.dataclass
class Sample:
    """One measurement: a create, a storm or a bare reference."""

    seconds: float
    rest_calls: int = 0
    copies: int = 0
    path: str = ''


class DriverLog(logging.Handler):
    """Keeps the in-tree driver's INFO and higher lines (it says which path
    it tried and why one failed only there); nothing is printed. INFO, as a
    production cinder-volume logs: its DEBUG lines (every REST request and
    response) would slow it down inside the timed create."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []
        self._lock = threading.Lock()

    def emit(self, record):
        with self._lock:
            self.lines.append('%s %s' % (record.levelname,
                                         record.getMessage()))

    def take(self):
        with self._lock:
            lines, self.lines = self.lines, []
        return lines

    @classmethod
    def install(cls, name='cinder.volume.drivers.netapp'):
        handler = cls()
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(handler)
        return handler


def content_digest(path, length):
    """sha256 of the first ``length`` bytes of ``path``, holes and zero
    chunks skipped but their offsets bound in: equal for two files exactly
    when their first ``length`` bytes are equal (a shorter file reads as
    zero-padded), and fast on sparse and mostly-zero images."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        end = min(length, os.fstat(fd).st_size)
        pos = 0
        while pos < end:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            if pos >= end:
                break
            pos -= pos % _CHUNK
            data = os.pread(fd, min(_CHUNK, end - pos), pos)
            if data != _ZERO[:len(data)]:
                digest.update(pos.to_bytes(8, 'little'))
                digest.update(data)
            pos += len(data)
    finally:
        os.close(fd)
    digest.update(length.to_bytes(8, 'little'))
    return digest.hexdigest()


@dataclasses.dataclass
class Image:
    """One image as each contender's Glance knows it."""

    ids: dict
    size: int
    digest: str

    @property
    def volume_gib(self):
        return max(1, math.ceil(self.size / units.Gi))


class Contender:
    """One configured driver, its pool, its Glance stores."""

    def __init__(self, label, stack, ctx, objects, driver, backend, shares,
                 glance, glance_in_pool, log, other_host=None):
        self.label = label
        #: The same backend's driver on another host (netapp-eic only).
        self.other_host = other_host
        self.stack = stack
        self.ctx = ctx
        self.objects = objects
        self.driver = driver
        self.backend = backend
        self.shares = shares
        self.pool = shares[0]
        self.mount = driver._get_mount_point_for_share(self.pool)
        self.glance = glance
        self.glance_in_pool = glance_in_pool
        self.log = log
        # Only the create may talk to the simulator while it is timed.
        cinder_mod.stop_looping_calls(driver)

    @property
    def is_eic(self):
        return self.label in (EIC, EIC_MIN)

    # -- state ----------------------------------------------------------------
    def reset(self, image_id, keep_verification=False):
        """Cold again: no cache entry (nor record) in any of its pools,
        and no verification record of the image's Glance files unless
        ``keep_verification``."""
        for share in self.shares:
            mount = self.driver._get_mount_point_for_share(share)
            names = [eic_cache.entry_name(image_id),
                     eic_cache.record_name(image_id)]
            if not keep_verification:
                names += [n for n in os.listdir(mount)
                          if verifications.image_of(n) == image_id]
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(mount, name))

    def reset_pool(self, image_id):
        """No cache entry in the contender's first pool (the others keep
        theirs)."""
        for name in (eic_cache.entry_name(image_id),
                     eic_cache.record_name(image_id)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.mount, name))

    def prime_other_pool(self, image):
        """A create in the contender's second pool, leaving the image's
        cache entry there (the source of a copy from another pool)."""
        other = self.shares[1]
        volume = self.objects.Volume(
            context=self.ctx, size=image.volume_gib,
            host=cinder_mod.pool_host(other, self.backend),
            provider_location=None, status='creating',
            display_name='bench-peer-prime')
        volume.create()
        try:
            self.flow(volume, self.glance, image.ids[self.label])
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(
                    self.driver._get_mount_point_for_share(other),
                    volume.name))
            volume.destroy()
        entry = os.path.join(self.driver._get_mount_point_for_share(other),
                             eic_cache.entry_name(image.ids[self.label]))
        if not os.path.exists(entry):
            raise BenchError('%s: no cache entry in %s after a create' % (
                self.label, other))

    def has_entry(self, image_id):
        return os.path.exists(os.path.join(
            self.mount, eic_cache.entry_name(image_id)))

    def new_volume(self, size_gib):
        volume = self.objects.Volume(
            context=self.ctx, size=size_gib,
            host=cinder_mod.pool_host(self.pool, self.backend),
            provider_location=None, status='creating',
            display_name='bench-peer')
        volume.create()
        return volume

    def discard(self, volume):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.mount, volume.name))
        volume.destroy()

    # -- the create flow ------------------------------------------------------
    def flow(self, volume, service, image_id, driver=None):
        """Cinder's create-from-image flow (by this contender's driver,
        or ``driver``); returns ``cloned``."""
        driver = driver or self.driver
        meta = service.show(self.ctx, image_id)
        location = service.get_location(self.ctx, image_id)
        if self.is_eic:
            outcomes_mod.recorder(driver)
        model, cloned = driver.clone_image(self.ctx, volume, location,
                                           meta, service)
        if cloned:
            volume.provider_location = model['provider_location']
        else:
            volume.provider_location = driver.create_volume(
                volume)['provider_location']
            driver.copy_image_to_volume(self.ctx, volume, service, image_id)
        return cloned

    def warm_like_the_agent(self, image):
        """What ``netapp-eic agent`` does on ``image.activate`` for this
        contender's pool: the engine's warm of the image (copy and
        verification, single-flight with creates)."""
        image_id = image.ids[self.label]
        request = CreateRequest(
            volume_id='agent', volume_name='volume-agent',
            size_bytes=image.volume_gib * units.Gi, pool=self.pool,
            image_meta=self.glance.show(self.ctx, image_id),
            image_location=self.glance.get_location(self.ctx, image_id))
        outcome = self.driver.eic.warm(request)
        if outcome.path is Route.DOWNLOAD:
            raise BenchError('%s: the agent\'s warm failed: %s' % (
                self.label, outcome.failures or outcome.skipped))

    def prime_on_other_host(self, image):
        """The backend's other host makes a volume of the image from
        Glance's file in the pool (a direct clone it verifies, leaving the
        verification record every host reads); its volume and cache entry
        are removed, the record stays."""
        image_id = image.ids[self.label]
        volume = self.new_volume(image.volume_gib)
        try:
            if not self.flow(volume, self.glance_in_pool, image_id,
                             driver=self.other_host):
                raise BenchError('%s: the other host did not clone' %
                                 self.label)
        finally:
            self.discard(volume)
        self.reset(image_id, keep_verification=True)

    def create(self, service, image, expected, what):
        """One timed, checked create; the volume is removed after."""
        image_id = image.ids[self.label]
        volume = self.new_volume(image.volume_gib)
        sim = self.stack.sim
        sim.clear_request_log()
        self.log.take()
        try:
            start = time.perf_counter()
            cloned = self.flow(volume, service, image_id)
            seconds = time.perf_counter() - start
            requests = sim.request_log()
            path = self.path_taken(volume, cloned, requests,
                                   self.log.take())
            if path != expected:
                raise BenchError('%s, %s: expected the %s path, the driver '
                                 'took %s' % (self.label, what, expected,
                                              path))
            self.check_volume(volume, image, what)
        finally:
            self.discard(volume)
        return Sample(seconds, len(requests), count(requests, COPY_POSTS),
                      path)

    def path_taken(self, volume, cloned, requests, lines):
        """The path of ``volume``'s create, with the reason when it
        declined."""
        if not self.is_eic:
            return intree_path(cloned, requests, lines)
        outcome = outcomes_mod.recorder(self.driver).get(volume.id)
        if outcome is None:
            return 'none (no outcome recorded)'
        if outcome.cloned != cloned:
            return '%s (but clone_image returned cloned=%s)' % (
                outcome.path, cloned)
        if cloned:
            return str(outcome.path)
        notes = list(outcome.skipped) + ['%s failed: %s' % f
                                         for f in outcome.failures]
        return '%s (%s)' % (outcome.path, '; '.join(notes) or outcome.note)

    def check_volume(self, volume, image, what):
        path = os.path.join(self.mount, volume.name)
        size = os.path.getsize(path)
        if size != volume.size * units.Gi:
            raise BenchError('%s, %s: volume file has %d bytes, not %d GiB'
                             % (self.label, what, size, volume.size))
        if content_digest(path, image.size) != image.digest:
            raise BenchError('%s, %s: the volume\'s first %d bytes differ '
                             'from the image\'s' % (self.label, what,
                                                    image.size))


def count(requests, kinds):
    return len([r for r in requests if (r['method'], r['path']) in kinds])


def intree_path(cloned, requests, lines):
    """Which path Cinder's in-tree driver took, from the simulator's
    request log and its INFO lines (it logs "Checking image clone ... from
    glance share" only after a cache miss)."""
    if not cloned:
        why = [line for line in lines if 'unsuccessful' in line or
               line.startswith(('WARNING', 'ERROR'))]
        return 'download (%s)' % ' | '.join(why or ['clone_image declined'])
    if count(requests, [COPY_POSTS[1]]):
        return 'copy-offload'
    if count(requests, [COPY_POSTS[0]]):
        return 'file-copy'
    if not count(requests, [CLONE_POST]):
        return 'unknown (no copy, no clone request)'
    if any('from glance share' in line for line in lines):
        return 'direct-clone'
    return 'cache-clone'
