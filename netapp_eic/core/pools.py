# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Pools: a backend's NFS shares resolved to SVM, FlexVol and local mount.

A Cinder pool of this driver is an NFS share ``ip:/junction``. ONTAP says
which SVM owns the data LIF ``ip`` and which of its FlexVols is mounted at
``junction``; the host says where the share is mounted locally. A
:class:`Pool` holds both views, so a step can name a file to ONTAP (FlexVol
+ path) and check it on the mount.
"""

import dataclasses
import os
import typing

from oslo_log import log as logging

from netapp_eic import ontap
from netapp_eic.core import cache
from netapp_eic.core import failure
from netapp_eic.core import host as host_mod
from netapp_eic.core import locations
from netapp_eic import exception
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Pool:
    """A share resolved to its FlexVol and local mount directory."""

    share: str
    ip: str
    junction: str
    flexvol: ontap.FlexVol
    mount_dir: str

    @property
    def cache(self) -> cache.ImageCache:
        return cache.ImageCache(self.mount_dir, self.flexvol.name)

    def local(self, name: str) -> str:
        """Local path of ``name`` (a path inside the FlexVol)."""
        return os.path.join(self.mount_dir, name)


class Pools:
    """Resolves shares through ONTAP (:class:`~netapp_eic.ontap.
    OntapClient`, which caches FlexVol lists) and the host's mounts."""

    def __init__(self, client: ontap.OntapClient, host: host_mod.Host,
                 resolve_host: locations.Resolver = locations.default_resolver
                 ) -> None:
        self.client = client
        self.host = host
        self.resolve_host = resolve_host

    def get(self, share: str) -> Pool:
        """Resolve ``share`` (``ip:/junction``, host names allowed).

        :raises LocationRejected: not a data LIF, or no FlexVol there.
        """
        host, junction = share.rsplit(':', 1)
        ip = self.resolve_host(host.strip('[]'))
        if ip is None:
            raise exception.LocationRejected(
                location=share, reason=_('%s does not resolve') % host)
        svm = self.client.svm_for_ip(ip)
        if svm is None:
            raise exception.LocationRejected(
                location=share, reason=_('%s is not a data LIF of this '
                                         'cluster') % ip)
        vol = self._find(svm, lambda v: v.junction == junction)
        if vol is not None:
            return Pool(share, ip, junction, vol,
                        self.host.mount_point(share))
        raise exception.LocationRejected(
            location=share, reason=_('no FlexVol of SVM %(svm)s is mounted '
                                     'at %(j)s') % {'svm': svm, 'j': junction})

    def mounted(self) -> list[Pool]:
        """Every mounted share that resolves; the others are skipped."""
        pools = []
        for share in self.host.mounted_shares():
            try:
                pools.append(self.get(share))
            except exception.EicError as e:
                if failure.kind_of(e) is failure.Kind.ROUTINE:
                    LOG.debug('Share %(share)s skipped: %(err)s',
                              {'share': share, 'err': e})
                else:
                    failure.log_failure(e, 'Share %(share)s skipped',
                                        {'share': share})
        return pools

    def backend_pools(self) -> list[Pool]:
        """The mounted pools of the backend, without Glance's FlexVols."""
        images = set(self.host.image_shares())
        return [pool for pool in self.mounted() if pool.share not in images]

    def _find(self, svm: str,
              match: typing.Callable[[ontap.FlexVol], bool]
              ) -> ontap.FlexVol | None:
        """The first FlexVol of ``svm`` that matches; a miss reads the
        list again once (a FlexVol added or recreated since)."""
        for attempt in range(2):
            if attempt:
                self.client.forget_flexvols(svm)
            for vol in self.client.flexvols(svm):
                if match(vol):
                    return vol
        return None

    def flexvol(self, svm: str, name: str) -> ontap.FlexVol:
        """The FlexVol ``name`` of ``svm``."""
        vol = self._find(svm, lambda v: v.name == name)
        if vol is not None:
            return vol
        raise exception.EicError(reason=_('FlexVol %(vol)s of SVM %(svm)s '
                                          'not found') % {'vol': name,
                                                          'svm': svm})
