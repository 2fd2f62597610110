# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""QoS policies, file assignments and EMS events."""

import pytest

from netapp_eic.simulator import errors
from netapp_eic.simulator.models import qos

SVM = {'name': 'vs0', 'uuid': 'svm-uuid'}


@pytest.fixture
def table():
    counter = iter(range(100))
    return qos.Qos(lambda: f'uuid-{next(counter)}')


def test_create_update_delete(table):
    policy = table.create({'name': 'p1', 'fixed': {'max_throughput_iops': 5},
                           'bogus': 'ignored'}, SVM)
    assert policy == {'uuid': 'uuid-0', 'name': 'p1', 'svm': SVM,
                      'fixed': {'max_throughput_iops': 5}}
    with pytest.raises(errors.DestinationExists):
        table.create({'name': 'p1'}, SVM)
    table.update('uuid-0', {'name': 'p2'})
    assert [p['name'] for p in table.records()] == ['p2']
    table.delete('uuid-0')
    assert table.records() == []
    with pytest.raises(errors.NotFound):
        table.delete('uuid-0')


def test_name_is_required(table):
    with pytest.raises(errors.BadRequest):
        table.create({}, SVM)


def test_file_assignments_follow_moves_and_directory_deletes(table):
    table.assign(('v', 'd/a'), 'p')
    table.assign(('v', 'd/b'), 'p')
    table.assign(('w', 'd/a'), 'q')
    table.move(('v', 'd/a'), ('v', 'e'))
    assert table.policy_of(('v', 'e')) == 'p'
    table.forget(('v', 'd'))
    assert table.file_policies == {('v', 'e'): 'p', ('w', 'd/a'): 'q'}


def test_ems_log_and_clear(table):
    table.log_ems({'event_id': '0'})
    assert table.ems_events == [{'event_id': '0'}]
    table.clear()
    assert table.ems_events == [] and table.records() == []
