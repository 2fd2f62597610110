# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic bench``: the EIC paths measured on the embedded simulator.

Needs no cinder.conf: it starts the simulator in a temporary directory,
runs :mod:`netapp_eic.cmd.benchrun` and prints one row per path (median
seconds, the ratio to the download and to the bare ONTAP operation the
path rests on), then writes the chart (:mod:`netapp_eic.cmd.chart`). The
figures measure this machine and the simulator, not an ONTAP system: the
ratios measured in the same run are what compare.
"""

import argparse
import os
import sys
import tempfile
import typing

from netapp_eic.cmd import base
from netapp_eic.cmd import benchrun
from netapp_eic.cmd import chart
from netapp_eic.cmd import progressbar
from netapp_eic.ontap import progress

COLUMNS = ('Path', 'Median s', 'Runs', 'Speed-up vs download',
           'Time vs bare op')


class Bench(base.EicLister):
    """Measure each EIC path on the embedded simulator and chart it."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('--size-mib', type=int, default=64,
                            help='raw image size in MiB (default 64)')
        parser.add_argument('--runs', type=int, default=3,
                            help='runs per path; the median is shown '
                                 '(default 3)')
        parser.add_argument('--output', default='netapp-eic-bench.png',
                            metavar='PNG',
                            help='chart file (default '
                                 'netapp-eic-bench.png)')
        parser.add_argument('--workdir', metavar='DIR',
                            help='where the simulator keeps its FlexVols '
                                 '(default: a temporary directory; its '
                                 'file system decides the clone mode)')
        return parser

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[typing.Any, ...]]]:
        if parsed_args.size_mib < 1 or parsed_args.runs < 1:
            raise base.CommandError('--size-mib and --runs must be at '
                                    'least 1')
        chart.pyplot()  # fail before the runs when matplotlib is missing
        try:
            from netapp_eic import simulator
        except ImportError as e:
            raise base.CommandError('the simulator cannot start (%s): pip '
                                    'install \'netapp-eic[simulator]\'' % e
                                    ) from e
        bar = progressbar.ProgressBar(sys.stderr)
        with tempfile.TemporaryDirectory(prefix='netapp-eic-bench-',
                                         dir=parsed_args.workdir) as work:
            data = os.path.join(work, 'data')
            os.makedirs(data)
            sim_class: typing.Any = simulator.Simulator
            with sim_class(data_root=data) as sim, progress.observing(bar):
                try:
                    timings = benchrun.BenchRun(
                        sim, work, parsed_args.size_mib, parsed_args.runs,
                        status=bar.status).run()
                except benchrun.BenchError as e:
                    raise base.CommandError('bench aborted: %s' % e) from e
                finally:
                    bar.close()
                mode = sim.clone_mode
        title = ('netapp-eic bench: raw image of %d MiB, median of %d '
                 'runs;\nembedded simulator, clones by %s' % (
                     parsed_args.size_mib, parsed_args.runs, mode))
        chart.draw(parsed_args.output, timings, title)
        self.app.stderr.write('%s\nchart: %s\n' % (
            title.replace('\n', ' '), os.path.abspath(parsed_args.output)))
        return COLUMNS, rows(timings)


def rows(timings: list[benchrun.Timing]) -> list[tuple[typing.Any, ...]]:
    by_name = {t.name: t.median for t in timings}
    download = by_name[benchrun.DOWNLOAD]
    found = []
    for timing in timings:
        bare = benchrun.BARE_OF.get(timing.name)
        found.append((
            timing.name, '%.4f' % timing.median, len(timing.seconds),
            '%.2fx' % (download / timing.median)
            if timing.name != benchrun.DOWNLOAD else '-',
            '%.2fx %s' % (timing.median / by_name[bare], bare)
            if bare else '-'))
    return found
