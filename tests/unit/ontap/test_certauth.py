# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The EIC client built from the parent driver's certificate and trace
options.

The simulator accepts Basic authentication only, so certificate
authentication is checked against a minimal HTTPS server started here that
requires a client certificate signed by a test CA (what ONTAP does for a
certificate-authenticated account) and answers ``GET /api/cluster``; it
records the certificate the client presented.
"""

import datetime
import json
import logging
import socketserver
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
import pytest

from netapp_eic import exception
from netapp_eic import ontap
from netapp_eic.simulator import tls


class Conf:
    def __init__(self, **values):
        self.values = values

    def safe_get(self, name):
        return self.values.get(name)


def _cert(subject, issuer_name, issuer_key, key, ca, usage=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_name or name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage),
                                        critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def client_cert(tmp_path):
    """A client CA, and a client certificate and key for user ``admin``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert('client CA', None, None, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert('admin', ca.subject, ca_key, key, False,
                 [ExtendedKeyUsageOID.CLIENT_AUTH])
    pem = serialization.Encoding.PEM
    paths = {name: str(tmp_path / name) for name in
             ('client-ca.pem', 'client.pem', 'client.key')}
    with open(paths['client-ca.pem'], 'wb') as f:
        f.write(ca.public_bytes(pem))
    with open(paths['client.pem'], 'wb') as f:
        f.write(cert.public_bytes(pem))
    with open(paths['client.key'], 'wb') as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class _Handler(socketserver.StreamRequestHandler):
    """Answers any request with the cluster record, noting the client
    certificate and any Authorization header."""

    def handle(self):
        lines = []
        while True:
            line = self.rfile.readline(8192)
            if line in (b'', b'\r\n', b'\n'):
                break
            lines.append(line.decode('latin-1').rstrip('\r\n'))
        if not lines:
            return
        headers = dict(h.split(': ', 1) for h in lines[1:] if ': ' in h)
        peer = self.connection.getpeercert()
        self.server.seen.append({
            'subject': dict(x[0] for x in peer['subject']),
            'authorization': headers.get('Authorization'),
            'request': lines[0]})
        body = json.dumps({'name': 'cluster1', 'version': {
            'generation': 9, 'major': 14, 'minor': 1,
            'full': 'NetApp Release 9.14.1'}}).encode()
        self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/'
                         b'json\r\nConnection: close\r\nContent-Length: '
                         + str(len(body)).encode() + b'\r\n\r\n' + body)


class _CertServer(socketserver.ThreadingTCPServer):
    """HTTPS on 127.0.0.1 requiring a client certificate. The handshake
    runs in each connection's thread, bounded, so a client that fails it
    cannot stall the accept loop. Built on ``socketserver`` directly:
    Cinder's test machinery may have left an eventlet-patched
    ``http.server`` in ``sys.modules``, whose server would wait on green
    locks."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, context):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.context = context
        self.seen = []

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(conn, client_address, self)


@pytest.fixture
def cert_server(tmp_path, client_cert):
    """A :class:`_CertServer` trusting the client CA; yields its port, the
    CA of its own certificate and the requests it saw."""
    server_dir = tmp_path / 'server'
    server_dir.mkdir()
    ca_file, cert_file, key_file = tls.generate(str(server_dir))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(client_cert['client-ca.pem'])
    server = _CertServer(context)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], ca_file, server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_certificate_options_build_a_certificate_connection(client_cert):
    client = ontap.OntapClient.from_configuration(Conf(
        netapp_server_hostname='10.0.0.1', netapp_transport_type='http',
        netapp_login='ignored', netapp_password='ignored',
        netapp_certificate_file=client_cert['client.pem'],
        netapp_private_key_file=client_cert['client.key'],
        netapp_ca_certificate_file='/etc/ontap-ca.pem'))
    conn = client.connection
    assert (conn.scheme, conn.port) == ('https', 443)  # as Cinder forces
    assert conn.cert_auth == (client_cert['client.pem'],
                              client_cert['client.key'])
    assert conn.basic_auth is None
    assert conn.verify == '/etc/ontap-ca.pem'
    assert conn.session.cert == conn.cert_auth


def test_half_certificate_configuration_uses_the_password(client_cert):
    client = ontap.OntapClient.from_configuration(Conf(
        netapp_server_hostname='10.0.0.1', netapp_login='admin',
        netapp_password='secret',
        netapp_certificate_file=client_cert['client.pem']))
    assert client.connection.basic_auth == ('admin', 'secret')
    assert client.connection.cert_auth is None


def test_the_certificate_is_presented(cert_server, client_cert):
    port, ca_file, seen = cert_server
    client = ontap.OntapClient.from_configuration(Conf(
        netapp_server_hostname='127.0.0.1', netapp_server_port=port,
        netapp_certificate_file=client_cert['client.pem'],
        netapp_private_key_file=client_cert['client.key'],
        netapp_ca_certificate_file=ca_file))
    assert client.cluster_version() == (9, 14, 1)
    assert seen[0]['subject'] == {'commonName': 'admin'}
    assert seen[0]['authorization'] is None


def test_without_the_certificate_the_server_refuses(cert_server):
    port, ca_file, seen = cert_server
    client = ontap.OntapClient.from_configuration(Conf(
        netapp_server_hostname='127.0.0.1', netapp_server_port=port,
        netapp_transport_type='https', netapp_login='admin',
        netapp_password='secret', netapp_ssl_cert_path=ca_file))
    with pytest.raises(exception.OntapApiError):
        client.cluster_version()
    assert seen == []


def test_trace_pattern_and_flag(sim, caplog):
    caplog.set_level(logging.DEBUG, logger='netapp_eic.ontap.trace')
    enabled = [True]
    client = ontap.OntapClient.from_configuration(Conf(
        netapp_server_hostname=sim.host, netapp_server_port=sim.port,
        netapp_login=sim.username, netapp_password=sim.password,
        netapp_transport_type='https', netapp_ssl_cert_path=sim.ca_file,
        netapp_api_trace_pattern='^/cluster'),
        trace_enabled=lambda: enabled[0])
    client.cluster_version()
    client.flexvols('vs0')
    enabled[0] = False
    client.cluster_version()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert lines[0].startswith('ONTAP API GET /cluster?fields=version -> '
                               '200 in ')
    assert sim.password not in caplog.text
