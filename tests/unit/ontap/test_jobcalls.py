# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.ontap.jobcalls: the bounded wait, scripted without a server
(the clock and sleep are the client's own injection points)."""

import pytest

from netapp_eic import exception
from netapp_eic import ontap


class _FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _scripted(states):
    client = ontap.OntapClient(object(), poll_initial_interval=0.05,
                               poll_max_interval=0.4)
    clock = _FakeClock()
    client.sleep, client.monotonic = clock.sleep, clock.monotonic
    script = iter(states)
    client._job_record = lambda uuid: next(script)
    return client, clock


def test_wait_job_growing_interval():
    states = [('running', '')] * 6 + [('success', 'done')]
    client, clock = _scripted(states)
    client.wait_job('j1', timeout=60)
    assert clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]


def test_wait_job_timeout_is_bounded():
    client, clock = _scripted([('running', '')] * 100)
    with pytest.raises(exception.OntapJobTimeout):
        client.wait_job('j1', timeout=1.0)
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_wait_job_failure_reason():
    client, _clock = _scripted([('queued', ''), ('failure', 'no space')])
    with pytest.raises(exception.OntapJobFailed, match='no space'):
        client.wait_job('j1', timeout=10)


def test_wait_job_polls_near_the_estimated_end():
    states = [('running', '')] * 5 + [('success', 'done')]
    client, clock = _scripted(states)
    estimates = iter([8.0, 4.0, 1.0, 0.01, None])
    client.wait_job('j1', timeout=60, initial_interval=0.05,
                    max_interval=2.0,
                    on_poll=lambda state, message: next(estimates))
    # Half the time left, within [0.05, 2.0]; doubling when unknown.
    assert clock.sleeps == [2.0, 2.0, 0.5, 0.05, 0.8]
