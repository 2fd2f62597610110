# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The bench chart: one horizontal bar per row, median seconds on a
logarithmic axis (a clone and a download differ by orders of magnitude),
coloured by kind: EIC path, bare ONTAP operation, download through the
host. matplotlib is the optional extra ``netapp-eic[bench]``."""

import typing

from netapp_eic.cmd.base import CommandError
from netapp_eic.cmd import benchrun

COLOURS = {'eic': '#1f77b4', 'bare': '#7f7f7f', 'download': '#d62728'}
LEGEND = {'eic': 'EIC path (driver core)', 'bare': 'bare ONTAP operation',
          'download': 'download through this host'}


def pyplot() -> typing.Any:
    """matplotlib's pyplot on the file-only Agg backend.

    :raises CommandError: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as e:
        raise CommandError('bench draws its chart with matplotlib, which is '
                           'not installed: pip install \'netapp-eic[bench]\''
                           ) from e
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt
    return plt


def draw(path: str, timings: list[benchrun.Timing], title: str) -> None:
    """Write the chart of ``timings`` as a PNG at ``path``."""
    plt = pyplot()
    names = [t.name for t in timings][::-1]
    medians = [t.median for t in timings][::-1]
    kinds = [t.kind for t in timings][::-1]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(names) + 2.2),
                                dpi=100)
    try:
        bars = axes.barh(names, medians,
                         color=[COLOURS[k] for k in kinds])
        axes.set_xscale('log')
        axes.set_xlabel('median seconds (log scale)')
        axes.set_title(title, fontsize=10)
        for bar, seconds in zip(bars, medians, strict=True):
            middle = bar.get_y() + bar.get_height() / 2
            axes.annotate('%.3f s' % seconds, (bar.get_width(), middle),
                          xytext=(3, 0), textcoords='offset points',
                          va='center', fontsize=8)
        handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[k])
                   for k in LEGEND]
        axes.legend(handles, list(LEGEND.values()), fontsize=8,
                    loc='upper center', bbox_to_anchor=(0.5, -0.16),
                    ncol=len(LEGEND), frameon=False)
        axes.margins(x=0.25)
        figure.tight_layout()
        figure.savefig(path, format='png')
    finally:
        plt.close(figure)
