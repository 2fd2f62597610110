# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cloud replay's tables and chart."""

import os
import statistics

GIB = 1024 ** 3
TIB = 1024 * GIB

POLICY_HEADER = ('%-9s %6s %-5s %6s %10s %8s %7s %7s %9s %8s'
                 % ('trace', 'budget', 'policy', 'hit %', 'copies/d',
                    'TiB/d', 'x lru B', 'x lru C', 'GiB/pool', 'replay s'))
SCENARIO_HEADER = ('%-24s %6s %10s %8s %8s %8s %8s %9s %8s'
                   % ('scenario (gdsf)', 'hit %', 'copies/d', 'TiB/d',
                      'x dflt B', 'report B', 'max B', 'fan MB/d',
                      'replay s'))
LEGEND = ('copies/d, TiB/d: File Copies and bytes copied a day (creates, '
          'plus pre-warm where on); x lru B, x lru C: bytes and copies '
          'against LRU on the same trace and budget; GiB/pool: cache bytes '
          'per pool (daily mean); report B: bytes of one pool\'s cache '
          'capabilities (JSON, daily mean), max B the largest; fan MB/d: '
          'those reports a day on the scheduler fan-out; replay s: wall '
          'seconds of the replay.')
COLORS = {'lru': '#e76f51', 'gdsf': '#2a9d8f'}


class MissingPackage(Exception):
    """A package the chart needs is not installed."""


def tib_per_day(result):
    return result.per_day(result.copied + result.warm_copied) / TIB


def copies_per_day(result):
    return result.per_day(result.copies + result.warm_copies)


def policy_table(pairs):
    """``pairs``: ``[(trace label, budget, {policy: Result})]``."""
    lines = [POLICY_HEADER]
    for trace, budget, results in pairs:
        lru = results.get('lru')
        for policy, r in sorted(results.items()):
            lines.append('%-9s %5d%% %-5s %6.1f %10.0f %8.2f %7s %7s %9.0f '
                         '%8.1f' % (
                             trace, budget, policy, 100 * r.hit_ratio,
                             copies_per_day(r), tib_per_day(r),
                             _ratio(r.copied, lru.copied if lru else 0),
                             _ratio(r.copies, lru.copies if lru else 0),
                             statistics.mean(r.cache_bytes) / GIB,
                             r.seconds))
    return lines


def scenario_table(rows, reference, fanout):
    """``rows``: ``[(label, Result)]``; ``fanout(result)``: bytes a day."""
    lines = [SCENARIO_HEADER]
    for label, r in rows:
        lines.append('%-24s %6.1f %10.0f %8.2f %8s %8.0f %8d %9.0f %8.1f' % (
            label, 100 * r.hit_ratio, copies_per_day(r), tib_per_day(r),
            _ratio(r.copied + r.warm_copied,
                   reference.copied + reference.warm_copied),
            statistics.mean(r.report_bytes), max(r.report_bytes),
            fanout(r) / 1e6, r.seconds))
    return lines


def _ratio(value, reference):
    return '%.2fx' % (value / reference) if reference else '-'


def chart(budget_rows, scenario_rows, png, title):
    """Three panels: bytes copied a day and hit ratio by budget for each
    policy, and the scenarios' copies a day."""
    try:
        import matplotlib
    except ImportError:
        raise MissingPackage(
            'drawing the chart needs the Python package "matplotlib" '
            '(pip install matplotlib), or pass --png ""') from None
    matplotlib.use('Agg')
    from matplotlib import pyplot
    figure, axes = pyplot.subplots(1, 3, figsize=(13, 3.6))
    for policy, color in COLORS.items():
        points = sorted((budget, r) for budget, p, r in budget_rows
                        if p == policy)
        if not points:
            continue
        budgets = [b for b, _r in points]
        axes[0].plot(budgets, [tib_per_day(r) for _b, r in points], 'o-',
                     color=color, label=policy)
        axes[1].plot(budgets, [100 * r.hit_ratio for _b, r in points],
                     'o-', color=color, label=policy)
    axes[0].set_title('TiB copied a day', fontsize=9)
    axes[1].set_title('hit ratio, %', fontsize=9)
    for axis in axes[:2]:
        axis.set_xlabel('cache budget, % of each pool', fontsize=8)
        axis.legend(fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    labels = [label for label, _r in scenario_rows][::-1]
    values = [copies_per_day(r) for _label, r in scenario_rows][::-1]
    positions = range(len(labels))
    axes[2].barh(positions, values, color=COLORS['gdsf'])
    axes[2].set_yticks(list(positions))
    axes[2].set_yticklabels(labels, fontsize=7)
    axes[2].set_title('File Copies a day (gdsf)', fontsize=9)
    axes[2].tick_params(axis='x', labelsize=7)
    for position, value in zip(positions, values, strict=True):
        axes[2].text(value, position, ' %.0f' % value, va='center',
                     fontsize=7)
    axes[2].set_xlim(0, max(values) * 1.2 if values else 1)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    figure.savefig(png, dpi=72)
    pyplot.close(figure)
