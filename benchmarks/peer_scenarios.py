# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The peer benchmark's scenarios, each run interleaved.

Every scenario measures each contender and its references once per run,
in an order rotated run by run, so that drift in the machine's load hits
all of them alike; the results are the samples per label.
"""

import contextlib
import dataclasses
import os
import threading
import time

from oslo_utils import units

from netapp_eic_testing import images

import peer_stack
from peer_stack import EIC, EIC_MIN, INTREE, INTREE_TOOL

COPY_PATH = {EIC: 'file-copy', EIC_MIN: 'file-copy', INTREE: 'file-copy',
             INTREE_TOOL: 'copy-offload'}
THROTTLED = (('POST', '/api/storage/file/copy'),
             ('POST', '/_sim/copyoffload'))
#: Direct-clone images above this size are written sparse.
SPARSE_ABOVE = units.Gi

BARE_COPY = 'bare REST File Copy'
HOST_HASH = 'host hash (sha512)'
BARE_CLONE = 'bare REST clone'
BARE_STORM = 'bare copy + clone'
CP = 'cp'
CP_REFLINK = 'cp --reflink'
CP_STORM = 'cp + cp --reflink'


@dataclasses.dataclass
class Result:
    """The samples of one scenario, by label, in table order."""

    scenario: str
    bare: str
    samples: dict
    per_create: int = 1


class Scenarios:
    def __init__(self, stack, contenders, bare, workdir, ctx, progress):
        self.stack = stack
        self.contenders = contenders
        self.bare = bare
        self.workdir = workdir
        self.ctx = ctx
        self.progress = progress
        by_label = {c.label: c for c in contenders}
        self.eic = by_label[EIC]
        self.intree = by_label[INTREE]

    # -- helpers --------------------------------------------------------------
    @staticmethod
    def interleave(runs, measures):
        """Run each ``(label, fn)`` once per run, rotating the order."""
        samples = {label: [] for label, _ in measures}
        for run in range(runs):
            shift = run % len(measures)
            for label, measure in measures[shift:] + measures[:shift]:
                samples[label].append(measure())
        return samples

    @contextlib.contextmanager
    def image(self, size_mib, attribute, sparse=False, seed=1):
        """A raw image in each contender's Glance store ``attribute``
        (``glance`` or ``glance_in_pool``), removed afterwards."""
        size = size_mib * units.Mi
        src = os.path.join(self.workdir, 'src-%d.raw' % size_mib)
        images.write_raw_content(src, size, seed=seed, sparse=sparse)
        ids, added = {}, {}
        try:
            for contender in self.contenders:
                service = getattr(contender, attribute)
                if id(service) not in added:
                    image_id = service.add_image(src, 'raw')
                    added[id(service)] = (service, image_id)
                    if sparse:  # add_image copied the holes as zeros
                        images.write_raw_content(service.image_path(
                            image_id), size, seed=seed, sparse=True)
                ids[contender.label] = added[id(service)][1]
            digest = peer_stack.content_digest(src, size)
            yield peer_stack.Image(ids, size, digest)
        finally:
            os.unlink(src)
            for service, image_id in added.values():
                for contender in self.contenders:
                    contender.reset(image_id)
                service.delete(self.ctx, image_id)

    @contextlib.contextmanager
    def throttled(self, mibps):
        """Cap every copy job (File Copy, copy offload) at ``mibps``."""
        sim = self.stack.sim
        if mibps:
            for method, path in THROTTLED:
                sim.add_fault(method=method, path=path,
                              throttle_bps=mibps * units.Mi)
        try:
            yield
        finally:
            sim.clear_faults()

    def _cold(self, contender, image, what):
        def measure():
            contender.reset(image.ids[contender.label])
            return contender.create(contender.glance, image,
                                    COPY_PATH[contender.label], what)
        return contender.label, measure

    def _glance_file(self, image):
        """The in-tree driver's Glance file (root of vol_glance)."""
        return self.intree.glance.image_path(image.ids[INTREE])

    # -- scenarios ------------------------------------------------------------
    def cold(self, size_mib, throttles, runs):
        """Cold creates: no cache entry anywhere, Glance's file in
        ``vol_glance``, copied into the pool; once per throttle."""
        results = []
        with self.image(size_mib, 'glance') as image:
            for mibps in throttles:
                what = 'cold %d MiB %s' % (size_mib, rate(mibps))
                self.progress(what)
                measures = [self._cold(c, image, what)
                            for c in self.contenders]
                measures += [
                    (BARE_COPY, lambda: self.bare.copy(
                        peer_stack.GLANCE_FLEXVOL, image.ids[INTREE],
                        'vol_cinder_a', image.size)),
                    (CP, lambda: self.bare.cp(self._glance_file(image),
                                              'vol_cinder_a', False)),
                    (HOST_HASH, lambda: self.bare.host_hash(
                        self._glance_file(image), self.intree.glance.show(
                            self.ctx, image.ids[INTREE])['os_hash_value']))]
                with self.throttled(mibps):
                    samples = self.interleave(runs, measures)
                results.append(Result(what, BARE_COPY, samples))
        return results

    def other_pool(self, size_mib, mibps, runs):
        """Cold in the pool, the image's (verified) cache entry in the
        backend's other pool: a copy of that entry."""
        what = 'from other pool %d MiB %s' % (size_mib, rate(mibps))
        self.progress(what)
        with self.image(size_mib, 'glance') as image:
            for contender in self.contenders:
                contender.prime_other_pool(image)

            def measure(contender):
                contender.reset_pool(image.ids[contender.label])
                return contender.create(contender.glance, image,
                                        COPY_PATH[contender.label], what)
            entry = 'img-cache-%s' % image.ids[EIC]
            measures = [(c.label, lambda c=c: measure(c))
                        for c in self.contenders]
            measures += [
                (BARE_COPY, lambda: self.bare.copy(
                    'vol_cinder_b', entry, 'vol_cinder_a', image.size)),
                (CP, lambda: self.bare.cp(
                    self.bare.local('vol_cinder_b', entry), 'vol_cinder_a',
                    False))]
            with self.throttled(mibps):
                samples = self.interleave(runs, measures)
        return [Result(what, BARE_COPY, samples)]

    def warm(self, size_mib, runs):
        """Cache hits: each contender's pool holds the image's entry."""
        what = 'warm %d MiB' % size_mib
        self.progress(what)
        with self.image(size_mib, 'glance') as image:
            for contender in self.contenders:
                self._cold(contender, image, what + ' (priming)')[1]()
                if not contender.has_entry(image.ids[contender.label]):
                    raise peer_stack.BenchError(
                        '%s: no cache entry after a cold create' %
                        contender.label)
            entry = 'img-cache-%s' % image.ids[EIC]
            measures = [
                (c.label, lambda c=c: c.create(c.glance, image,
                                               'cache-clone', what))
                for c in self.contenders]
            measures += [
                (BARE_CLONE, lambda: self.bare.clone('vol_cinder_a', entry)),
                (CP_REFLINK, lambda: self.bare.cp(
                    os.path.join(self.eic.mount, entry), 'vol_cinder_a',
                    True))]
            samples = self.interleave(runs, measures)
        return [Result(what, BARE_CLONE, samples)]

    def direct(self, size_mib, runs):
        """Direct clones of Glance's file in the pool's own FlexVol."""
        sparse = size_mib * units.Mi > SPARSE_ABOVE
        what = 'direct %d MiB%s' % (size_mib, ' sparse' if sparse else '')
        self.progress(what)
        with self.image(size_mib, 'glance_in_pool', sparse=sparse) as image:
            in_pool = 'glance-images/%s' % image.ids[EIC]

            def measure(contender):
                contender.reset(image.ids[contender.label])
                return contender.create(contender.glance_in_pool, image,
                                        'direct-clone', what)
            measures = [(c.label, lambda c=c: measure(c))
                        for c in self.contenders]
            measures += [
                (BARE_CLONE, lambda: self.bare.clone('vol_cinder_a',
                                                     in_pool)),
                (CP_REFLINK, lambda: self.bare.cp(
                    self.eic.glance_in_pool.image_path(image.ids[EIC]),
                    'vol_cinder_a', True))]
            samples = self.interleave(runs, measures)
        return [Result(what, BARE_CLONE, samples)]

    def direct_verified(self, size_mib, runs):
        """Direct clones of a Glance file another host of the backend
        verified already (its verification record): no hash, whatever
        the size."""
        sparse = size_mib * units.Mi > SPARSE_ABOVE
        what = 'direct verified %d MiB%s' % (size_mib,
                                             ' sparse' if sparse else '')
        self.progress(what)
        eics = [c for c in self.contenders if c.is_eic]
        with self.image(size_mib, 'glance_in_pool', sparse=sparse) as image:
            in_pool = 'glance-images/%s' % image.ids[EIC]
            for contender in eics:
                contender.prime_on_other_host(image)

            def measure(contender):
                contender.reset(image.ids[contender.label],
                                keep_verification=True)
                return contender.create(contender.glance_in_pool, image,
                                        'direct-clone', what)
            measures = [(c.label, lambda c=c: measure(c)) for c in eics]
            measures += [(BARE_CLONE, lambda: self.bare.clone(
                'vol_cinder_a', in_pool))]
            samples = self.interleave(runs, measures)
        return [Result(what, BARE_CLONE, samples)]

    def agent(self, size_mib, mibps, runs):
        """The first boot of a new image after ``netapp-eic agent`` warmed
        it (its ``Engine.warm`` of the image into the pool, as on Glance's
        ``image.activate``, not timed): a cache clone; the in-tree driver
        has no agent and makes its cold create."""
        what = 'first boot, agent %d MiB %s' % (size_mib, rate(mibps))
        self.progress(what)
        with self.image(size_mib, 'glance') as image:
            def measure(contender):
                contender.reset(image.ids[contender.label])
                if not contender.is_eic:
                    return contender.create(contender.glance, image,
                                            COPY_PATH[contender.label], what)
                contender.warm_like_the_agent(image)
                return contender.create(contender.glance, image,
                                        'cache-clone', what)
            measures = [(c.label, lambda c=c: measure(c))
                        for c in self.contenders]
            measures += [(BARE_CLONE, lambda: self.bare.clone(
                'vol_cinder_a', 'img-cache-%s' % image.ids[EIC]))]
            with self.throttled(mibps):
                samples = self.interleave(runs, measures)
        return [Result(what, BARE_CLONE, samples)]

    def storm(self, size_mib, creates, mibps, runs):
        """``creates`` parallel creates of one cold image in one pool."""
        what = 'storm %d x %d MiB %s' % (creates, size_mib, rate(mibps))
        self.progress(what)
        with self.image(size_mib, 'glance') as image:
            def reference():
                return self.bare.copy(peer_stack.GLANCE_FLEXVOL,
                                      image.ids[INTREE], 'vol_cinder_a',
                                      image.size, then_clone=True)

            def cp_reference():
                return self.bare.cp(self._glance_file(image), 'vol_cinder_a',
                                    False, then_reflink=True)
            measures = [(c.label, lambda c=c: storm(c, image, creates, what))
                        for c in self.contenders]
            measures += [(BARE_STORM, reference), (CP_STORM, cp_reference)]
            with self.throttled(mibps):
                samples = self.interleave(runs, measures)
        return [Result(what, BARE_STORM, samples, per_create=creates)]


def rate(mibps):
    return '@%d MiB/s' % mibps if mibps else 'unthrottled'


def storm(contender, image, creates, what):
    """One storm of ``contender``; every volume is checked."""
    image_id = image.ids[contender.label]
    contender.reset(image_id)
    service = contender.glance
    volumes = [contender.new_volume(image.volume_gib)
               for _ in range(creates)]
    gate = threading.Barrier(creates + 1)
    errors = []

    def create(volume):
        gate.wait()
        try:
            if not contender.flow(volume, service, image_id):
                errors.append('%s: clone_image declined' % volume.name)
        except Exception as e:  # reported below, with the others
            errors.append('%s: %r' % (volume.name, e))
    sim = contender.stack.sim
    sim.clear_request_log()
    threads = [threading.Thread(target=create, args=(v,)) for v in volumes]
    try:
        for thread in threads:
            thread.start()
        gate.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        requests = sim.request_log()
        copies = peer_stack.count(requests, peer_stack.COPY_POSTS)
        if errors:
            raise peer_stack.BenchError('%s, %s: %s' % (
                contender.label, what, '; '.join(errors)))
        if contender.is_eic and copies != 1:
            raise peer_stack.BenchError('%s, %s: %d File Copies, expected '
                                        'one' % (contender.label, what,
                                                 copies))
        for volume in volumes:
            contender.check_volume(volume, image, what)
    finally:
        for volume in volumes:
            contender.discard(volume)
        contender.reset(image_id)
    path = 'single-flight' if contender.is_eic else COPY_PATH[
        contender.label]
    return peer_stack.Sample(seconds, len(requests), copies, path)
