# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The EIC core's window on a cinder-volume host.

:class:`CinderHost` implements :class:`netapp_eic.core.host.Host` over a
Cinder NFS driver: its mounts (os-brick's mount points), commands run
without a shell and bounded, ``qemu-img`` through Cinder's image utilities
(as root where the backend says so), and Cinder's coordinator for locks
(tooz: held across hosts with a shared ``[coordination] backend_url``).
"""

import collections.abc
import contextlib
import typing

from cinder import coordination
from cinder import exception as cinder_exception
from cinder.image import image_utils
from oslo_concurrency import lockutils
from oslo_concurrency import processutils

from netapp_eic.core import host
from netapp_eic import exception
from netapp_eic import process


class CinderHost:
    """:class:`netapp_eic.core.host.Host` over a Cinder NFS driver, from
    what the driver hands it.

    :param mount_point: the driver's mount point of a share.
    :param mounted_shares: the shares the driver has mounted now (its pools
        and Glance's FlexVols).
    :param as_root: whether the backend runs commands as root.
    :param image_shares: those of the mounted shares that are Glance's.
    :param mount_image_share: mounts a Glance FlexVol read-only.
    """

    def __init__(self, mount_point: typing.Callable[[str], str],
                 mounted_shares: typing.Callable[
                     [], collections.abc.Sequence[str]],
                 as_root: typing.Callable[[], bool],
                 image_shares: typing.Callable[
                     [], collections.abc.Sequence[str]] = list,
                 mount_image_share: typing.Callable[[str], None] | None
                 = None) -> None:
        self._mount_point = mount_point
        self._mounted_shares = mounted_shares
        self._as_root = as_root
        self._image_shares = image_shares
        self._mount_image_share = mount_image_share

    def mount_point(self, share: str) -> str:
        return str(self._mount_point(share))

    def mounted_shares(self) -> collections.abc.Sequence[str]:
        return self._mounted_shares()

    def image_shares(self) -> collections.abc.Sequence[str]:
        return self._image_shares()

    def mount_image_share(self, share: str) -> None:
        if self._mount_image_share is None:
            raise exception.EicError(reason='this host mounts no Glance '
                                            'FlexVol')
        self._mount_image_share(share)

    def run(self, argv: collections.abc.Sequence[str],
            timeout: float | None = None) -> None:
        """Run ``argv`` unprivileged, without a shell, in its own process
        group, killed as a whole when ``timeout`` passes (Cinder's
        ``execute`` would kill the command only, not what it started)."""
        process.run_bounded(argv, timeout)

    def convert_image(self, source: str, dest: str,
                      source_format: str) -> None:
        """``qemu-img convert`` through Cinder (throttled, as root where
        the backend says so); its failures become ConversionFailed."""
        try:
            image_utils.convert_image(
                source, dest, 'raw', src_format=source_format,
                run_as_root=self._as_root())
        except (processutils.ProcessExecutionError,
                cinder_exception.CinderException) as e:
            raise exception.ConversionFailed(reason=str(e)) from e

    def forget_lock(self, name: str) -> None:
        """Remove the lock's file from a ``file://`` store (others keep
        nothing once released)."""
        if getattr(coordination.COORDINATOR, 'coordinator', None):
            coordination.COORDINATOR.remove_lock(name)

    @contextlib.contextmanager
    def lock(self, name: str) -> collections.abc.Iterator[None]:
        """Cinder's coordinator lock (tooz: across hosts with a DLM
        ``backend_url``) when it runs, else a process lock."""
        if getattr(coordination.COORDINATOR, 'coordinator', None):
            with coordination.COORDINATOR.get_lock(name):
                yield
        else:
            with lockutils.lock(name):
                yield

    @contextlib.contextmanager
    def try_lock(self, name: str) -> collections.abc.Iterator[bool]:
        """The lock of :meth:`lock` if it is free now, without waiting."""
        coordinator = getattr(coordination.COORDINATOR, 'coordinator', None)
        if coordinator:
            lock = coordination.COORDINATOR.get_lock(name)
        else:
            lock = lockutils.internal_lock(name)
        with host.held_if_free(lock) as got:
            yield got
