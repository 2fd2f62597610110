# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The breaker of a means that keeps failing: open after a failure,
doubling while it keeps failing, one create trying again after the period,
closed by a success, its state kept in a file that a restart and
``netapp-eic doctor`` read."""

import json
import threading

import pytest

from netapp_eic.core import breaker as breaker_mod
from netapp_eic import exception


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def fail_once(breaker, reason='tool hung'):
    with pytest.raises(exception.CopyOffloadFailed):
        with breaker.attempt():
            raise exception.CopyOffloadFailed(reason=reason)


def test_closed_breaker_lets_the_means_run_and_stays_closed():
    breaker = breaker_mod.Breaker('tool', 300, 3600, clock=Clock())
    ran = []
    with breaker.attempt():
        ran.append(True)
    assert ran == [True]
    assert breaker.why_not() is None
    assert breaker.state().state == 'closed'


def test_a_failure_opens_it_for_the_period_with_the_reason():
    clock = Clock()
    breaker = breaker_mod.Breaker('tool', 300, 3600, clock=clock)
    fail_once(breaker)
    why = breaker.why_not()
    assert 'tool breaker open for 300 s more after 1 failure(s)' in why
    assert 'tool hung' in why
    with pytest.raises(exception.StepSkipped):
        with breaker.attempt():
            raise AssertionError('must not run while open')
    clock.now += 299
    assert breaker.state().state == 'open'
    clock.now += 2
    assert breaker.why_not() is None


def test_failures_in_a_row_double_the_period_up_to_the_longest():
    clock = Clock()
    breaker = breaker_mod.Breaker('tool', 300, 1000, clock=clock)
    holds = []
    for _ in range(4):
        fail_once(breaker)
        holds.append(round(breaker.state().retry_in))
        clock.now += 5000
    assert holds == [300, 600, 1000, 1000]


def test_after_the_period_one_create_tries_and_the_others_skip():
    clock = Clock()
    breaker = breaker_mod.Breaker('tool', 300, 3600, clock=clock)
    fail_once(breaker)
    clock.now += 301
    inside, release = threading.Event(), threading.Event()

    def trial():
        with breaker.attempt():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=trial)
    worker.start()
    assert inside.wait(10)
    assert breaker.state().state == 'trying'
    assert 'being tried again by another create' in breaker.why_not()
    release.set()
    worker.join(10)
    state = breaker.state()
    assert (state.state, state.failures, state.retry_in) == ('closed', 0, 0)
    assert breaker.why_not() is None


def test_a_failed_trial_opens_it_again_for_twice_as_long():
    clock = Clock()
    breaker = breaker_mod.Breaker('tool', 300, 3600, clock=clock)
    fail_once(breaker)
    clock.now += 301
    fail_once(breaker, 'still hung')
    state = breaker.state()
    assert (state.state, state.failures, round(state.retry_in)) == (
        'open', 2, 600)
    assert state.last_failure == 'Copy offload tool failed: still hung'


def test_interrupted_trial_leaves_it_as_it_was():
    breaker = breaker_mod.Breaker('tool', 300, 3600, clock=Clock())
    with pytest.raises(KeyboardInterrupt):
        with breaker.attempt():
            raise KeyboardInterrupt
    assert breaker.state().state == 'closed'
    assert breaker.why_not() is None


def test_period_zero_never_holds_the_means_off():
    breaker = breaker_mod.Breaker('tool', 0, 0, clock=Clock())
    fail_once(breaker)
    assert breaker.why_not() is None
    assert breaker.state().failures == 1


def test_state_survives_a_restart_and_is_read_by_another_process(tmp_path):
    clock = Clock()
    store = str(tmp_path / 'state' / 'netapp_eic' / 'b.json')
    fail_once(breaker_mod.Breaker('tool', 300, 3600, store, clock))
    assert json.loads(open(store).read())['failures'] == 1
    again = breaker_mod.Breaker('tool', 300, 3600, store, clock)
    assert 'breaker open for 300 s more' in again.why_not()
    seen = breaker_mod.saved_state(store, clock)
    assert (seen.state, seen.failures) == ('open', 1)
    assert 'tool hung' in seen.last_failure
    clock.now += 301
    with again.attempt():
        pass
    assert breaker_mod.saved_state(store, clock).state == 'closed'
    assert sorted(p.name for p in (tmp_path / 'state' / 'netapp_eic')
                  .iterdir()) == ['b.json']


def test_unreadable_state_starts_closed_and_says_why(tmp_path, caplog):
    store = tmp_path / 'b.json'
    store.write_text('{not json')
    breaker = breaker_mod.Breaker('tool', 300, 3600, str(store), Clock())
    assert breaker.why_not() is None
    assert 'Ignoring the breaker state' in caplog.text


def test_unwritable_state_is_logged_and_the_breaker_works_in_memory(
        tmp_path, caplog):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    breaker = breaker_mod.Breaker('tool', 300, 3600,
                                  str(blocker / 'b.json'), Clock())
    fail_once(breaker)
    assert 'Could not keep the tool breaker state' in caplog.text
    assert breaker.state().state == 'open'
