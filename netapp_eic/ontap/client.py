# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The driver's ONTAP client: every ONTAP REST call, through
``netapp_ontap``.

:class:`OntapClient` always passes its own ``HostConnection`` explicitly
(``connection=`` on class-level and action calls, ``set_connection()`` on a
resource before ``get()``, which takes no connection argument); it never
touches the library-wide ``netapp_ontap.config.CONNECTION``. Its calls are
grouped by subject: :mod:`.cluster`, :mod:`.filecalls`, :mod:`.jobcalls`,
:mod:`.fingerprints` (ONTAP's digest of a file).
"""

import collections.abc
import threading
import typing

from netapp_ontap import host_connection
from oslo_log import log as logging

from netapp_eic.ontap import calls
from netapp_eic.ontap import cluster
from netapp_eic.ontap import filecalls
from netapp_eic.ontap import fingerprints
from netapp_eic.ontap import trace

LOG = logging.getLogger(__name__)

#: HTTP read timeout added on top of a request's ``return_timeout``.
_READ_TIMEOUT_MARGIN = 15


class OntapClient(cluster.ClusterCalls, filecalls.FileCalls,
                  fingerprints.FingerprintCalls):
    """The driver's ONTAP client; every method does I/O, the constructor none.

    :param connection: the ``netapp_ontap`` connection used by every call.
    :param poll_initial_interval: first wait between job polls, seconds.
    :param poll_max_interval: largest wait between job polls, seconds.
    :param lookup_ttl: how long FlexVol lists and LIF owners are reused
        before ONTAP is asked again, seconds.
    """

    def __init__(self, connection: host_connection.HostConnection,
                 poll_initial_interval: float = 0.05,
                 poll_max_interval: float = 2.0,
                 lookup_ttl: float = cluster.LOOKUP_TTL) -> None:
        self.connection = connection
        self.poll_initial_interval = poll_initial_interval
        self.poll_max_interval = poll_max_interval
        self.lookup_ttl = lookup_ttl
        self._flexvols: dict[str, tuple[float, list[calls.FlexVol]]] = {}
        self._svm_by_ip: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_configuration(
            cls, configuration: typing.Any,
            trace_enabled: collections.abc.Callable[[], bool] | None = None
    ) -> 'OntapClient':
        """Build a client from a Cinder backend ``Configuration``, with the
        same options as the parent driver's ONTAP client.

        * Address: ``netapp_server_hostname``, ``netapp_server_port``,
          ``netapp_transport_type``.
        * Authentication: certificate and key
          (``netapp_certificate_file``, ``netapp_private_key_file``, over
          HTTPS, as Cinder 29 does) when both are set, else
          ``netapp_login`` and ``netapp_password``.
        * TLS: verification is on by default (system CA bundle);
          ``netapp_ca_certificate_file``, else ``netapp_ssl_cert_path``,
          is the CA bundle; only an explicit ``netapp_ssl_cert_verify =
          False`` turns it off, as for the parent driver.
        * Tracing: ``netapp_api_trace_pattern``, while ``trace_enabled()``
          (Cinder's ``trace_flags = api``) says so.

        No request is made.
        """
        scheme = configuration.safe_get('netapp_transport_type') or 'https'
        auth = _auth(configuration)
        if 'cert' in auth:
            scheme = 'https'
        port = configuration.safe_get('netapp_server_port')
        if not port:
            port = 443 if scheme == 'https' else 80
        verify: bool | str = True
        ca_file = (configuration.safe_get('netapp_ca_certificate_file') or
                   configuration.safe_get('netapp_ssl_cert_path'))
        if ca_file:
            verify = ca_file
        if configuration.safe_get('netapp_ssl_cert_verify') is False:
            LOG.warning('netapp_ssl_cert_verify is False: the EIC client '
                        'does not verify the ONTAP certificate.')
            verify = False
        return_timeout = int(configuration.safe_get(
            'netapp_eic_file_copy_return_timeout') or 0)
        connection = host_connection.HostConnection(
            configuration.safe_get('netapp_server_hostname'),
            verify=typing.cast(bool, verify),
            port=int(port),
            scheme=scheme,
            protocol_timeouts=(6, max(45, return_timeout +
                                      _READ_TIMEOUT_MARGIN)),
            username=auth.get('username'), password=auth.get('password'),
            cert=auth.get('cert'), key=auth.get('key'))
        pattern = configuration.safe_get('netapp_api_trace_pattern')
        if trace_enabled is not None and pattern:
            trace.install(connection, pattern, trace_enabled)
        return cls(connection, **_poll_settings(configuration))


def _auth(configuration: typing.Any) -> dict[str, str | None]:
    """Keyword arguments of ``HostConnection`` for the configured
    authentication (see :meth:`OntapClient.from_configuration`)."""
    cert = configuration.safe_get('netapp_certificate_file')
    key = configuration.safe_get('netapp_private_key_file')
    if cert and key:
        return {'cert': cert, 'key': key}
    if cert or key:
        LOG.warning('Only one of netapp_certificate_file and '
                    'netapp_private_key_file is set: the EIC client uses '
                    'netapp_login and netapp_password, as the parent '
                    'driver does.')
    return {'username': configuration.safe_get('netapp_login'),
            'password': configuration.safe_get('netapp_password')}


def _poll_settings(configuration: typing.Any) -> dict[str, float]:
    """Poll intervals from the EIC options, defaults when unset."""
    settings: dict[str, float] = {}
    for key, opt in (('poll_initial_interval',
                      'netapp_eic_poll_initial_interval'),
                     ('poll_max_interval', 'netapp_eic_poll_max_interval')):
        value = configuration.safe_get(opt)
        if value:
            settings[key] = float(value)
    return settings
