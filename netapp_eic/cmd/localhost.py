# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A :class:`~netapp_eic.core.host.Host` over local directories.

``netapp-eic bench`` drives the EIC core against the embedded simulator,
whose FlexVols are directories on this machine: they are the "mounts".
Commands run without a shell and with a bound, images are converted by
``qemu-img``, locks are process locks. Everything a cinder-volume host
does, the simplest correct way, without Cinder.
"""

import collections.abc
import contextlib
import subprocess
import typing

from oslo_concurrency import lockutils

from netapp_eic.core import host
from netapp_eic import exception
from netapp_eic import process

#: Bound on a command (the copy offload tool) when the caller gives none.
DEFAULT_TIMEOUT = 3600.0


class LocalHost:
    """The host interface over ``{share: directory}``.

    :param shares: the directory of every share of the cluster.
    :param mounted: the shares this backend uses (its pools, and Glance's
        FlexVols among ``images``).
    :param images: those of ``mounted`` that are Glance's.
    """

    def __init__(self, shares: collections.abc.Mapping[str, str],
                 mounted: collections.abc.Sequence[str],
                 images: collections.abc.Sequence[str] = ()) -> None:
        unknown = set(mounted) - set(shares)
        if unknown:
            raise exception.EicError(reason='unknown shares: %s' % ', '.join(
                sorted(unknown)))
        self.shares = dict(shares)
        self.mounted = list(mounted)
        self.images = [share for share in images if share in self.mounted]
        # Named locks of this process, forgotten by the garbage collector
        # once nobody holds or waits for them (oslo.concurrency's own).
        self._locks = lockutils.Semaphores()

    def mount_point(self, share: str) -> str:
        try:
            return self.shares[share]
        except KeyError:
            raise exception.EicError(reason='share %s is not local' %
                                     share) from None

    def mounted_shares(self) -> collections.abc.Sequence[str]:
        return list(self.mounted)

    def image_shares(self) -> collections.abc.Sequence[str]:
        return list(self.images)

    def mount_image_share(self, share: str) -> None:
        """"Mount" a share of the cluster: its directory is local."""
        self.mount_point(share)
        if share not in self.mounted:
            self.mounted.append(share)
            self.images.append(share)

    def run(self, argv: collections.abc.Sequence[str],
            timeout: float | None = None) -> None:
        process.run_bounded(argv, timeout or DEFAULT_TIMEOUT)

    def convert_image(self, source: str, dest: str,
                      source_format: str) -> None:
        argv = ['qemu-img', 'convert', '-f', source_format, '-O', 'raw',
                source, dest]
        try:
            subprocess.run(argv, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            detail = getattr(e, 'stderr', None) or str(e)
            raise exception.ConversionFailed(
                reason=str(detail).strip()) from e

    def lock_object(self, name: str) -> typing.Any:
        """The lock named ``name``: a process lock here."""
        return self._locks.get(name)

    @contextlib.contextmanager
    def lock(self, name: str) -> collections.abc.Iterator[None]:
        with self.lock_object(name):
            yield

    @contextlib.contextmanager
    def try_lock(self, name: str) -> collections.abc.Iterator[bool]:
        with host.held_if_free(self.lock_object(name)) as got:
            yield got

    def forget_lock(self, name: str) -> None:
        """Nothing to do: an unheld lock is dropped by the garbage
        collector (``lockutils.Semaphores``)."""
