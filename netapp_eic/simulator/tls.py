# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A throw-away CA and a server certificate for the simulator (trustme).

The server certificate names ``localhost``, ``127.0.0.1`` and any extra IPs
(e.g. the topology's data LIFs), so clients verify TLS for real against
``ca_file``; nothing is ever added to a system trust store.
"""

import os
from collections.abc import Iterable

import trustme

ORGANIZATION = 'netapp-eic simulator'


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def generate(directory: str, ips: Iterable[str] = ('127.0.0.1',)
             ) -> tuple[str, str, str]:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` in ``directory``.

    Returns ``(ca_file, cert_file, key_file)``; the key is readable by its
    owner only.
    """
    names = list(dict.fromkeys(['localhost', '127.0.0.1', *ips]))
    ca = trustme.CA(organization_name=ORGANIZATION)
    cert = ca.issue_cert(*names, organization_name=ORGANIZATION)
    ca_file = os.path.join(directory, 'ca.pem')
    cert_file = os.path.join(directory, 'server.pem')
    key_file = os.path.join(directory, 'server.key')
    _write(ca_file, ca.cert_pem.bytes())
    _write(cert_file, b''.join(b.bytes() for b in cert.cert_chain_pems))
    _write(key_file, cert.private_key_pem.bytes(), mode=0o600)
    return ca_file, cert_file, key_file
