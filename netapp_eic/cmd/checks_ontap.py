# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Doctor checks that ask the cluster: connection, TLS, credentials,
ONTAP version, each share resolved to SVM, data LIF and FlexVol, and what
the copy offload tool needs.

They run in order and stop at the first failure of the connection, TLS or
credentials: what follows cannot be checked without them.
"""

import hashlib
import os
import socket
import ssl
import typing

from oslo_utils import units

from netapp_eic.cmd.base import Backend
from netapp_eic.cmd import checks
from netapp_eic.cmd.checks import Check
from netapp_eic.core import breaker
from netapp_eic.core import facts
from netapp_eic.core import nofollow
from netapp_eic.core import pools as pools_mod
from netapp_eic.core.types import TOOL_START_SECONDS
from netapp_eic import exception
from netapp_eic import support

CONNECT_TIMEOUT = 6.0


def endpoint(config: typing.Any) -> tuple[str, int, str]:
    """``(host, port, scheme)`` as the ONTAP client computes them."""
    scheme = config.safe_get('netapp_transport_type') or 'https'
    port = config.safe_get('netapp_server_port') or (
        443 if scheme == 'https' else 80)
    return str(config.safe_get('netapp_server_hostname')), int(port), scheme


def connection(backend: Backend) -> Check:
    host, port, _scheme = endpoint(backend.config)
    name = 'ONTAP connection'
    if not host or host == 'None':
        return checks.fail(name, 'netapp_server_hostname is not set',
                           'set netapp_server_hostname to the cluster (or '
                           'SVM) management address')
    try:
        with socket.create_connection((host, port), CONNECT_TIMEOUT):
            pass
    except OSError as e:
        return checks.fail(name, 'cannot connect to %s port %d: %s' % (
            host, port, e.strerror or e),
            'check netapp_server_hostname, netapp_server_port and the '
            'network path from this host to the management LIF')
    return checks.ok(name, '%s port %d reachable' % (host, port))


def tls(backend: Backend) -> Check:
    config = backend.config
    host, port, scheme = endpoint(config)
    name = 'ONTAP TLS'
    if scheme != 'https':
        return checks.warn(name, 'plain HTTP: the credentials cross the '
                           'network in clear', 'set netapp_transport_type '
                           '= https')
    if config.safe_get('netapp_ssl_cert_verify') is False:
        return checks.warn(name, 'netapp_ssl_cert_verify is False: the '
                           'cluster certificate is not verified',
                           'set netapp_ssl_cert_path to the CA bundle of the '
                           'cluster certificate and remove '
                           'netapp_ssl_cert_verify')
    ca_file = config.safe_get('netapp_ssl_cert_path') or None
    if ca_file and not os.path.isfile(ca_file):
        return checks.fail(name, 'netapp_ssl_cert_path %s does not exist'
                           % ca_file, 'point netapp_ssl_cert_path to the '
                           'CA bundle of the cluster certificate')
    context = ssl.create_default_context(cafile=ca_file)
    trust = ca_file or 'the system CA bundle'
    try:
        with socket.create_connection((host, port), CONNECT_TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError as e:
        return checks.fail(name, 'certificate of %s not trusted by %s: %s'
                           % (host, trust, e.verify_message),
                           'set netapp_ssl_cert_path to the CA bundle that '
                           'signed the cluster certificate (its name must '
                           'match netapp_server_hostname)')
    except (OSError, ssl.SSLError) as e:
        return checks.fail(name, 'TLS handshake with %s failed: %s' % (
            host, e), 'check that %s serves HTTPS on port %d' % (host, port))
    return checks.ok(name, 'certificate of %s verified against %s' % (
        host, trust))


def credentials(backend: Backend, client: typing.Any
                ) -> tuple[Check, tuple[int, int, int] | None]:
    """The credentials check, and the ONTAP version it read."""
    config = backend.config
    cert = config.safe_get('netapp_certificate_file')
    how = ('certificate %s' % cert if cert or config.safe_get(
        'netapp_private_key_file') else 'user %s with a password' %
        config.safe_get('netapp_login'))
    name = 'ONTAP credentials'
    try:
        version = client.cluster_version()
    except exception.OntapApiError as e:
        if e.status == 401:
            return checks.fail(name, 'ONTAP refused %s (HTTP 401)' % how,
                               'check netapp_login and netapp_password (or '
                               'netapp_certificate_file and '
                               'netapp_private_key_file)'), None
        return checks.fail(name, 'GET /api/cluster as %s failed: %s' % (
            how, e.msg), 'check that the account has the REST (http) '
            'application and a role that can read the cluster'), None
    return checks.ok(name, 'accepted %s' % how), version


def version(found: tuple[int, int, int]) -> Check:
    name = 'ONTAP version'
    text = support.dotted(found)
    if not support.ontap_supported(found):
        return checks.fail(name, 'ONTAP %s; netapp-eic needs %s or later '
                           '(REST file clone, File Copy, jobs)' % (
                               text, support.dotted(support.MIN_ONTAP)),
                           'upgrade the cluster')
    return checks.ok(name, 'ONTAP %s (>= %s: REST file clone, File Copy '
                     'and jobs)' % (text, support.dotted(support.MIN_ONTAP)))


def shares(backend: Backend, pools: pools_mod.Pools
           ) -> tuple[list[Check], dict[str, pools_mod.Pool]]:
    """One check per share, and the shares that resolved."""
    found: list[Check] = []
    resolved: dict[str, pools_mod.Pool] = {}
    vserver = backend.config.safe_get('netapp_vserver')
    for share in backend.shares():
        name = 'share %s' % share
        try:
            pool = pools.get(share)
        except exception.EicError as e:
            found.append(checks.fail(
                name, str(e.msg), 'list in nfs_shares_config only '
                '<data LIF>:<junction> of FlexVols of SVM %s' % vserver))
            continue
        vol = pool.flexvol
        detail = 'SVM %s, data LIF %s, FlexVol %s at %s' % (
            vol.svm, pool.ip, vol.name, vol.junction)
        if vserver and vol.svm != vserver:
            found.append(checks.fail(
                name, detail + ', but netapp_vserver is %s' % vserver,
                'use a data LIF of SVM %s, or set netapp_vserver' % vserver))
        elif vol.style != 'flexvol':
            found.append(checks.warn(
                name, detail + ' (%s)' % vol.style, 'EIC clones only within '
                'FlexVols (FlexGroups need ONTAP >= 9.14 file clone)'))
        else:
            found.append(checks.ok(name, detail))
            resolved[share] = pool
    return found, resolved


def copy_offload(backend: Backend, client: typing.Any,
                 resolved: dict[str, pools_mod.Pool]) -> list[Check]:
    tool = backend.config.safe_get('netapp_copyoffload_tool_path')
    name = 'copy offload tool'
    if not tool:
        return [checks.ok(name, 'not configured: ONTAP File Copy copies '
                          'between FlexVols')]
    found = []
    if not os.access(tool, os.X_OK):
        found.append(checks.fail(name, '%s is not an executable file' % tool,
                                 'install the tool there or unset '
                                 'netapp_copyoffload_tool_path'))
    else:
        found.append(checks.warn(name, '%s (deprecated; used instead of '
                                 'File Copy)' % tool, 'unset '
                                 'netapp_copyoffload_tool_path to use '
                                 'ONTAP File Copy'))
    found.append(tool_breaker(backend))
    for svm in sorted({p.flexvol.svm for p in resolved.values()}):
        check = 'vStorage on SVM %s' % svm
        try:
            enabled = client.vstorage_enabled(svm)
        except exception.EicError as e:
            found.append(checks.fail(check, str(e.msg), 'check the '
                                     'account can read NFS services'))
            continue
        if enabled:
            found.append(checks.ok(check, 'enabled'))
        else:
            found.append(checks.warn(
                check, 'disabled: the copy offload tool cannot copy here, '
                'EIC uses File Copy', 'vserver nfs modify -vserver %s '
                '-vstorage enabled' % svm))
    return found


def tool_breaker(backend: Backend) -> Check:
    """The copy offload tool's bound and its breaker, as this host's
    cinder-volume left it (the state file under ``state_path``)."""
    settings = backend.settings()
    name = 'copy offload breaker'
    if settings.copyoffload_timeout:
        bound = 'a run is bounded by %d s' % settings.copyoffload_timeout
    else:
        bound = ('a run is bounded by %d s plus the image size at %d MiB/s'
                 % (TOOL_START_SECONDS,
                    settings.copyoffload_min_rate // units.Mi))
    store = settings.copyoffload_breaker_file
    state = breaker.saved_state(store) if store else None
    if state is None or state.state == 'closed':
        return checks.ok(name, 'closed (the tool is used); %s; after a '
                         'failure it is skipped for %d s, doubling up to '
                         '%d s' % (bound, settings.copyoffload_breaker_period,
                                   settings.copyoffload_breaker_longest))
    return checks.warn(
        name, 'open for %d s more after %d failure(s) in a row: creates use '
        'File Copy; the last: %s' % (state.retry_in + 0.999, state.failures,
                                     state.last_failure),
        'fix the tool (cinder-volume\'s log has its failures) or unset '
        'netapp_copyoffload_tool_path; a success closes the breaker')


def glance_svm_peers(backend: Backend, client: typing.Any,
                     resolved: dict[str, pools_mod.Pool]) -> list[Check]:
    """For each SVM holding a FlexVol of Glance's (the shares of
    ``netapp_eic_image_shares``) other than a pool's: whether an SVM peer
    relationship lets File Copy copy from it, with the command to run."""
    shares = backend.config.safe_get('netapp_eic_image_shares') or []
    name = 'Glance SVMs'
    if not shares:
        return [checks.skip(name, 'none named (netapp_eic_image_shares): '
                            'a File Copy from another SVM needs an SVM '
                            'peer with file-copy; explain shows it per '
                            'image')]
    create = bool(backend.config.safe_get('netapp_eic_create_svm_peers'))
    pool_svms = sorted({p.flexvol.svm for p in resolved.values()})
    found = []
    for share in shares:
        try:
            svm = client.svm_for_ip(share.rsplit(':', 1)[0].strip('[]'))
        except exception.EicError as e:
            found.append(checks.fail('Glance share %s' % share, str(e.msg),
                                     'check the share\'s data LIF'))
            continue
        if svm is None:
            found.append(checks.fail(
                'Glance share %s' % share, 'no data LIF of this cluster',
                'name a share of this cluster in netapp_eic_image_shares'))
            continue
        for pool_svm in pool_svms:
            if pool_svm != svm:
                found.append(_peer_check(client, share, svm, pool_svm,
                                         create))
    return found or [checks.ok(name, 'in the pools\' SVM: no peer needed')]


def _peer_check(client: typing.Any, share: str, svm: str, pool_svm: str,
                create: bool) -> Check:
    name = 'SVM peer %s-%s' % (pool_svm, svm)
    try:
        peer = client.svm_peer(pool_svm, svm)
    except exception.EicError as e:
        return checks.warn(name, 'SVM peers unreadable: %s' % e.msg,
                           'grant the account read access to /svm/peers')
    fix = facts.peer_fix(pool_svm, svm, peer)
    if fix is None:
        return checks.ok(name, 'peered with file_copy: File Copy from '
                         'Glance share %s' % share)
    why, command = fix
    detail = '%s (Glance share %s)' % (why, share)
    if create:
        return checks.warn(name, detail + '; netapp_eic_create_svm_peers '
                           'creates it at the first copy', command)
    return checks.fail(name, detail + ': File Copy from it is skipped, '
                       'creates download', command)


def glance_flexvols(backend: Backend,
                    resolved: dict[str, pools_mod.Pool]) -> Check:
    """Which Glance FlexVols cinder-volume mounts read-only (configured,
    or found from image locations) so images are hashed during their
    copy."""
    name = 'Glance FlexVols'
    shares = backend.config.safe_get('netapp_eic_image_shares') or []
    svms = ', '.join(sorted({p.flexvol.svm for p in resolved.values()}))
    found = ('mounted at start: %s; ' % ', '.join(shares)) if shares else ''
    if backend.config.safe_get('netapp_eic_mount_glance_flexvols'):
        return checks.ok(name, found + 'any other FlexVol of SVM %s that an '
                         'image location names is mounted read-only when '
                         'first named (explain shows it per image); other '
                         'SVMs\' are never mounted' % (svms or '-'))
    if shares:
        return checks.ok(name, found + 'no other is mounted '
                         '(netapp_eic_mount_glance_flexvols is False)')
    return checks.warn(name, 'none mounted: images on other FlexVols are '
                       'hashed after their copy lands',
                       'set netapp_eic_mount_glance_flexvols = True or '
                       'name them in netapp_eic_image_shares')


#: Largest file the fingerprint check reads on the host to compare.
PROBE_MAX_BYTES = 1024 * 1024


def fingerprints(backend: Backend, client: typing.Any,
                 resolved: dict[str, pools_mod.Pool]) -> Check:
    """Whether ONTAP fingerprints a small existing file of a pool with the
    sha256 this host computes (then sha256 images are checked with no
    host byte read)."""
    name = 'array fingerprints'
    config = backend.config
    if not (config.safe_get('netapp_eic_verify_image_content') and
            config.safe_get('netapp_eic_array_fingerprints')):
        return checks.skip(name, 'not used (netapp_eic_verify_image_content '
                           'or netapp_eic_array_fingerprints is False)')
    probe = _probe_file(resolved.values())
    if probe is None:
        return checks.skip(name, 'no small file in a mounted pool to '
                           'fingerprint; cinder-volume probes at start')
    pool, file_name, want = probe
    try:
        got = client.file_fingerprint(pool.flexvol, file_name, 'sha256',
                                      30.0)
    except (exception.FingerprintUnavailable,
            exception.FingerprintFailed) as e:
        return checks.warn(name, '%s: images are hashed on the host' % e.msg,
                           'nothing required; fingerprints need ONTAP '
                           '9.7+ and the REST role\'s access to '
                           '/storage/snaplock/file-fingerprints')
    if got.hexdigest != want:
        return checks.fail(name, 'ONTAP\'s sha256 of %s in FlexVol %s '
                           'differs from this host\'s' % (
                               file_name, pool.flexvol.name),
                           'set netapp_eic_array_fingerprints = False and '
                           'report it to NetApp')
    return checks.ok(name, 'ONTAP fingerprints %s in FlexVol %s: sha256 '
                     'images are checked by the array' % (
                         file_name, pool.flexvol.name))


def _probe_file(pools: typing.Iterable[pools_mod.Pool]
                ) -> tuple[pools_mod.Pool, str, str] | None:
    """A pool, the name of a small regular file in its root and the file's
    sha256 as read here; None when there is none."""
    for pool in pools:
        try:
            names = sorted(os.listdir(pool.mount_dir))
        except OSError:
            continue
        for file_name in names:
            try:
                with nofollow.open_regular(pool.local(file_name),
                                           pool.mount_dir) as f:
                    data = f.read(PROBE_MAX_BYTES + 1)
            except (OSError, exception.EicError):
                continue
            if 0 < len(data) <= PROBE_MAX_BYTES:
                return pool, file_name, hashlib.sha256(data).hexdigest()
    return None
