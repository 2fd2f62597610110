# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic doctor``: preflight of one backend before enabling it.

Each check is a row: name, result (ok, warn, fail, skip), what was found,
and what to do. The exit status is 1 when any check failed, else 0.
Nothing is changed anywhere: ONTAP is only read (GET, and one file
fingerprint of a small existing file of a pool, which reads it), the host
only looked at.
"""

import argparse
import collections.abc

from netapp_eic import backend as backend_mod
from netapp_eic.cmd import base
from netapp_eic.cmd import checks
from netapp_eic.cmd import checks_host
from netapp_eic.cmd import checks_ontap
from netapp_eic.core import pools as pools_mod

COLUMNS = ('Check', 'Result', 'Detail', 'Action')


class Doctor(base.EicLister):
    """Check a backend: ONTAP, TLS, credentials, shares, mounts, copy
    offload, coordination, the agent's notifications, Glance locations and
    the image caches."""

    def take_action(self, parsed_args: argparse.Namespace
                    ) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        backend = self.eic_app.backend()
        found = list(run_checks(backend))
        if any(c.result is checks.Result.FAIL for c in found):
            self.exit_status = 1
        return COLUMNS, [c.row() for c in found]


def run_checks(backend: base.Backend
               ) -> collections.abc.Iterator[checks.Check]:
    """Every check of ``backend``, in order."""
    yield checks_host.volume_driver(backend)
    yield checks_host.cinder_release(backend)
    shares_check, shares = checks_host.shares_file(backend)
    yield shares_check
    yield from checks_host.ca_environment()
    yield from _ontap_checks(backend, bool(shares))
    mounted = backend_mod.mounted_paths()
    yield from checks_host.mounts(backend, shares, mounted)
    yield checks_host.coordination(backend)
    yield checks_host.agent_notifications(backend)
    yield checks_host.glance_locations(backend)
    yield from checks_host.cache_usage(backend, shares, mounted)


def _ontap_checks(backend: base.Backend, have_shares: bool
                  ) -> collections.abc.Iterator[checks.Check]:
    first = [checks_ontap.connection(backend)]
    if first[0].result is checks.Result.OK:
        first.append(checks_ontap.tls(backend))
    yield from first
    if first[-1].result is checks.Result.FAIL:
        yield checks.skip('ONTAP checks', 'not run: %s failed' % (
            first[-1].name))
        return
    client = backend.ontap_client()
    check, version = checks_ontap.credentials(backend, client)
    yield check
    if version is None:
        yield checks.skip('ONTAP checks', 'not run: credentials refused')
        return
    yield checks_ontap.version(version)
    if not have_shares:
        return
    pools = pools_mod.Pools(client, base.MountHost(backend))
    share_checks, resolved = checks_ontap.shares(backend, pools)
    yield from share_checks
    yield from checks_ontap.copy_offload(backend, client, resolved)
    yield from checks_ontap.glance_svm_peers(backend, client, resolved)
    yield checks_ontap.glance_flexvols(backend, resolved)
    yield checks_ontap.fingerprints(backend, client, resolved)
