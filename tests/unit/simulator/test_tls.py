# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""TLS material (trustme) and verification by real clients."""

import ipaddress
import os
import ssl
import stat

import pytest
import requests
from cryptography import x509

from netapp_eic.simulator import Simulator, tls


def test_generate_names_localhost_and_every_ip(tmp_path):
    ca, cert, key = tls.generate(str(tmp_path), ['127.0.0.9'])
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)  # the key matches the certificate
    with open(cert, 'rb') as f:
        leaf = x509.load_pem_x509_certificate(f.read())
    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ['localhost']
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address('127.0.0.1'), ipaddress.ip_address('127.0.0.9')}


def test_client_without_ca_fails(sim):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + '/api/cluster', verify=True, timeout=10,
                     auth=(sim.username, sim.password))


def test_client_with_ca_verifies_ip_and_localhost(sim, api):
    assert api.get(sim.url + '/api/cluster').status_code == 200
    url = f'https://localhost:{sim.port}/api/cluster'
    assert api.get(url).json()['name'] == 'cluster1'


def test_plain_http_on_request(tmp_path):
    with Simulator(data_root=str(tmp_path), tls=False) as sim:
        assert sim.url.startswith('http://') and sim.ca_file is None
        r = requests.get(sim.url + '/api/cluster',
                         auth=(sim.username, sim.password))
        assert r.json()['version']['major'] == 14
