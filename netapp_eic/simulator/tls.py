# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A throw-away CA and a server certificate for the simulator.

The server certificate carries SAN ``IP:127.0.0.1`` (plus any extra IPs,
e.g. the topology's data LIFs) and ``DNS:localhost``, so clients can verify
TLS for real against ``ca_file``.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'netapp-eic simulator'),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30)))


def _make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name('netapp-eic simulator CA')
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_server(ca_key, ca_cert, ips):
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName('localhost')]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (_builder(_name('localhost'), ca_cert.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def generate(directory, ips=('127.0.0.1',)):
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` in ``directory``.

    Returns ``(ca_file, cert_file, key_file)``.
    """
    ips = list(dict.fromkeys(['127.0.0.1'] + list(ips)))
    ca_key, ca_cert = _make_ca()
    key, cert = _make_server(ca_key, ca_cert, ips)
    pem = serialization.Encoding.PEM
    ca_file = os.path.join(directory, 'ca.pem')
    cert_file = os.path.join(directory, 'server.pem')
    key_file = os.path.join(directory, 'server.key')
    _write(ca_file, ca_cert.public_bytes(pem))
    _write(cert_file, cert.public_bytes(pem))
    _write(key_file, key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    return ca_file, cert_file, key_file
