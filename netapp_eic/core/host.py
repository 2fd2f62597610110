# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The narrow interface between the EIC core and the host it runs on.

The core needs a few things only the cinder-volume host can do: find where
a share is mounted, list the mounted shares, mount Glance's FlexVols
read-only, run the copy offload tool,
convert an image with ``qemu-img`` (as root where the backend says so), and
take a named lock that other cinder-volume hosts respect (or learn, without
waiting, that it is held; and let the lock store forget it). The driver
implements :class:`Host` and hands it to the core; the core never sees the
driver. Tests hand it a small fake.
"""

import collections.abc
import contextlib
import typing


class Host(typing.Protocol):
    """What the EIC core asks of the cinder-volume host."""

    def mount_point(self, share: str) -> str:
        """Local directory where ``share`` (``ip:/junction``) is mounted."""

    def mounted_shares(self) -> collections.abc.Sequence[str]:
        """The shares of this backend that are mounted now."""

    def image_shares(self) -> collections.abc.Sequence[str]:
        """Those of :meth:`mounted_shares` that are Glance's FlexVols,
        mounted read-only (not pools: nothing is written there)."""

    def mount_image_share(self, share: str) -> None:
        """Mount ``share`` (a FlexVol of Glance's) read-only, if it is not
        mounted yet.

        :raises Exception: it could not be mounted.
        """

    def run(self, argv: collections.abc.Sequence[str],
            timeout: float | None = None) -> None:
        """Run a command without a shell, unprivileged, in its own process
        group; when ``timeout`` passes the whole group is killed.

        :raises netapp_eic.exception.CommandTimeout: it timed out.
        :raises netapp_eic.exception.EicError: it failed.
        """

    def convert_image(self, source: str, dest: str,
                      source_format: str) -> None:
        """Convert ``source`` to a raw image at ``dest`` (``qemu-img``)."""

    def lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        """A named exclusive lock, held across hosts when a distributed
        lock manager is configured."""

    def forget_lock(self, name: str) -> None:
        """Drop what a lock store keeps for ``name`` (a ``file://`` store
        keeps a file per lock) once nothing will take it again soon."""

    def try_lock(self, name: str) -> contextlib.AbstractContextManager[bool]:
        """The lock ``name`` if it is free now: yields True while holding
        it, False (without waiting) when someone else holds it."""


class _Lock(typing.Protocol):
    def acquire(self, blocking: bool = ...) -> typing.Any: ...

    def release(self) -> typing.Any: ...


@contextlib.contextmanager
def held_if_free(lock: _Lock) -> collections.abc.Iterator[bool]:
    """Take ``lock`` without waiting; yield whether it was got, and release
    it after the block if it was (for :meth:`Host.try_lock`)."""
    got = bool(lock.acquire(blocking=False))
    try:
        yield got
    finally:
        if got:
            lock.release()
