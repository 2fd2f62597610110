# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cache at cloud scale: a year of boots replayed (not a test).

Replays boots through the shipped cache code on in-memory pools and a
simulated clock (:mod:`cloud_replay`): each cinder-volume host a
``CacheManager`` with its own index, eviction by ``netapp_eic.core.
eviction``, placement by ``ImageCacheWeigher._weigh_object`` beside a
capacity weigher, normalized by Cinder's ``normalize``. Traces
(:mod:`cloud_trace`) are synthetic, one per ``--zipf`` exponent, or an
operator's CSV (``--trace``). The world: ``--pools`` pools of
``--pool-tib`` TiB in backends of two, served by ``--hosts`` hosts
(active/active: a create runs on a random host of the pool's backend);
each boot's volume occupies ``--volume-gib`` GiB of its pool for an
exponential lifetime of mean ``--volume-days`` days; the free-space bounds
are the parent driver's defaults (20 % start, 60 % stop); stats every
``--stats-seconds`` s.

Runs, in parallel over ``--jobs`` processes:

* LRU and GDSF (``netapp_eic_cache_eviction_policy``) at each
  ``--budgets`` percentage of the pool on the first ``--zipf`` trace, and at
  ``--budget`` on the others;
* on the first trace at ``--budget``, GDSF with the weigher off, with the
  agent's pre-warm (each upload copied at once into the pool with the most
  free space of each zone; the agent also removes deleted images'
  entries), and with each ``--report-sweep`` value of ``max_images``.

Printed: per run the hit ratio, File Copies and TiB copied a day, bytes
against LRU, cache bytes per pool, report bytes and their fan-out a day
(each pool reported by each host of its backend every stats period to
``--schedulers`` schedulers), the replay's wall time. Then the costs
measured here, each against its reference in the same run: ``pool_report``
(``CacheManager.report``) at ``--entries`` entries in a real directory
against the full listing and record reads it replaces (target 50 ms), and
Cinder's weigher handler per request with and without
``ImageCacheWeigher``. The chart goes to ``--png``.

    python benchmarks/bench_cloud.py [--quick] [--trace FILE]
        [--write-trace FILE] [--days 365] [--boots 1000] [--zipf 0.8,1.0,1.2]
        [--budgets 5,10,20,50] [--budget 20] [--jobs 2]
        [--png doc/bench_cloud.png]
"""

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time
import warnings

# Run as ``python benchmarks/bench_cloud.py``, sys.path[0] is benchmarks/:
# put the repository root first so the in-tree netapp_eic is imported
# without installing it (a sys.path call, allowed before imports).
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# netapp_eic.scheduler imports Cinder, which imports eventlet (and its
# deprecation warning) without patching anything.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

import cloud_costs  # noqa: E402
import cloud_replay  # noqa: E402
import cloud_report  # noqa: E402
import cloud_trace  # noqa: E402

from netapp_eic import options  # noqa: E402

GIB = cloud_trace.GIB
REPORT_TARGET = 0.050
DEFAULTS = {opt.name: opt.default for opt in options.eic_opts}
#: The defaults shipped (netapp_eic/options.py).
DEFAULT_BUDGET = DEFAULTS['netapp_eic_cache_max_percent']
DEFAULT_POLICY = DEFAULTS['netapp_eic_cache_eviction_policy']
DEFAULT_HALF_LIFE = DEFAULTS['netapp_eic_cache_half_life_uses']
DEFAULT_REPORT = DEFAULTS['netapp_eic_scheduler_report_images']

#: The traces the workers replay (filled before they fork).
_TRACES = {}


def _numbers(kind):
    def parse(text):
        return [kind(v) for v in text.split(',') if v.strip()]
    return parse


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='a smoke run of seconds: 14 days, 2,000 '
                             'images, 300 boots a day, budgets 5,20')
    parser.add_argument('--trace', help='replay this CSV trace instead')
    parser.add_argument('--write-trace', metavar='FILE',
                        help='write the first synthetic trace as CSV')
    parser.add_argument('--days', type=int, default=365)
    parser.add_argument('--images', type=int, default=10000)
    parser.add_argument('--boots', type=int, default=1000,
                        help='boots a day')
    parser.add_argument('--uploads', type=int, default=20)
    parser.add_argument('--zipf', type=_numbers(float),
                        default=[1.0, 0.8, 1.2],
                        help='one synthetic trace per exponent; the first '
                             'gets the budget sweep and the scenarios')
    parser.add_argument('--budgets', type=_numbers(int),
                        default=[5, 10, 20, 50])
    parser.add_argument('--budget', type=int, default=DEFAULT_BUDGET,
                        help='the budget of the other traces and the '
                             'scenarios')
    parser.add_argument('--half-life', type=int, default=DEFAULT_HALF_LIFE,
                        help='gdsf half-life, in uses')
    parser.add_argument('--max-images', type=int, default=DEFAULT_REPORT)
    parser.add_argument('--report-sweep', type=_numbers(int),
                        default=[25, 1000])
    parser.add_argument('--pools', type=int, default=50)
    parser.add_argument('--zones', type=int, default=5)
    parser.add_argument('--pool-tib', type=float, default=4.0)
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--volume-gib', type=float, default=10.0)
    parser.add_argument('--volume-days', type=float, default=2.0)
    parser.add_argument('--stats-seconds', type=float, default=60.0)
    parser.add_argument('--schedulers', type=int, default=3)
    parser.add_argument('--entries', type=int, default=10000,
                        help='entries of the pool_report measurement')
    parser.add_argument('--dir', help='where its directory is made')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--png', default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'doc',
        'bench_cloud.png'))
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.images, args.boots = 14, 2000, 300
        args.zipf, args.budgets = args.zipf[:1], [5, 20]
        args.entries = min(args.entries, 1000)
    return args


@dataclasses.dataclass(frozen=True)
class Run:
    trace: str
    label: str
    config: cloud_replay.Config


def runs(args, traces):
    """Every replay to make: the policy pairs, then the scenarios."""
    base = cloud_replay.Config(
        policy=DEFAULT_POLICY, budget_percent=args.budget,
        half_life_uses=args.half_life, max_images=args.max_images,
        pool_tib=args.pool_tib, hosts=args.hosts,
        volume_gib=args.volume_gib, volume_days=args.volume_days,
        stats_seconds=args.stats_seconds)
    first = traces[0]
    todo = []
    for trace in traces:
        budgets = (sorted(set(args.budgets) | {args.budget})
                   if trace == first else [args.budget])
        for budget in budgets:
            for policy in ('lru', 'gdsf'):
                todo.append(Run(trace, policy, dataclasses.replace(
                    base, policy=policy, budget_percent=budget)))
    gdsf = dataclasses.replace(base, policy='gdsf')
    todo.append(Run(first, 'weigher off', dataclasses.replace(
        gdsf, weigher=False)))
    todo.append(Run(first, 'pre-warm (agent)', dataclasses.replace(
        gdsf, prewarm=True)))
    for count in args.report_sweep:
        if count != args.max_images:
            todo.append(Run(first, 'max_images %d' % count,
                            dataclasses.replace(gdsf, max_images=count)))
    return todo


def _replay(run):
    events, pools = _TRACES[run.trace]
    return run, cloud_replay.replay(run.config, events, pools)


def replay_all(todo, jobs):
    """The replays, longest first, over ``jobs`` processes."""
    order = sorted(todo, key=lambda r: (r.config.policy != 'gdsf',
                                        -r.config.budget_percent))
    done = []
    if jobs <= 1:
        results = map(_replay, order)
    else:
        pool = multiprocessing.get_context('fork').Pool(jobs)
        results = pool.imap_unordered(_replay, order)
    for n, (run, result) in enumerate(results, 1):
        print('  replayed %d/%d: %s %s, budget %d%% (%.0f s)' % (
            n, len(todo), run.trace, run.label, run.config.budget_percent,
            result.seconds), file=sys.stderr, flush=True)
        done.append((run, result))
    if jobs > 1:
        pool.close()
        pool.join()
    return done


def load_traces(args):
    """``{label: (events, pool names)}``, in the order replayed."""
    if args.trace:
        events = cloud_trace.read_csv(args.trace)
        pools = cloud_trace.pools_of(events) or cloud_trace.pool_names(
            args.pools)
        return {'csv': (events, pools)}, ['CSV trace %s: %d events, %d '
                                          'pools' % (args.trace, len(events),
                                                     len(pools))]
    traces, described = {}, []
    for zipf in args.zipf:
        params = cloud_trace.Params(
            days=args.days, images=args.images, zipf=zipf, boots=args.boots,
            uploads=args.uploads, deletes=args.uploads, pools=args.pools,
            zones=args.zones)
        label = 'zipf %.1f' % zipf
        traces[label] = (cloud_trace.synthetic(params),
                         cloud_trace.pool_names(args.pools))
        described.append('%s: %s' % (label, params.describe()))
    if args.write_trace:
        cloud_trace.write_csv(next(iter(traces.values()))[0],
                              args.write_trace)
    return traces, described


def fanout(args, reporters):
    """Bytes a day of a result's reports on the scheduler fan-out."""
    per_day = 86400.0 / args.stats_seconds * reporters * args.schedulers

    def of(result):
        return (sum(result.report_bytes) / max(result.days, 1) * per_day)
    return of


def costs(args):
    """The measured costs, as printed lines."""
    runs_report = 3 if args.quick else 7
    report = cloud_costs.report_times(args.entries, runs_report,
                                      args.max_images, args.dir)
    lines = ['pool_report at %d entries (median of %d, this host\'s file '
             'system, no NFS):' % (report.entries, report.runs),
             '  full listing, every record read (before): %8.1f ms' % (
                 report.full_listing * 1e3),
             '  first report (the index built):           %8.1f ms' % (
                 report.first * 1e3),
             '  unchanged (one stat):                     %8.3f ms' % (
                 report.unchanged * 1e3),
             '  after a use (names listed, none read):    %8.1f ms  '
             '%.3fx before' % (report.after_use * 1e3,
                               report.after_use / report.full_listing),
             '  after another host\'s publish (one read):  %8.1f ms  '
             '%.3fx before' % (report.after_foreign * 1e3,
                               report.after_foreign / report.full_listing),
             '  target %d ms after a change: %s' % (
                 REPORT_TARGET * 1e3,
                 'met' if max(report.after_use, report.after_foreign) <=
                 REPORT_TARGET else 'NOT met')]
    lines.append('weigher time per request (Cinder\'s handler, median):')
    for pools in (10, args.pools):
        w = cloud_costs.weigher_times(pools, args.max_images,
                                      50 if args.quick else 500)
        lines.append(
            '  %2d pools, %d ids each (%d B a report): CapacityWeigher '
            '%.0f us, + ImageCacheWeigher %.0f us (+%.0f us, %.2fx)' % (
                w.pools, w.ids, w.report_bytes, w.capacity_only * 1e6,
                w.with_cache * 1e6, (w.with_cache - w.capacity_only) * 1e6,
                w.with_cache / w.capacity_only))
    return lines


def decision(pairs, budget):
    """Whether GDSF copies at least 10 % fewer bytes than LRU."""
    lines = []
    at_default, everywhere = [], []
    for trace, b, results in pairs:
        if 'lru' not in results or 'gdsf' not in results:
            continue
        saved = 1 - results['gdsf'].copied / results['lru'].copied
        everywhere.append(saved)
        if b == budget:
            at_default.append((trace, saved))
    if at_default:
        lines.append('gdsf against lru at the %d%% budget: %s; %s' % (
            budget, ', '.join('%s %+.1f%% bytes' % (t, -100 * s)
                              for t, s in at_default),
            '10%% fewer bytes on every trace: %s' % (
                'yes' if all(s >= 0.10 for _t, s in at_default) else 'no')))
    if everywhere:
        lines.append('gdsf bytes against lru over every budget and trace: '
                     '%+.1f%% to %+.1f%%' % (-100 * max(everywhere),
                                             -100 * min(everywhere)))
    return lines


def main(argv=None):
    args = parse(argv)
    started = time.perf_counter()
    if args.png:
        try:
            import matplotlib  # noqa: F401  (fail now, not after the run)
        except ImportError:
            print('drawing the chart needs the Python package "matplotlib" '
                  '(pip install matplotlib), or pass --png ""',
                  file=sys.stderr)
            return 2
    cost_lines = costs(args)
    traces, described = load_traces(args)
    _TRACES.update(traces)
    labels = list(traces)
    todo = runs(args, labels)
    print('replaying %d runs over %d processes...' % (len(todo), args.jobs),
          file=sys.stderr, flush=True)
    done = replay_all(todo, args.jobs)
    reporters = max(1, args.hosts // max(1, args.pools // 2))
    pairs, budget_rows, scenarios = [], [], []
    by_key = {}
    for run, result in done:
        if run.label in ('lru', 'gdsf'):
            by_key.setdefault((run.trace, run.config.budget_percent),
                              {})[run.label] = result
            if run.trace == labels[0]:
                budget_rows.append((run.config.budget_percent, run.label,
                                    result))
        else:
            scenarios.append((run.label, result))
    for trace in labels:
        for (t, budget), results in sorted(by_key.items()):
            if t == trace:
                pairs.append((trace, budget, results))
    reference = by_key[(labels[0], args.budget)]['gdsf']
    order = ['weigher off', 'pre-warm (agent)']
    scenarios.sort(key=lambda s: (order.index(s[0]) if s[0] in order
                                  else len(order), s[0]))
    scenario_rows = [('default (%d%%, %d ids)' % (
        args.budget, args.max_images), reference)] + scenarios
    print()
    print('Traces:')
    for line in described:
        print('  ' + line)
    print('World: %d pools of %g TiB, %d hosts (%d a backend of 2 pools), '
          'volumes of %g GiB living %g days on average, stats every %g s '
          'to %d schedulers, gdsf half-life %d uses.' % (
              args.pools, args.pool_tib, args.hosts, reporters,
              args.volume_gib, args.volume_days, args.stats_seconds,
              args.schedulers, args.half_life))
    print()
    for line in cloud_report.policy_table(pairs):
        print(line)
    print()
    for line in cloud_report.scenario_table(scenario_rows, reference,
                                            fanout(args, reporters)):
        print(line)
    print()
    print(cloud_report.LEGEND)
    print()
    for line in decision(pairs, args.budget) + cost_lines:
        print(line)
    if args.png:
        cloud_report.chart(budget_rows, scenario_rows, args.png,
                           '%s; %s' % (labels[0], described[0].split(
                               ': ', 1)[1][:110]))
        print('chart: %s' % args.png)
    print('wall time: %.0f s' % (time.perf_counter() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
