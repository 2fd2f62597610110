# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.ontap.client and .calls: building the client from Cinder's
options, TLS verification, error conversion."""

import pytest
from netapp_ontap import HostConnection

from netapp_eic import exception
from netapp_eic import ontap
from netapp_eic.ontap import calls


def test_error_conversion(client, sim):
    sim.add_fault(method='GET', path='/api/cluster', status=500,
                  code='8388608', message='boom')
    with pytest.raises(exception.OntapApiError) as err:
        client.cluster_version()
    assert err.value.status == 500
    assert err.value.code == '8388608'
    assert 'boom' in str(err.value)


def test_tls_verification_on(sim):
    # The system CA bundle does not trust the simulator's CA.
    conn = HostConnection(sim.host, sim.username, sim.password,
                          verify=True, port=sim.port)
    client = ontap.OntapClient(conn)
    with pytest.raises(exception.OntapApiError) as err:
        client.cluster_version()
    assert err.value.status is None


class _Conf:
    def __init__(self, **values):
        self.values = values

    def safe_get(self, name):
        return self.values.get(name)


def test_from_configuration_defaults_verify():
    client = ontap.OntapClient.from_configuration(_Conf(
        netapp_server_hostname='10.0.0.1', netapp_login='admin',
        netapp_password='secret', netapp_transport_type='https'))
    conn = client.connection
    assert conn.verify is True
    assert (conn.host, conn.port, conn.scheme) == ('10.0.0.1', 443, 'https')


def test_from_configuration_explicit_verify_off_only():
    base = dict(netapp_server_hostname='10.0.0.1', netapp_login='admin',
                netapp_password='secret', netapp_ssl_cert_path='/ca.pem')
    on = ontap.OntapClient.from_configuration(_Conf(
        netapp_ssl_cert_verify=True, **base))
    off = ontap.OntapClient.from_configuration(_Conf(
        netapp_ssl_cert_verify=False, **base))
    assert on.connection.verify == '/ca.pem'
    assert off.connection.verify is False


def test_from_configuration_against_simulator(sim):
    client = ontap.OntapClient.from_configuration(_Conf(
        netapp_server_hostname=sim.host, netapp_server_port=sim.port,
        netapp_login=sim.username, netapp_password=sim.password,
        netapp_transport_type='https', netapp_ssl_cert_path=sim.ca_file,
        netapp_eic_file_copy_return_timeout=60,
        netapp_eic_poll_initial_interval=0.02,
        netapp_eic_poll_max_interval=0.5))
    assert client.connection.verify == sim.ca_file
    assert client.connection.protocol_timeouts[1] >= 75
    assert (client.poll_initial_interval, client.poll_max_interval) == (
        0.02, 0.5)
    assert client.cluster_version() == (9, 14, 1)




@pytest.mark.parametrize('text, year', [
    ('2026-11-30T16:40:28+00:00', 2026), ('2026-11-30T16:40:28Z', 2026),
    ('not a time', None), ('', None)])
def test_parse_time(text, year):
    parsed = calls.parse_time(text)
    assert (parsed.year if parsed else None) == year
