# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The main job: EIC end to end on the embedded ONTAP simulator.

Runs the real ``NetAppEicNfsDriver`` (and so Cinder's NetApp NFS driver
underneath) against the simulator over HTTPS, creates volumes from a raw and
a qcow2 image through every path and prints one row per create: the path
taken, why faster paths were skipped, seconds, and the bytes that went
through the Cinder host. Every volume's bytes are checked against the
image's.

    python -m netapp_eic_testing.demo [--size-mib 64]
"""

import argparse
import logging
import os
import sys
import tempfile
import warnings
import time

from oslo_utils import units

from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import images
from netapp_eic_testing import stack as stack_mod

POOL_A, POOL_B = stack_mod.DEFAULT_SHARES
TOOL_BACKEND = 'netapp_eic_tool'


class Demo:
    def __init__(self, stack, size_mib, workdir):
        self.stack = stack
        self.size = size_mib * units.Mi
        self.workdir = workdir
        # Only netapp-eic's one INFO line per create (and errors) on
        # stderr; the dependencies' deprecation chatter is not the subject.
        warnings.filterwarnings('ignore')
        _conf, context, self.objects = cinder_mod.setup_cinder_process(
            workdir)
        logging.getLogger().setLevel(logging.ERROR)
        logging.getLogger('netapp_eic').setLevel(logging.INFO)
        self.ctx = context.get_admin_context()
        from netapp_eic.driver import NetAppEicNfsDriver
        self.driver = stack.driver(NetAppEicNfsDriver)
        # A second backend of the same driver with the copy offload tool.
        tool = stack.sim.write_copyoffload_tool(stack.bin_dir)
        self.tool_driver = stack.driver(
            NetAppEicNfsDriver, backend=TOOL_BACKEND,
            netapp_copyoffload_tool_path=tool)
        self.glance_in_pool = stack.glance('vol_cinder_a', 'glance-images')
        self.glance = stack.glance('vol_glance', 'images')
        self.rows = []

    def image(self, service, fmt, seed, **props):
        path = os.path.join(self.workdir, 'src-%s-%d.%s' % (fmt, seed, fmt))
        images.make_image(path, fmt, self.size, seed=seed)
        image_id = service.add_image(path, fmt, **props)
        return image_id, images.raw_bytes_digest(path, fmt)

    def volume(self, share, backend):
        volume = self.objects.Volume(
            context=self.ctx, size=1,
            host=cinder_mod.pool_host(share, backend),
            provider_location=None, status='creating', display_name='demo')
        volume.create()
        return volume

    def create(self, label, service, image_id, share, digest, tool=False):
        """What Cinder's create flow does: clone_image, else download."""
        driver = self.tool_driver if tool else self.driver
        volume = self.volume(share, TOOL_BACKEND if tool else
                             stack_mod.BACKEND)
        meta = service.show(self.ctx, image_id)
        location = service.get_location(self.ctx, image_id)
        downloaded = service.bytes_downloaded
        start = time.monotonic()
        model, cloned = driver.clone_image(self.ctx, volume, location, meta,
                                           service)
        outcome = driver.last_eic_outcome
        path, reason = str(outcome.path), self._reason(outcome)
        if cloned:
            volume.provider_location = model['provider_location']
        else:
            volume.provider_location = driver.create_volume(
                volume)['provider_location']
            driver.copy_image_to_volume(self.ctx, volume, service, image_id)
        seconds = time.monotonic() - start
        host_bytes = (outcome.host_bytes +
                      service.bytes_downloaded - downloaded)
        ok = self._check(volume, meta, digest)
        self.rows.append((label, path, reason, seconds, host_bytes, ok))

    def _reason(self, outcome):
        plan_skips = getattr(outcome, 'skipped', None) or []
        failures = ['%s failed: %s' % f for f in outcome.failures]
        text = '; '.join(failures + list(plan_skips))
        return outcome.note or text or '-'

    def _check(self, volume, meta, digest):
        path = os.path.join(
            self.driver._get_mount_point_for_share(volume.provider_location),
            volume.name)
        size_ok = os.path.getsize(path) == volume.size * units.Gi
        return size_ok and images.raw_bytes_digest(
            path, 'raw', length=meta['virtual_size']) == digest

    def run(self):
        raw_local, d1 = self.image(self.glance_in_pool, 'raw', 1)
        self.create('raw, Glance file in the pool FlexVol',
                    self.glance_in_pool, raw_local, POOL_A, d1)
        self.create('raw, same image again', self.glance_in_pool, raw_local,
                    POOL_A, d1)
        raw_remote, d2 = self.image(self.glance, 'raw', 2)
        self.create('raw, Glance on vol_glance', self.glance, raw_remote,
                    POOL_B, d2)
        qcow, d3 = self.image(self.glance, 'qcow2', 3)
        self.create('qcow2, Glance on vol_glance', self.glance, qcow, POOL_A,
                    d3)
        self.create('qcow2, same image again', self.glance, qcow, POOL_A, d3)
        self.create('qcow2, cached in the other pool', self.glance, qcow,
                    POOL_B, d3)
        raw_tool, d4 = self.image(self.glance, 'raw', 4)
        self.create('raw, copy offload tool set', self.glance, raw_tool,
                    POOL_B, d4, tool=True)
        raw_http, d5 = self.image(self.glance, 'raw', 5)
        self.glance.set_locations(raw_http, None, [
            {'url': 'http://glance.example.com/v2/images/%s' % raw_http,
             'metadata': {}}])
        self.create('raw, no location on the cluster', self.glance, raw_http,
                    POOL_A, d5)
        self.create('raw, after the download', self.glance, raw_http, POOL_A,
                    d5)

    def report(self, out=sys.stdout):
        out.write('netapp-eic demo: %s; images of %d MiB\n' % (
            self.stack.describe(), self.size // units.Mi))
        header = ('scenario', 'path', 'seconds', 'host bytes', 'data')
        fmt = '%-38s %-13s %8s %12s %5s\n'
        out.write(fmt % header)
        for label, path, reason, seconds, host_bytes, ok in self.rows:
            out.write(fmt % (label, path, '%.3f' % seconds, host_bytes,
                             'ok' if ok else 'BAD'))
            out.write('    why: %s\n' % reason)
        return all(row[-1] for row in self.rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mib', type=int, default=64,
                        help='image size in MiB (default 64)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='netapp-eic-demo-') as workdir:
        os.makedirs(os.path.join(workdir, 'stack'))
        with stack_mod.Stack(base_dir=os.path.join(workdir, 'stack'),
                             size_bytes=8 * units.Gi) as stack:
            demo = Demo(stack, args.size_mib, workdir)
            demo.run()
            ok = demo.report()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
