# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance's FlexVols, found from image locations and mounted read-only.

A Glance file on another FlexVol is copied by ONTAP (File Copy); when this
host mounts that FlexVol, the file is inspected before the copy and hashed
while ONTAP copies it, instead of hashing the copy after it lands. An
operator may name such FlexVols (``netapp_eic_image_shares``); without
that, a location naming an NFS export of a FlexVol served by a data LIF of
a pool's SVM (resolved through ONTAP, as pools are) has that FlexVol
mounted read-only here (``netapp_eic_mount_glance_flexvols``). Exports of
other SVMs or other clusters are never mounted. A mount that fails is
tried again after :data:`RETRY_SECONDS`; :meth:`GlanceMounts.report` says
which FlexVols are mounted and why.
"""

import dataclasses
import threading
import time

from oslo_log import log as logging

from netapp_eic.core.context import Context
from netapp_eic.core import failure
from netapp_eic.core.pools import Pool
from netapp_eic import ontap

LOG = logging.getLogger(__name__)

#: How long a share that could not be mounted is left alone.
RETRY_SECONDS = 300.0


@dataclasses.dataclass(frozen=True)
class MountState:
    """A Glance FlexVol's mount on this host: ``mounted`` and why, or
    why not."""

    share: str
    flexvol: str
    mounted: bool
    why: str


class GlanceMounts:
    """The Glance FlexVols of one backend on this host."""

    def __init__(self, ctx: Context) -> None:
        self.host = ctx.host
        self.pools = ctx.pools
        self.settings = ctx.settings
        self._states: dict[str, tuple[MountState, float]] = {}
        self._lock = threading.Lock()

    def mount_of(self, ip: str, vol: ontap.FlexVol, image_id: str
                 ) -> Pool | None:
        """The local mount of Glance's FlexVol ``vol``, served at ``ip``
        (an image location's data LIF), mounting it read-only when that
        is allowed; None when it is not mounted."""
        share = '%s:%s' % (ip, vol.junction or '/')
        problem = self._refusal(vol)
        if problem is not None:
            self._note(MountState(share, vol.name, False, problem))
            return None
        with self._lock:
            known = self._states.get(share)
        if known and not known[0].mounted and (
                time.monotonic() - known[1] < RETRY_SECONDS):
            return None
        try:
            if share not in self.host.mounted_shares():
                self.host.mount_image_share(share)
                LOG.info('Mounted Glance FlexVol %(vol)s (%(share)s) '
                         'read-only: image %(image)s has a location there.',
                         {'vol': vol.name, 'share': share,
                          'image': image_id})
            pool = self.pools.get(share)
        except Exception as e:  # hashed after the copy instead
            failure.log_failure(e, 'Glance FlexVol %(share)s could not be '
                                'mounted; its images are hashed after '
                                'their copy', {'share': share})
            self._note(MountState(share, vol.name, False,
                                  'mount failed: %s' % failure.reason_of(e)))
            return None
        self._note(MountState(share, vol.name, True, 'mounted read-only: '
                              'image %s has a location there' % image_id))
        return pool

    def _refusal(self, vol: ontap.FlexVol) -> str | None:
        if not self.settings.mount_glance_flexvols:
            return 'not mounted: netapp_eic_mount_glance_flexvols is False'
        svms = {pool.flexvol.svm for pool in self.pools.backend_pools()}
        if vol.svm not in svms:
            return ('not mounted: SVM %s serves no pool of this backend'
                    % vol.svm)
        return None

    def _note(self, state: MountState) -> None:
        with self._lock:
            known = self._states.get(state.share)
            if known is None or known[0] != state:
                self._states[state.share] = (state, time.monotonic())

    def report(self) -> list[MountState]:
        """Every Glance FlexVol a location named, and the configured ones:
        mounted or not, and why."""
        configured = [MountState(share, share.rsplit(':', 1)[-1], True,
                                 'mounted read-only: netapp_eic_image_shares')
                      for share in self.host.image_shares()]
        with self._lock:
            found = [state for state, _ in self._states.values()]
        named = {state.share for state in found}
        return sorted(found + [s for s in configured if s.share not in named],
                      key=lambda state: state.share)
