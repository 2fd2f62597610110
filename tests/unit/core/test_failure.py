# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.core.failure: real errors classified for their log level."""

import pytest
from netapp_ontap import HostConnection

from netapp_eic.core import failure
from netapp_eic import exception
from netapp_eic import ontap


def raised(call):
    try:
        call()
    except Exception as e:  # returned for classification
        return e
    raise AssertionError('nothing raised')


def test_tls_failure(sim):
    # The system CA bundle does not trust the simulator's CA.
    client = ontap.OntapClient(HostConnection(
        sim.host, sim.username, sim.password, verify=True, port=sim.port))
    err = raised(client.cluster_version)
    assert isinstance(err, exception.OntapApiError)
    assert failure.kind_of(err) is failure.Kind.TLS


@pytest.mark.parametrize('status, kind', [
    (401, failure.Kind.AUTH), (403, failure.Kind.AUTH),
    (500, failure.Kind.ROUTINE)])
def test_status(client, sim, status, kind):
    sim.add_fault(method='GET', path='/api/cluster', status=status)
    assert failure.kind_of(raised(client.cluster_version)) is kind


def test_wrong_password(sim):
    client = ontap.OntapClient(HostConnection(
        sim.host, sim.username, 'wrong', verify=sim.ca_file, port=sim.port))
    assert failure.kind_of(raised(client.cluster_version)) is \
        failure.Kind.AUTH


def test_programming_error_and_routine_ones():
    assert failure.kind_of(TypeError('x')) is failure.Kind.UNEXPECTED
    assert failure.kind_of(KeyError('x')) is failure.Kind.UNEXPECTED
    assert failure.kind_of(OSError(5, 'EIO')) is failure.Kind.ROUTINE
    assert failure.kind_of(exception.ImageUnsafe(
        image_id='i', reason='r')) is failure.Kind.ROUTINE


def test_routine_failure_is_a_warning_with_its_causes_on_one_line(
        client, sim, caplog):
    # oslo.log writes each traceback line with an ERROR prefix whatever the
    # record's level, so a routine failure carries no exc_info at all.
    sim.add_fault(method='GET', path='/api/cluster', status=500)
    err = raised(client.cluster_version)
    caplog.set_level('DEBUG', logger='netapp_eic.core.failure')
    failure.log_step_failure(err, 'file-copy', 'vol-1', 'r')
    levels = [(r.levelname, r.exc_info) for r in caplog.records]
    assert levels == [('WARNING', None), ('DEBUG', None)]
    cause = caplog.records[1].getMessage()
    assert cause.startswith('Cause of the file-copy failure: OntapApiError: ')
    assert 'caused by NetAppRestError' in cause
    assert 'caused by HTTPError: 500 Server Error' in cause


def test_unexpected_failure_is_an_error_with_its_traceback(caplog):
    caplog.set_level('DEBUG', logger='netapp_eic.core.failure')
    failure.log_failure(raised(lambda: {}['x']), 'EIC plan for %(vol)s',
                        {'vol': 'vol-1'})
    [record] = caplog.records
    assert record.levelname == 'ERROR'
    assert record.exc_info[0] is KeyError
    assert record.getMessage() == "EIC plan for vol-1: unexpected error: 'x'"
