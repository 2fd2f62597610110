# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The one exception module of the driver side of netapp-eic.

Every error raised by the driver modules derives from :class:`EicError`,
itself a Cinder ``VolumeDriverException`` when Cinder is importable (the
normal case inside cinder-volume; the ONTAP client and the core also import
without it). Messages are ``%(name)s`` templates, as in Cinder.
"""

import typing

from netapp_eic.i18n import _


class _StandaloneError(Exception):
    """The base when Cinder is not installed: Cinder's message handling."""

    message = _('An unknown exception occurred.')

    def __init__(self, message: str | None = None,
                 **kwargs: typing.Any) -> None:
        self.kwargs = kwargs
        if not message:
            try:
                message = self.message % kwargs
            except (KeyError, TypeError):
                message = self.message
        self.msg = message
        super().__init__(message)


if typing.TYPE_CHECKING:
    from cinder.exception import VolumeDriverException as _Base
else:
    try:
        from cinder.exception import VolumeDriverException as _Base
    except ImportError:  # pragma: no cover - the client without Cinder
        _Base = _StandaloneError


class EicError(_Base):
    message = _('NetApp EIC error: %(reason)s')


class OntapApiError(EicError):
    """An ONTAP REST call failed; carries the HTTP status and ONTAP code."""

    message = _('ONTAP API call %(call)s failed (HTTP %(status)s, '
                'code %(code)s): %(reason)s')

    def __init__(self, message: str | None = None,
                 **kwargs: typing.Any) -> None:
        self.status: int | None = kwargs.get('status')
        self.code: str | None = kwargs.get('code')
        super().__init__(message, **kwargs)


class OntapJobFailed(EicError):
    message = _('ONTAP job %(job)s ended in state %(state)s: %(reason)s')


class OntapJobTimeout(EicError):
    message = _('ONTAP job %(job)s did not finish within %(timeout)s s')


class LocationRejected(EicError):
    message = _('Image location %(location)s rejected: %(reason)s')


class ImageUnsafe(EicError):
    message = _('Image %(image_id)s refused for the fast path: %(reason)s')


class CopyOffloadFailed(EicError):
    message = _('Copy offload tool failed: %(reason)s')


class NotVisible(EicError):
    message = _('File %(path)s did not become visible on the NFS mount '
                'within %(timeout)s s')


class NotRegularFile(EicError):
    """A file a fast path would read, clone, copy or write is not a
    regular file of the FlexVol (a symbolic link, a directory, a device, a
    file with other names): it is refused, never followed."""

    message = _('File %(path)s refused: %(reason)s')


class ContentMismatch(EicError):
    """The bytes of an image file are not the ones Glance recorded."""

    message = _('Image %(image_id)s content does not match Glance: '
                '%(reason)s')


class CommandTimeout(CopyOffloadFailed):
    message = _('%(cmd)s did not finish within %(timeout)s s; its process '
                'group was killed')


class ConversionFailed(EicError):
    message = _('Image conversion failed: %(reason)s')


class StepSkipped(EicError):
    """A planned step not tried after all: its means is unavailable now
    (the copy offload tool's breaker is open); the next step is tried."""
    message = _('%(reason)s')


class FingerprintUnavailable(EicError):
    """ONTAP does not fingerprint this file (the endpoint is missing, the
    call is refused: no licence, no privilege, not a SnapLock FlexVol):
    the host hashes instead."""

    message = _('ONTAP cannot fingerprint %(path)s: %(reason)s')


class FingerprintFailed(EicError):
    """A fingerprint session ONTAP accepted did not give a digest (it
    failed, vanished or ran past its bound and was aborted)."""

    message = _('ONTAP fingerprint of %(path)s gave no digest: %(reason)s')
