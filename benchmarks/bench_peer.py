# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Peer benchmark: netapp-eic against Cinder's in-tree NetApp NFS driver.

Runs, side by side on one simulated stack (:class:`netapp_eic_testing.stack.
Stack`: the ONTAP simulator over HTTPS on an XFS reflink data root when run
as root, the FlexVols bind-mounted where os-brick looks), three contenders:

* ``netapp-eic``: ``netapp_eic.driver.NetAppEicNfsDriver``, default
  options (content verification on) plus ``netapp_eic_image_shares`` naming
  the Glance FlexVol (mounted read-only beside the pools, so an image is
  hashed while ONTAP copies it), pools ``vol_cinder_a`` (the volumes go
  there) and ``vol_cinder_b``. Its Glance stores are in subdirectories,
  which it handles: ``vol_glance/images`` for the cold, warm and storm
  images, ``vol_cinder_a/glance-images`` for the direct clones.
* ``netapp-eic minimal``: the same driver with the README's minimal
  stanza (no ``netapp_eic_image_shares``: it mounts the Glance FlexVol
  read-only by itself when a location names it), pools ``vol_eicmin_a``
  and ``vol_eicmin_b``, the same Glance stores (``vol_eicmin_a/
  glance-images`` for its direct clones).
* ``in-tree``: Cinder's unchanged ``NetAppCmodeNfsDriver``, built through
  ``cinder.volume.drivers.netapp.common.NetAppDriver`` (REST client), pools
  ``vol_intree_a`` (the volumes go there) and ``vol_intree_b``. Its File
  Copy only works when Glance's files are at a FlexVol's root (it names the
  ONTAP volume after the directory of the location), and its direct clone
  only when that directory is exactly a mounted share's export: so its
  Glance stores are the root of ``vol_glance`` (not one of its pools, so a
  cold create copies) and the root of ``vol_intree_a`` for the direct
  clones.
* ``in-tree + tool``: the same driver and pools with
  ``netapp_copyoffload_tool_path`` set to the simulator's copy offload
  stand-in (``Simulator.write_copyoffload_tool``; it asks
  ``POST /_sim/copyoffload`` and polls the job every 50 ms).

Each driver has its own FlexVols because both name cache entries
``img-cache-<image id>``; the two in-tree configurations share theirs, run
one after the other, and every run starts from the state it needs. Each
backend has its own name (``peer_eic``, ``peer_intree``,
``peer_intree_tool``); periodic tasks are stopped after setup so that only
the create talks to the simulator while it is timed. The in-tree driver
polls a File Copy job every 10 s (fixed in its code): that, not the copy,
is most of its cold time.

A create is timed as Cinder's flow runs it: ``clone_image``, and when it
declines, ``create_volume`` + ``copy_image_to_volume``. It is then checked:
the path taken (netapp-eic's outcome, from its observer; the in-tree
driver's from the simulator's request log and its INFO lines) must be the
one expected, else the run aborts; the volume file must have the volume's
size and its image part the image's bytes (a digest). Scenarios:

* cold: no cache entry anywhere, Glance's file copied into the pool, at
  each ``--sizes``, with copy jobs (File Copy and copy offload) throttled
  to ``--throttle-mibps`` (an array's bandwidth) and unthrottled;
* other: no cache entry in the pool, but one in the backend's other pool
  (each contender primed once): that entry is copied, at each ``--sizes``,
  throttled; the reference is a bare File Copy of the entry;
* warm: the pool's cache entry exists (each contender primed once);
* direct: Glance's file in the pool's FlexVol, cloned, its first create
  (verified by hashing); images above 1 GiB are sparse;
* direct verified: the same after another host of the backend (a second
  driver instance of the same backend, host ``bench-host-b``) verified the
  file: its verification record spares the hash (netapp-eic only);
* storm: ``--storm-creates`` parallel creates of one cold image, throttled;
  netapp-eic must make exactly one File Copy;
* agent: the first boot of a new image after ``netapp-eic agent`` warmed
  it on Glance's ``image.activate`` (its warm of the image into the pool,
  not timed): a cache clone; the in-tree drivers, without an agent, make
  their cold create.

References, measured in the same interleaved runs: the bare ONTAP operation
(one REST POST with ``return_timeout``, see ``peer_refs``), the host hash
of the Glance file (cold: sha512 as Glance records it, through
``verify.Hashing``) and ``cp`` of the same file on the data root
(``--reflink=never`` for copies, ``auto`` for clones: a clone on reflink,
else a copy; never throttled). Printed: median,
min and max seconds over the runs, the ratio to the bare operation, REST
calls per create (the simulator's request log, the copy offload tool's
calls included), File Copies (and copy offloads) per create or per storm,
the path. The chart goes to ``--png``.

    python benchmarks/bench_peer.py [--quick] [--runs N] [--sizes 256,1024]
        [--scenarios cold,other,warm,direct,storm,agent]
        [--png doc/bench_peer.png]
"""

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings

from oslo_utils import units

# Run as ``python benchmarks/bench_peer.py``, sys.path[0] is benchmarks/
# (the peer_* helpers); the repository root goes first for the harness.
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from netapp_eic_testing import cinder as cinder_mod  # noqa: E402
from netapp_eic_testing import stack as stack_mod  # noqa: E402

import peer_refs  # noqa: E402
import peer_report  # noqa: E402
import peer_scenarios  # noqa: E402
import peer_stack  # noqa: E402

SCENARIOS = ('cold', 'other', 'warm', 'direct', 'storm', 'agent')
DEFAULT_PNG = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'doc', 'bench_peer.png')
QUICK = {'sizes': [4], 'throttle_mibps': 0, 'warm_mib': 4,
         'direct_mib': [4, 32], 'storm_creates': 3, 'storm_mib': 4,
         'runs': 1}


def _mib_list(text):
    try:
        sizes = [int(s) for s in text.split(',') if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('comma-separated MiB sizes, '
                                         'e.g. 256,1024') from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError('sizes must be positive')
    return sizes


def _scenarios(text):
    names = [s.strip() for s in text.split(',') if s.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names:
        raise argparse.ArgumentTypeError('scenarios among %s, not %s' % (
            ','.join(SCENARIOS), ','.join(unknown) or 'none'))
    return names


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add('--quick', action='store_true',
        help='a smoke run of seconds: one run, 4 MiB images, no throttle, '
             'a storm of 3 (options given explicitly still apply)')
    add('--runs', type=int, help='runs per scenario (default 3 for cold '
                                 'and storm, 5 for warm and direct)')
    add('--sizes', type=_mib_list, default=[256, 1024, 2048],
        help='cold image sizes in MiB (default 256,1024,2048)')
    add('--throttle-mibps', type=int, default=256,
        help='copy jobs\' cap for the throttled runs and the storm; 0 runs '
             'the cold scenarios unthrottled only (default 256)')
    add('--warm-mib', type=int, default=1024)
    add('--direct-mib', type=_mib_list, default=[64, 4096])
    add('--storm-creates', type=int, default=20)
    add('--storm-mib', type=int, default=256)
    add('--scenarios', type=_scenarios, default=list(SCENARIOS))
    add('--no-verify', action='store_true',
        help='netapp-eic with netapp_eic_verify_image_content = False '
             '(unsafe; shows what content verification costs)')
    add('--png', default=DEFAULT_PNG,
        help='where to draw the chart ("" for no chart; default '
             'doc/bench_peer.png)')
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    for name in ('runs', 'warm_mib', 'storm_creates', 'storm_mib'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error('--%s must be at least 1' % name.replace('_', '-'))
    if args.throttle_mibps < 0:
        parser.error('--throttle-mibps must be 0 or more')
    return args


def contenders(stack, ctx, objects, eic_overrides):
    """The three configured drivers (see the module docstring)."""
    from netapp_eic.driver import NetAppEicNfsDriver
    log = peer_stack.DriverLog.install()
    tool = stack.sim.write_copyoffload_tool(stack.bin_dir)
    intree_glance = stack.glance(peer_stack.GLANCE_FLEXVOL, '')
    intree_in_pool = stack.glance('vol_intree_a', '')
    specs = [
        (peer_stack.EIC, NetAppEicNfsDriver, 'peer_eic',
         peer_stack.EIC_SHARES, stack.glance(peer_stack.GLANCE_FLEXVOL,
                                             'images'),
         stack.glance('vol_cinder_a', 'glance-images'),
         dict({'netapp_eic_image_shares': stack.share_of(
             peer_stack.GLANCE_FLEXVOL)}, **eic_overrides)),
        (peer_stack.EIC_MIN, NetAppEicNfsDriver, 'peer_eic_min',
         peer_stack.EIC_MIN_SHARES, stack.glance(peer_stack.GLANCE_FLEXVOL,
                                                 'images'),
         stack.glance('vol_eicmin_a', 'glance-images'), dict(eic_overrides)),
        (peer_stack.INTREE, None, 'peer_intree', peer_stack.INTREE_SHARES,
         intree_glance, intree_in_pool, {}),
        (peer_stack.INTREE_TOOL, None, 'peer_intree_tool',
         peer_stack.INTREE_SHARES, intree_glance, intree_in_pool,
         {'netapp_copyoffload_tool_path': tool})]
    return [peer_stack.Contender(
        label, stack, ctx, objects,
        stack.driver(cls, backend=backend, shares=shares, **overrides),
        backend, shares, glance, in_pool, log,
        other_host=stack.driver(cls, backend=backend, shares=shares,
                                hostname='bench-host-b', **overrides)
        if cls is not None else None)
        for label, cls, backend, shares, glance, in_pool, overrides in specs]


def run(args, stack, cinder, workdir):
    _conf, context, objects = cinder
    ctx = context.get_admin_context()
    drivers = contenders(stack, ctx, objects, {
        'netapp_eic_verify_image_content': False} if args.no_verify else {})
    for contender in drivers:
        print('%-15s %s, pools %s; Glance stores: %s (cold, warm, storm), '
              '%s (direct)' % (
                  contender.label, type(contender.driver).__name__,
                  ' '.join(s.split(':/')[1] for s in contender.shares),
                  _store(contender.glance), _store(contender.glance_in_pool)))
    scenarios = peer_scenarios.Scenarios(
        stack, drivers, peer_refs.Bare(stack),
        workdir, ctx, lambda what: print('... %s' % what, file=sys.stderr,
                                         flush=True))
    runs = args.runs
    throttles = [args.throttle_mibps, 0] if args.throttle_mibps else [0]
    results = []
    if 'cold' in args.scenarios:
        for size in args.sizes:
            results += scenarios.cold(size, throttles, runs or 3)
    if 'other' in args.scenarios:
        for size in args.sizes:
            results += scenarios.other_pool(size, args.throttle_mibps,
                                            runs or 3)
    if 'warm' in args.scenarios:
        results += scenarios.warm(args.warm_mib, runs or 5)
    if 'direct' in args.scenarios:
        for size in args.direct_mib:
            results += scenarios.direct(size, runs or 5)
        for size in args.direct_mib:
            results += scenarios.direct_verified(size, runs or 5)
    if 'agent' in args.scenarios:
        for size in args.sizes:
            results += scenarios.agent(size, args.throttle_mibps, runs or 3)
    if 'storm' in args.scenarios:
        results += scenarios.storm(args.storm_mib, args.storm_creates,
                                   args.throttle_mibps, runs or 3)
    return results


def _store(service):
    """Where a Glance stand-in stores its files: FlexVol[/subdirectory]."""
    flexvol = service.share_location.rsplit('/', 1)[1]
    sub = os.path.relpath(service.store_dir, service.mountpoint)
    return flexvol + ' root' if sub == '.' else '%s/%s' % (flexvol, sub)


def _load():
    return 'load average %.2f %.2f %.2f on %d CPUs' % (
        os.getloadavg() + (os.cpu_count(),))


def main(argv=None):
    args = parse(argv)
    if args.png:
        try:
            import matplotlib  # noqa: F401  (fail now, not after the run)
        except ImportError:
            print('bench_peer: the chart needs the Python package '
                  '"matplotlib" (pip install matplotlib), or pass --png ""',
                  file=sys.stderr)
            return 2
    started = time.perf_counter()
    print('netapp-eic peer benchmark; at start: %s' % _load())
    # Errors only from the drivers and the dependencies' deprecation
    # chatter: the table is the output.
    warnings.filterwarnings('ignore')
    with tempfile.TemporaryDirectory(prefix='bench-peer-',
                                     dir='/var/tmp') as workdir:
        for sub in ('conversion', 'locks', 'stack'):
            os.makedirs(os.path.join(workdir, sub))
        cinder = cinder_mod.setup_cinder_process(workdir)
        notes = cinder_mod.setup_privileges()
        logging.getLogger().setLevel(logging.ERROR)
        size = (4 if args.quick else 40) * units.Gi
        try:
            with stack_mod.Stack(base_dir=os.path.join(workdir, 'stack'),
                                 size_bytes=size,
                                 topology=peer_stack.topology()) as stack:
                print('stack: %s' % stack.describe())
                print(''.join('%s\n' % note for note in notes), end='')
                results = run(args, stack, cinder, workdir)
        except peer_stack.BenchError as e:
            print('ABORTED: %s' % e, file=sys.stderr)
            return 1
        finally:
            cinder[0].clear_override('image_conversion_dir')
    print()
    print('\n'.join(peer_report.table(results)))
    wall = time.perf_counter() - started
    print('at end: %s; wall time %.1f s' % (_load(), wall))
    if args.png:
        peer_report.chart(results, args.png, 'netapp-eic vs in-tree '
                          'NetAppCmodeNfsDriver on the ONTAP simulator: '
                          'median seconds per create (storms: per storm), '
                          'min-max')
        print('chart: %s' % args.png)
    return 0


if __name__ == '__main__':
    sys.exit(main())
