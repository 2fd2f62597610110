# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The main job: EIC end to end on the embedded ONTAP simulator.

Runs the real ``NetAppEicNfsDriver`` (and so Cinder's NetApp NFS driver
underneath) against the simulator over HTTPS, creates volumes from a raw and
a qcow2 image through every path and prints one row per create: the path
taken, the file the volume came from, seconds, the speed-up against the
download and the bytes that went through the Cinder host. Every volume's
bytes are checked against the image's. Standard output holds only the table
and a short legend; the services' logs (one INFO line per create with the
reasons of each decision) go to a file the legend names, beside the
cinder.conf the drivers were configured with, in a directory of this run's
own (under the user's cache directory, created private). ``--operator``
also prints what ``netapp-eic doctor`` and ``netapp-eic explain`` say of
that backend.

It runs as an ordinary user too: clones are then full copies and Cinder's
privileged helper runs in this process; the first line says which.

    python -m netapp_eic_testing.demo [--size-mib 64] [--operator]
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
import time

from oslo_utils import units

from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import images
from netapp_eic_testing import outcomes as outcomes_mod
from netapp_eic_testing import simproc
from netapp_eic_testing import stack as stack_mod

POOL_A, POOL_B = stack_mod.DEFAULT_SHARES
TOOL_BACKEND = 'netapp_eic_tool'
DRIVER = 'netapp_eic.driver.NetAppEicNfsDriver'
DOWNLOAD_ROW = 'raw, no location on the cluster'


class Demo:
    def __init__(self, stack, size_mib, workdir, output_dir):
        self.stack = stack
        self.size = size_mib * units.Mi
        self.workdir = workdir
        _conf, context, self.objects = cinder_mod.setup_cinder_process(
            workdir)
        # Before any row: a helper that cannot start must not hang one.
        self.notes = cinder_mod.setup_privileges()
        self.ctx = context.get_admin_context()
        from netapp_eic.driver import NetAppEicNfsDriver
        tool = stack.sim.write_copyoffload_tool(stack.bin_dir)
        self.backends = {
            stack_mod.BACKEND: {'volume_driver': DRIVER},
            # A second backend of the same driver with the copy offload
            # tool.
            TOOL_BACKEND: {'volume_driver': DRIVER,
                           'netapp_copyoffload_tool_path': tool}}
        self.cinder_conf = self.write_cinder_conf(output_dir)
        self.driver = stack.driver(NetAppEicNfsDriver,
                                   **self.backends[stack_mod.BACKEND])
        self.tool_driver = stack.driver(NetAppEicNfsDriver,
                                        backend=TOOL_BACKEND,
                                        **self.backends[TOOL_BACKEND])
        self.outcomes = outcomes_mod.OutcomeRecorder(self.driver,
                                                     self.tool_driver)
        self.glance_in_pool = stack.glance('vol_cinder_a', 'glance-images')
        # A Glance configured with hashing_algorithm = sha256: ONTAP's own
        # fingerprint checks its images.
        self.glance_sha256 = stack.glance('vol_cinder_a', 'glance-sha256',
                                          hashing_algorithm='sha256')
        self.glance = stack.glance('vol_glance', 'images')
        self.rows = []
        self.images = {}

    def write_cinder_conf(self, output_dir):
        """The cinder.conf the drivers are configured with (the same
        values, through the same function)."""
        sections = {'DEFAULT': {
            'enabled_backends': ','.join(self.backends),
            'state_path': os.path.join(self.workdir, 'state')}}
        for backend, overrides in self.backends.items():
            sections[backend] = cinder_mod.backend_values(
                self.stack.sim, self.stack.mounts, backend=backend,
                shares_dir=self.stack.base_dir, **overrides)
        path = os.path.join(output_dir, 'cinder.conf')
        cinder_mod.write_cinder_conf(path, sections)
        os.chmod(path, 0o600)
        return path

    def image(self, service, fmt, seed, **props):
        path = os.path.join(self.workdir, 'src-%s-%d.%s' % (fmt, seed, fmt))
        images.make_image(path, fmt, self.size, seed=seed)
        image_id = service.add_image(path, fmt, **props)
        self.images[seed] = (service, image_id)
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
        read_before = simproc.reads()
        start = time.monotonic()
        model, cloned = driver.clone_image(self.ctx, volume, location, meta,
                                           service)
        outcome = self.outcomes.of(volume.id)
        path, source = str(outcome.path), self._source(outcome)
        if cloned:
            volume.provider_location = model['provider_location']
        else:
            volume.provider_location = driver.create_volume(
                volume)['provider_location']
            driver.copy_image_to_volume(self.ctx, volume, service, image_id)
        seconds = time.monotonic() - start
        # What this process read, as the kernel counts it (the simulator
        # runs in a process of its own): the image bytes it hashed or
        # downloaded, and the small change of REST answers and database
        # pages every create reads.
        host_bytes = simproc.reads() - read_before
        ok = self._check(volume, meta, digest)
        self.rows.append((label, path, source, seconds, host_bytes, ok))

    @staticmethod
    def _source(outcome):
        """Where the volume's bytes came from, in a few words."""
        if not outcome.cloned:
            return 'Glance download'
        kind, _sep, rest = outcome.source.partition(' in FlexVol ')
        text = '%s, %s' % (' '.join(kind.split()[:2]), rest)
        if outcome.converted_from:
            text += ' + %s conversion' % outcome.converted_from
        if outcome.waited:
            text += ' (waited)'
        return text

    def _check(self, volume, meta, digest):
        path = os.path.join(self.stack.share_dir(volume.provider_location),
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
        raw_sha256, d6 = self.image(self.glance_sha256, 'raw', 6)
        self.create('raw sha256, checked by ONTAP', self.glance_sha256,
                    raw_sha256, POOL_A, d6)
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

    def report(self, log_file, out=sys.stdout):
        out.write('netapp-eic demo: %s; images of %d MiB\n' % (
            self.stack.describe(), self.size // units.Mi))
        out.write(''.join('%s\n' % note for note in self.notes) + '\n')
        download = [row[3] for row in self.rows if row[0] == DOWNLOAD_ROW]
        header = ('scenario', 'path', 'volume made from', 'seconds',
                  'speed-up', 'host bytes', 'data')
        fmt = '%-38s %-13s %-42s %7s %8s %10s %4s\n'
        out.write(fmt % header)
        for label, path, source, seconds, host_bytes, ok in self.rows:
            out.write(fmt % (label, path, source, '%.3f' % seconds,
                             '%.1fx' % (download[0] / seconds),
                             '%.1f MiB' % (host_bytes / units.Mi),
                             'ok' if ok else 'BAD'))
        out.write(LEGEND % {'download': DOWNLOAD_ROW,
                            'conf': self.cinder_conf, 'log': log_file})
        return all(row[-1] for row in self.rows)

    def operator_commands(self, out=sys.stdout):
        """What ``netapp-eic doctor`` and ``explain`` say of the demo's
        backend, run as an operator would (a separate process)."""
        service, image_id = self.images[2]
        direct_url, locations = service.get_location(self.ctx, image_id)
        meta_path = os.path.join(os.path.dirname(self.cinder_conf),
                                 'image-%s.json' % image_id)
        with open(meta_path, 'w') as meta_file:
            json.dump(dict(service.show(self.ctx, image_id),
                           locations=locations, direct_url=direct_url),
                      meta_file, default=str)
        for args in (['doctor', '--max-width', '110'],
                     ['explain', '--image-meta', meta_path]):
            argv = [sys.executable, '-m', 'netapp_eic.cmd.main',
                    '--config-file', self.cinder_conf, '--backend',
                    stack_mod.BACKEND] + args
            out.write('\n$ netapp-eic --config-file cinder.conf --backend '
                      '%s %s\n' % (stack_mod.BACKEND, ' '.join(
                          args[:1] + (['--image-meta', 'image.json']
                                      if args[0] == 'explain' else []))))
            out.flush()
            result = subprocess.run(argv, capture_output=True, text=True,
                                    check=False)
            out.write(result.stdout)
            if result.returncode:
                out.write(result.stderr)
                return False
        return True


LEGEND = """
speed-up     the download's seconds (row "%(download)s")
             divided by the row's seconds
host bytes   what this process read during the create, as the kernel
             counts it (/proc/self/io rchar; the simulator is a process of
             its own): the image's bytes when it hashed them against
             Glance's sha512 or downloaded them, else under a MiB of REST
             answers and database pages (the storage cloned or copied the
             bytes and checked them: ONTAP's sha256, or an earlier check's
             record). A qcow2 conversion's reads are qemu-img's, a process
             of its own, and not in this count
data         the volume's bytes compared with the image's
cinder.conf  %(conf)s
service log  %(log)s
             (one line per create, with the reasons of each decision)
"""


def _quiet_libraries():
    """Library warnings and deprecation notices are not the subject: off
    in this process and in the helpers it starts (privsep)."""
    warnings.filterwarnings('ignore')
    os.environ['PYTHONWARNINGS'] = 'ignore'


def _log_to(path):
    """Every log record of the services to ``path``, none on the
    terminal."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path, mode='w')
    handler.setFormatter(logging.Formatter(
        '%(asctime)s %(levelname)s %(name)s %(message)s'))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def run_directory(parent=None):
    """A new private directory for this run's log and cinder.conf.

    Under ``$XDG_CACHE_HOME/netapp-eic`` (default ``~/.cache``), else,
    when that cannot be created, in the temporary directory; the name is
    new for each run, so nothing another user or run left there matters.
    """
    if parent is None:
        parent = os.path.join(os.environ.get('XDG_CACHE_HOME') or
                              os.path.expanduser(os.path.join('~', '.cache')),
                              'netapp-eic')
    prefix = time.strftime('demo-%Y%m%d-%H%M%S-')
    try:
        os.makedirs(parent, mode=0o700, exist_ok=True)
        return tempfile.mkdtemp(prefix=prefix, dir=parent)
    except OSError:
        return tempfile.mkdtemp(prefix='netapp-eic-' + prefix)


def main(argv=None):
    _quiet_libraries()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mib', type=int, default=64,
                        help='image size in MiB (default 64)')
    parser.add_argument('--output-dir',
                        help='where the service log and the cinder.conf '
                             'are written (default: a new private '
                             'directory under ~/.cache/netapp-eic)')
    parser.add_argument('--operator', action='store_true',
                        help='also show netapp-eic doctor and explain for '
                             'the demo backend')
    args = parser.parse_args(argv)
    if args.output_dir is None:
        args.output_dir = run_directory()
    else:
        os.makedirs(args.output_dir, mode=0o700, exist_ok=True)
    log_file = os.path.join(args.output_dir, 'netapp-eic-demo.log')
    try:
        _log_to(log_file)
    except OSError as exc:
        parser.error('cannot write the service log: %s' % exc)
    with tempfile.TemporaryDirectory(prefix='netapp-eic-demo-') as workdir:
        os.makedirs(os.path.join(workdir, 'stack'))
        with stack_mod.Stack(base_dir=os.path.join(workdir, 'stack'),
                             size_bytes=8 * units.Gi,
                             sim_process=True) as stack:
            demo = Demo(stack, args.size_mib, workdir, args.output_dir)
            demo.run()
            ok = demo.report(log_file)
            if args.operator:
                ok = demo.operator_commands() and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
