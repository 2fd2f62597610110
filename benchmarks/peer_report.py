# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The peer benchmark's table and chart."""

import collections
import os
import statistics

import peer_stack

COLUMNS = '%-*s %-20s %9s %9s %9s %8s %7s %7s %6s  %s'
HEADER = ('scenario', 'run', 'median s', 'min s', 'max s', 'x bare',
          'x eic', 'REST', 'copies', 'path')
LEGEND = ('x bare: median / the bare ONTAP operation\'s median; x eic: '
          'median / netapp-eic\'s median; REST: requests per create (a '
          'storm\'s reference: per storm); copies: File Copies and copy '
          'offloads per create or per storm.')
COLORS = {peer_stack.EIC: '#2a9d8f', peer_stack.EIC_MIN: '#90be6d',
          peer_stack.INTREE: '#e76f51',
          peer_stack.INTREE_TOOL: '#f4a261'}
REFERENCE_COLOR = '#8d99ae'


class MissingPackage(Exception):
    """A package the chart needs is not installed."""


def row(label, samples, references, per_create):
    """One table row; ``references`` are the bare and netapp-eic medians."""
    seconds = [s.seconds for s in samples]
    median = statistics.median(seconds)
    paths = collections.Counter(s.path for s in samples)
    driver = label in COLORS
    return {
        'label': label, 'median': median, 'min': min(seconds),
        'max': max(seconds), 'ratio': median / references[0],
        'vs_eic': median / references[1] if driver else None,
        'rest': statistics.median(s.rest_calls / (per_create if driver
                                                  else 1)
                                  for s in samples),
        'copies': statistics.median(s.copies for s in samples),
        'path': ', '.join(sorted(paths)), 'runs': len(samples)}


def rows(result):
    references = [statistics.median(s.seconds for s in result.samples[
        label]) for label in (result.bare, peer_stack.EIC)]
    return [row(label, samples, references, result.per_create)
            for label, samples in result.samples.items()]


def table(results):
    """The table as text lines."""
    width = max([len(r.scenario) for r in results] + [len(HEADER[0])])
    lines = [COLUMNS % ((width,) + HEADER)]
    for result in results:
        first = True
        for r in rows(result):
            lines.append(COLUMNS % (
                width, result.scenario if first else '', r['label'],
                '%.4f' % r['median'], '%.4f' % r['min'], '%.4f' % r['max'],
                '%.2fx' % r['ratio'],
                '%.2fx' % r['vs_eic'] if r['vs_eic'] else '',
                '%.1f' % r['rest'] if r['rest'] else '-',
                '%g' % r['copies'], r['path']))
            first = False
        lines.append('')
    lines.append(LEGEND)
    return lines


def chart(results, png, title):
    """One panel per scenario: median bars with min-max whiskers."""
    try:
        import matplotlib
    except ImportError:
        raise MissingPackage(
            'drawing the chart needs the Python package "matplotlib" '
            '(pip install matplotlib), or pass --png ""') from None
    matplotlib.use('Agg')
    from matplotlib import pyplot
    columns = 2
    lines = -(-len(results) // columns)
    figure, axes = pyplot.subplots(lines, columns, squeeze=False,
                                   figsize=(12, 2.3 * lines + 0.8))
    for index, result in enumerate(results):
        _panel(axes[index // columns][index % columns], result)
    for index in range(len(results), lines * columns):
        axes[index // columns][index % columns].axis('off')
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    directory = os.path.dirname(os.path.abspath(png))
    os.makedirs(directory, exist_ok=True)
    figure.savefig(png, dpi=72)
    pyplot.close(figure)


def _panel(axis, result):
    data = rows(result)
    labels = [r['label'] for r in data]
    medians = [r['median'] for r in data]
    whiskers = [[r['median'] - r['min'] for r in data],
                [r['max'] - r['median'] for r in data]]
    colors = [COLORS.get(label, REFERENCE_COLOR) for label in labels]
    positions = list(range(len(data)))[::-1]
    axis.barh(positions, medians, xerr=whiskers, color=colors,
              error_kw={'elinewidth': 1, 'capsize': 2})
    axis.set_yticks(positions)
    axis.set_yticklabels(labels, fontsize=8)
    axis.set_title(result.scenario, fontsize=9)
    axis.set_xlabel('seconds (median, min-max)', fontsize=7)
    axis.tick_params(axis='x', labelsize=7)
    top = max(r['max'] for r in data)
    for position, r in zip(positions, data, strict=True):
        axis.text(r['max'] + top * 0.01, position, _seconds(r['median']),
                  va='center', fontsize=7)
    axis.set_xlim(0, top * 1.22)


def _seconds(value):
    return '%.0f ms' % (value * 1000) if value < 1 else '%.2f s' % value
