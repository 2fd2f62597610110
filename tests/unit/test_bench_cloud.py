# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The cloud replay (``benchmarks/bench_cloud.py``) checked against traces
computed by hand, its trace formats, and a smoke run of the benchmark
(its figures are not asserted: speed claims belong to its own output).

The hand-computed trace: one pool of 100 GiB, a 5 % budget (5 GiB), no
volumes and no free-space bound, one host; images A and B of 1 GiB, C of
2 GiB, D of 4 GiB booted A A A B C D A B A C.

* LRU: D's copy overflows the budget (8 GiB) and evicts A, B and C, least
  recently used first, though A was used three times; A and B are copied
  again, B's evicts D, C's fits. Hits: boots 2, 3 and 9 (3), 7 copies,
  12 GiB.
* GDSF (half-life 250 uses, a miss costs its bytes plus 256 MiB): ranks
  before D's eviction are A 582 (4 aged uses), B 334, C 297 (C's value per
  byte is lower than B's: same uses, twice the bytes): C then B go and A
  stays; A hits at boot 7, B's copy fits, and C's evicts D (rank 277, below
  A 730 and B 338). Hits: boots 2, 3, 7 and 9 (4), 6 copies, 11 GiB.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / 'benchmarks'
sys.path.insert(0, str(BENCHMARKS))

import cloud_replay  # noqa: E402
import cloud_trace  # noqa: E402

GiB = 1024 ** 3
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
SIZES = {'A': 1, 'B': 1, 'C': 2, 'D': 4}
BOOTS = 'AAABCDABAC'


def hand_trace():
    return [cloud_trace.Event(float(n + 1), cloud_trace.BOOT, image,
                              SIZES[image] * GiB, ('p',))
            for n, image in enumerate(BOOTS)]


def replay(events, policy):
    config = cloud_replay.Config(
        policy=policy, budget_percent=5, half_life_uses=250,
        pool_tib=100 / 1024, hosts=1, pools_per_backend=1, volume_gib=0,
        space_start_percent=0, space_stop_percent=0, maintain_hours=1000)
    return cloud_replay.replay(config, events, ['p'])


@pytest.mark.parametrize('policy, hits, copied', [
    ('lru', 3, 12), ('gdsf', 4, 11)])
def test_hand_computed_trace(policy, hits, copied):
    result = replay(hand_trace(), policy)
    assert (result.boots, result.hits) == (10, hits)
    assert result.copies == 10 - hits
    assert result.copied == copied * GiB
    assert result.warm_copies == 0


def test_csv_trace_replays_the_same(tmp_path):
    path = tmp_path / 'trace.csv'
    cloud_trace.write_csv(hand_trace(), path)
    events = cloud_trace.read_csv(path)
    assert cloud_trace.pools_of(events) == ['p']
    for policy in ('lru', 'gdsf'):
        original, again = replay(hand_trace(), policy), replay(events,
                                                               policy)
        assert (again.hits, again.copied) == (original.hits,
                                              original.copied)


def test_csv_reads_iso_times_defaults_and_events(tmp_path):
    path = tmp_path / 'history.csv'
    path.write_text('time,image_id,image_size,candidate_pools,event\n'
                    '2025-01-01T00:00:10Z,i2,2048,,upload\n'
                    '2025-01-01T00:00:00Z,i1,1024,a;b,\n'
                    '2025-01-02T00:00:00Z,i2,2048,,delete\n')
    events = cloud_trace.read_csv(path)
    assert [(e.time, e.kind, e.image_id, e.size, e.candidates)
            for e in events] == [
        (0.0, 'boot', 'i1', 1024, ('a', 'b')),
        (10.0, 'upload', 'i2', 2048, ()),
        (86400.0, 'delete', 'i2', 2048, ())]


def test_prewarm_copies_uploads_into_each_zone_and_removes_deleted():
    """An upload is copied into one pool of each group of candidates; its
    first boot then clones; the agent removes it when Glance deletes it."""
    events = [
        cloud_trace.Event(0.0, cloud_trace.BOOT, 'other', GiB, ('a',)),
        cloud_trace.Event(1.0, cloud_trace.BOOT, 'other', GiB, ('b',)),
        cloud_trace.Event(2.0, cloud_trace.UPLOAD, 'new', 2 * GiB),
        cloud_trace.Event(3.0, cloud_trace.BOOT, 'new', 2 * GiB, ('a',)),
        cloud_trace.Event(4.0, cloud_trace.DELETE, 'new', 2 * GiB)]
    config = cloud_replay.Config(prewarm=True, hosts=2, pools_per_backend=1,
                                 volume_gib=0)
    run = cloud_replay.Replay(config, events, ['a', 'b'])
    result = run.run()
    assert (result.warm_copies, result.warm_copied) == (2, 4 * GiB)
    assert (result.boots, result.hits, result.copies) == (3, 1, 2)
    assert all('new' not in pool.cache.records
               for pool in run.world.pools.values())


def test_synthetic_trace_has_its_stated_parameters():
    params = cloud_trace.Params(days=3, images=500, boots=200, uploads=5,
                                deletes=4, storms=1, storm_boots=30,
                                pools=10, zones=2)
    events = cloud_trace.synthetic(params)
    kinds = [e.kind for e in events]
    assert kinds.count('upload') == 15 and kinds.count('delete') == 12
    assert 3 * 200 < kinds.count('boot') <= 3 * (200 + 30)
    assert [e.time for e in events] == sorted(e.time for e in events)
    boots = [e for e in events if e.kind == 'boot']
    assert {e.candidates for e in boots} == {
        tuple('pool-%02d' % n for n in range(5)),
        tuple('pool-%02d' % n for n in range(5, 10))}
    assert all(GiB <= e.size <= 40 * GiB for e in events)
    deleted = {e.image_id: e.time for e in events if e.kind == 'delete'}
    assert all(e.time < deleted.get(e.image_id, float('inf'))
               for e in boots)
    assert cloud_trace.synthetic(params) == events


def test_quick_run_prints_the_tables_and_draws_the_chart(tmp_path):
    png = tmp_path / 'bench_cloud.png'
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / 'bench_cloud.py'), '--quick',
         '--png', str(png), '--dir', str(tmp_path)],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    rows = [line.split() for line in lines]
    policies = [r for r in rows if len(r) == 11 and r[:2] == ['zipf', '1.0']]
    assert sorted((r[2], r[3]) for r in policies) == [
        ('20%', 'gdsf'), ('20%', 'lru'), ('5%', 'gdsf'), ('5%', 'lru')]
    for label in ('default (', 'weigher off', 'pre-warm (agent)',
                  'max_images 25'):
        assert any(line.startswith(label) for line in lines), label
    for text in ('pool_report at 1000 entries', 'weigher time per request',
                 'gdsf against lru at the', 'wall time:'):
        assert any(text in line for line in lines), text
    assert png.read_bytes().startswith(PNG_MAGIC)
