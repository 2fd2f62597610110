# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The peer benchmark's smoke run and its byte check (no timings checked).

``benchmarks/bench_peer.py --quick`` runs for real: both drivers against
the simulator, every scenario once with small images. Its figures are not
asserted (speed claims belong to the benchmark's own output); what is
checked is that it completes, that every scenario has a row for each
driver with the path the benchmark requires of it, and that it draws the
chart.
"""

import os
import re
import signal
import subprocess
import sys

import fixtures
import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCHMARKS = os.path.join(ROOT, 'benchmarks')
SCRIPT = os.path.join(BENCHMARKS, 'bench_peer.py')
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
DRIVERS = ('netapp-eic', 'netapp-eic minimal', 'in-tree', 'in-tree + tool')
REFERENCES = ('bare REST File Copy', 'bare REST clone', 'bare copy + clone',
              'cp + cp --reflink', 'cp --reflink', 'cp',
              'host hash (sha512)')
ROW = re.compile(r'^(?P<scenario>.*?) +(?P<label>%s) +(?P<median>\d+\.\d+) '
                 r'+(?P<min>\d+\.\d+) +(?P<max>\d+\.\d+) .* (?P<path>\S+)$'
                 % '|'.join(re.escape(label) for label in
                            sorted(DRIVERS + REFERENCES, key=len,
                                   reverse=True)))
#: The path each driver must take, by scenario (name up to the size).
PATHS = {
    'cold': ('file-copy', 'file-copy', 'file-copy', 'copy-offload'),
    'from': ('file-copy', 'file-copy', 'file-copy', 'copy-offload'),
    'warm': ('cache-clone',) * 4,
    'direct': ('direct-clone',) * 4,
    'storm': ('single-flight', 'single-flight', 'file-copy', 'copy-offload'),
    'first': ('cache-clone', 'cache-clone', 'file-copy', 'copy-offload'),
}
#: Scenarios only netapp-eic runs (a file verified by another host).
EIC_ONLY = ('direct verified',)
#: The references of each scenario kind.
REFERENCE_ROWS = {'cold': 3, 'first': 1}


def _rows(stdout):
    """``{scenario: {label: match}}`` from the printed table."""
    table, scenario = {}, None
    for line in stdout.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        scenario = match['scenario'].strip() or scenario
        table.setdefault(scenario, {})[match['label'].strip()] = match
    return table


class BenchPeerQuickTest(testtools.TestCase):

    def _run(self, *args, timeout=240):
        """Run the benchmark; on a timeout, interrupt it so that it tears
        its stack down (mounts, loop device), then kill it if it must."""
        env = dict(os.environ, PYTHONPATH=ROOT,
                   OS_CINDER_DISABLE_EVENTLET_PATCHING='1')
        proc = subprocess.Popen([sys.executable, SCRIPT] + list(args),
                                cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            self.fail('bench_peer.py --quick ran over %d s:\n%s' % (
                timeout, err[-3000:]))
        return proc.returncode, out, err

    def test_quick_run_prints_both_drivers_and_draws_the_chart(self):
        png = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'sub', 'chart.png')
        code, out, err = self._run('--quick', '--png', png)
        self.assertEqual(0, code, 'stdout:\n%s\nstderr:\n%s' % (
            out[-3000:], err[-3000:]))
        table = _rows(out)
        kinds = sorted({name.split()[0] for name in table})
        self.assertEqual(sorted(PATHS), kinds, out)
        for scenario, rows in table.items():
            expected = PATHS[scenario.split()[0]]
            drivers = DRIVERS
            if scenario.startswith(EIC_ONLY):
                drivers, expected = DRIVERS[:2], expected[:2]
            for label, path in zip(drivers, expected, strict=True):
                self.assertIn(label, rows, '%s: no %s row' % (scenario,
                                                              label))
                row = rows[label]
                self.assertEqual(path, row['path'], scenario)
                self.assertGreater(float(row['median']), 0.0)
                self.assertLessEqual(float(row['min']),
                                     float(row['median']))
                self.assertLessEqual(float(row['median']),
                                     float(row['max']))
            # Each scenario also has its references: the bare operation
            # and cp (a verified direct clone only the bare clone), and
            # for a cold create the host hash too.
            references = 1 if scenario.startswith(EIC_ONLY) else \
                REFERENCE_ROWS.get(scenario.split()[0], 2)
            self.assertEqual(len(drivers) + references, len(rows), scenario)
        with open(png, 'rb') as chart:
            data = chart.read()
        self.assertEqual(PNG_MAGIC, data[:8])
        self.assertGreater(len(data), 10000)
        self.assertIn('chart: %s' % png, out)

    def test_bad_option_is_refused_before_any_work(self):
        code, out, err = self._run('--sizes', '0,12', timeout=60)
        self.assertEqual(2, code)
        self.assertIn('sizes must be positive', err)
        self.assertNotIn('stack:', out)


class ContentDigestTest(testtools.TestCase):
    """The digest that stops a wrong fast path from looking fast."""

    def setUp(self):
        super().setUp()
        sys.path.insert(0, BENCHMARKS)
        self.addCleanup(sys.path.remove, BENCHMARKS)
        import peer_stack
        self.digest = peer_stack.content_digest
        self.dir = self.useFixture(fixtures.TempDir()).path

    def _file(self, name, size, writes=(), sparse=True):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            if sparse:
                f.truncate(size)
            else:
                f.write(bytes(size))
            for offset, data in writes:
                f.seek(offset)
                f.write(data)
        return path

    def test_equal_content_equal_digest_whatever_the_allocation(self):
        size, mib = 8 << 20, 1 << 20
        writes = [(0, b'a' * 100), (3 * mib + 5, b'b' * 70000)]
        sparse = self._file('sparse', size, writes)
        full = self._file('full', size, writes, sparse=False)
        longer = self._file('longer', size + 2 * mib, writes)
        self.assertEqual(self.digest(sparse, size), self.digest(full, size))
        # A volume larger than the image compares on the image's part.
        self.assertEqual(self.digest(sparse, size),
                         self.digest(longer, size))

    def test_any_difference_changes_the_digest(self):
        size, mib = 8 << 20, 1 << 20
        base = self.digest(self._file('base', size, [(mib, b'x' * 10)]),
                           size)
        for name, writes in (('moved', [(mib + 1, b'x' * 10)]),
                             ('changed', [(mib, b'x' * 9 + b'y')]),
                             ('extra', [(mib, b'x' * 10),
                                        (size - 1, b'z')]),
                             ('empty', [])):
            self.assertNotEqual(base, self.digest(
                self._file(name, size, writes), size), name)
        # The image part of a shorter file reads as zeros past its end.
        short = self._file('short', 2 * mib, [(mib, b'x' * 10)])
        self.assertEqual(base, self.digest(short, size))
