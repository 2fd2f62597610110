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
    """:class:`netapp_eic.core.host.Host` over a Cinder NFS driver."""

    def __init__(self, driver: typing.Any) -> None:
        self._driver = driver

    def mount_point(self, share: str) -> str:
        return str(self._driver._get_mount_point_for_share(share))

    def mounted_shares(self) -> collections.abc.Sequence[str]:
        pools = list(getattr(self._driver, '_mounted_shares', None) or ())
        return pools + [share for share in
                        getattr(self._driver, '_eic_image_shares', ())
                        if share not in pools]

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
                run_as_root=self._driver._execute_as_root)
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
