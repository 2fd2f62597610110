# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Doctor checks of this host and of cinder.conf: driver and Cinder
release, the shares file and mounts, the coordination backend, Glance
location access, whether Glance's notifications reach the agent, and what
each pool's image cache holds."""

import datetime
import os
import urllib.parse

from netapp_eic.agent import agentstate
from netapp_eic.cmd import base
from netapp_eic.cmd.base import Backend
from netapp_eic.cmd import checks
from netapp_eic.cmd.checks import Check
from netapp_eic.core import cache
from netapp_eic.ontap import progress
from netapp_eic import support

DRIVER = 'netapp_eic.driver.NetAppEicNfsDriver'


def volume_driver(backend: Backend) -> Check:
    loaded = backend.raw_option('volume_driver')
    name = 'volume driver'
    if loaded != DRIVER:
        return checks.warn(name, '[%s] loads %s' % (backend.name, loaded),
                           'set volume_driver = %s for EIC' % DRIVER)
    return checks.ok(name, DRIVER)


def cinder_release(backend: Backend) -> Check:
    version = support.cinder_version()
    name = 'Cinder release'
    if support.cinder_tested(version):
        return checks.ok(name, 'Cinder %s (tested)' % version)
    message = support.untested_cinder_message(version)
    if backend.config.safe_get('netapp_eic_allow_untested_cinder'):
        return checks.warn(name, message, 'run the tests of netapp-eic '
                           'against this release')
    return checks.fail(name, message, 'the driver refuses to start: use a '
                       'tested release or set the option')


def shares_file(backend: Backend) -> tuple[Check, list[str]]:
    path = backend.config.safe_get('nfs_shares_config')
    name = 'nfs_shares_config'
    try:
        shares = backend.shares()
    except Exception as e:
        return checks.fail(name, str(e), 'list the FlexVols\' shares, one '
                           '<data LIF>:<junction> a line'), []
    if not shares:
        return checks.fail(name, '%s lists no share' % path, 'list the '
                           'FlexVols\' shares, one <data LIF>:<junction> a '
                           'line'), []
    return checks.ok(name, '%s: %d share(s)' % (path, len(shares))), shares


def mounts(backend: Backend, shares: list[str],
           mounted: set[str]) -> list[Check]:
    found = []
    for share in shares:
        point = backend.mount_point(share)
        name = 'mount %s' % share
        if point in mounted:
            found.append(checks.ok(name, 'mounted at %s' % point))
        else:
            found.append(checks.warn(
                name, 'not mounted at %s' % point, 'cinder-volume mounts it '
                'when the backend starts; until then its cache and image '
                'files cannot be read here'))
    return found


def cache_usage(backend: Backend, shares: list[str],
                mounted: set[str]) -> list[Check]:
    found = []
    for share in shares:
        point = backend.mount_point(share)
        name = 'cache %s' % share
        if point not in mounted:
            found.append(checks.skip(name, 'not mounted here'))
            continue
        listed = cache.ImageCache(point, share).entries()
        entries, size = len(listed), sum(e.size for e in listed)
        temporaries = [n for n in os.listdir(point)
                       if n.startswith(cache.TEMP_PREFIX)]
        detail = '%d entries, %s' % (entries, progress.human_bytes(size))
        if not backend.config.safe_get('netapp_eic_cache_enabled'):
            detail += '; netapp_eic_cache_enabled is False'
        if temporaries:
            found.append(checks.warn(
                name, detail + '; %d temporary file(s) of interrupted '
                'creates' % len(temporaries), 'the driver\'s periodic '
                'cleanup removes them once they are old'))
        else:
            found.append(checks.ok(name, detail))
    return found


def coordination(backend: Backend) -> Check:
    url = backend.conf.coordination.backend_url or ''
    cluster = backend.conf.cluster
    parts = urllib.parse.urlsplit(url)
    name = 'coordination'
    if parts.scheme == 'file':
        detail = 'per-host locks (%s)' % url
        if cluster:
            return checks.fail(
                name, detail + ', but [DEFAULT] cluster = %s runs this '
                'backend active/active: two hosts may copy one image at '
                'once' % cluster, 'set [coordination] backend_url to a '
                'shared tooz backend (etcd3+http://, redis://...)')
        return checks.ok(name, detail + '; enough while one cinder-volume '
                         'serves the backend')
    # The URL may carry credentials: show the scheme and host only.
    return checks.ok(name, 'shared locks (%s://%s)' % (
        parts.scheme, parts.hostname or ''))


def glance_locations(backend: Backend) -> Check:
    group = backend.conf.glance
    name = 'Glance locations'
    if group.auth_type:
        who = getattr(group, 'username', None) or getattr(
            group, 'user_id', None) or 'the configured user'
        return checks.ok(name, '[glance] service credentials (auth_type '
                         '%s, user %s): Cinder reads locations through '
                         'Glance\'s service-only locations API' % (
                             group.auth_type, who))
    return checks.warn(
        name, 'no service credentials in [glance]: Cinder falls back to '
        'the image GET, which shows locations only when Glance has '
        'show_multiple_locations and show_image_direct_url on',
        'add a [glance] section with a user having the service role, or '
        'turn both options on in glance-api.conf (see OSSN-0065)')


def ca_environment() -> list[Check]:
    """A CA bundle in the environment overrides netapp_ssl_cert_path for
    ``requests``: ignored here, but cinder-volume would use it."""
    return [checks.warn(
        'environment %s' % name, '%s=%s would replace netapp_ssl_cert_path '
        'for the ONTAP client (requests reads it); ignored here' % (
            name, value), 'make sure cinder-volume\'s environment does not '
        'set it') for name, value in sorted(
            base.ignored_environment.items())]


NOTIFICATIONS_ACTION = ('in glance-api.conf set '
                        '[oslo_messaging_notifications] driver = messagingv2 '
                        'and the transport_url the agent listens on '
                        '(netapp_eic_agent_transport_url)')


def agent_notifications(backend: Backend) -> Check:
    """Whether ``netapp-eic agent`` runs here and Glance's notifications
    reach its listener pool (from the state the agent writes)."""
    name = 'agent notifications'
    path = agentstate.state_file(backend.conf.state_path, backend.name)
    found = agentstate.load(path)
    if found is None:
        return checks.skip(name, 'netapp-eic agent has not run on this '
                                 'host (no %s)' % path)
    if not agentstate.running(found):
        return checks.warn(name, 'netapp-eic agent is not running (last '
                           'state in %s)' % path, 'systemctl start '
                           'netapp-eic-agent')
    pool = found.listener_pool
    if not found.connected:
        return checks.warn(name, 'the agent is not connected to the '
                           'notification transport (listener pool %s)'
                           % pool, 'see the agent\'s log; check '
                           'netapp_eic_agent_transport_url')
    if found.last_event:
        return checks.ok(name, 'listener pool %s: last notification %s of '
                         'image %s at %s' % (
                             pool, found.last_event_type,
                             found.last_event_image, _when(found.last_event)))
    if found.missed_by_notifications:
        return checks.warn(name, 'no Glance notification reached listener '
                           'pool %s; the reconcile caught up %d image(s) '
                           'instead' % (pool, found.missed_by_notifications),
                           NOTIFICATIONS_ACTION)
    return checks.ok(name, 'listening in pool %s; no image event since the '
                     'agent started' % pool)


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(
        timestamp, datetime.timezone.utc).isoformat(timespec='seconds')
