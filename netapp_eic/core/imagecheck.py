# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Inspect an image file before it takes the fast path.

Every fast path (file clone, File Copy, copy offload tool) hands the bytes
of the Glance file to a volume without Cinder's download-path checks, so
they are redone here on the real file, with oslo.utils' format inspector:

* the detected format must equal the declared ``disk_format`` (a raw
  image whose bytes are qcow2 is refused, and vice versa);
* only ``raw`` and ``qcow2`` are supported, and only the ``bare`` container;
* the inspector's safety checks must pass (qcow2: no backing file, no
  external data file, no unknown incompatible feature);
* a non-raw image is only acceptable when conversion is allowed (Cinder's
  ``image_conversion_disable`` is False).

Detection is oslo.utils' format inspector (``InspectWrapper``, as
``detect_file_format`` uses it), which stops reading as soon as the format
is decided (a few hundred KiB at most for the formats accepted here), so a
huge or hostile file costs no more than its headers. The file is opened
without following links (:func:`netapp_eic.core.nofollow.open_regular`): a
symbolic link is refused, never inspected, and the size and headers read
are those of the one descriptor.
"""

import dataclasses
import os
import typing

from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from netapp_eic.core import nofollow
from netapp_eic import exception

LOG = logging.getLogger(__name__)

#: Declared formats the fast path accepts.
#: Glance's ``disk_format`` of a raw image, and what a conversion makes.
RAW = 'raw'
SUPPORTED_FORMATS = (RAW, 'qcow2')

#: Detected formats that are raw data (a partitioned disk is still raw).
_RAW_COMPATIBLE = (RAW, 'gpt')


@dataclasses.dataclass(frozen=True)
class ImageCheck:
    """The verdict on an image file.

    :ivar ok: True when the file may take the fast path.
    :ivar detected_format: what the inspector found (None if unknown).
    :ivar virtual_size: virtual disk size in bytes (None if unknown).
    :ivar reason: why it was refused, or a short summary when ok.
    """

    ok: bool
    detected_format: str | None
    virtual_size: int | None
    reason: str


def _refuse(reason: str, detected: str | None = None,
            size: int | None = None) -> ImageCheck:
    return ImageCheck(ok=False, detected_format=detected, virtual_size=size,
                      reason=reason)


def _detect(path: str, root: str | None
            ) -> tuple[format_inspector.FileInspector, int]:
    """The inspector that matched ``path``, and the file's size.

    :raises NotRegularFile: ``path`` is a link or not a regular file.
    :raises OSError: the file cannot be read.
    :raises ImageFormatError: no single format could be decided.
    """
    with nofollow.open_regular(path, root) as image:
        size = os.fstat(image.fileno()).st_size
        wrapper = format_inspector.InspectWrapper(image)
        inspector = None
        try:
            while inspector is None and wrapper.read(4096):
                inspector = wrapper.format
        finally:
            wrapper.close()
        inspector = inspector or wrapper.format
    if inspector is None:
        raise format_inspector.ImageFormatError(
            'the format could not be decided')
    return inspector, size


def _safety_failure(inspector: format_inspector.FileInspector
                    ) -> str | None:
    """The reason the file is unsafe, or None."""
    try:
        inspector.safety_check()
    except format_inspector.SafetyCheckFailed as exc:
        names = ', '.join(sorted(exc.failures))
        return f'safety check failed ({names})'
    except format_inspector.ImageFormatError as exc:
        return f'safety check impossible: {exc}'
    return None


def _format_mismatch(declared: str, detected: str) -> str | None:
    """Reason the declared and detected formats disagree, or None."""
    if declared == RAW and detected in _RAW_COMPATIBLE:
        return None
    if declared == detected:
        return None
    return f'declared disk_format {declared} but the data is {detected}'


def _precheck(declared_format: str | None,
              container_format: str | None) -> str | None:
    """Refusals that need no I/O."""
    if (container_format or 'bare') != 'bare':
        return (f'container_format {container_format} not supported on the '
                f'fast path')
    if declared_format not in SUPPORTED_FORMATS:
        return f'format {declared_format} not supported on the fast path'
    return None


def inspect_image(path: str, declared_format: str | None,
                  allow_conversion: bool = True,
                  container_format: str | None = 'bare',
                  root: str | None = None) -> ImageCheck:
    """Decide whether the image file at ``path`` may take the fast path.

    Never raises for a bad or unreadable image: the verdict says why.

    :param path: local path of the image file (on the NFS mount).
    :param declared_format: Glance's ``disk_format``.
    :param allow_conversion: False when Cinder's ``image_conversion_disable``
        is set; a non-raw image is then refused.
    :param container_format: Glance's ``container_format``; only ``bare``.
    :param root: the mount directory of the share holding ``path``: no
        directory below it in the path may be a symbolic link either.
    """
    reason = _precheck(declared_format, container_format)
    if reason:
        return _refuse(reason)
    try:
        inspector, file_size = _detect(path, root)
    except exception.NotRegularFile as exc:
        return _refuse(str(exc))
    except OSError as exc:
        return _refuse(f'cannot read the image file: {exc.strerror or exc}')
    except format_inspector.ImageFormatError as exc:
        return _refuse(f'format not recognized: {exc}')
    detected = str(inspector)
    size = _virtual_size(inspector, file_size)
    checks = (
        _format_mismatch(typing.cast(str, declared_format), detected),
        _safety_failure(inspector) if detected != RAW else None,
    )
    for failure in checks:
        if failure:
            return _refuse(failure, detected, size)
    if detected == 'qcow2' and not allow_conversion:
        return _refuse('image conversion is disabled', detected, size)
    reported = RAW if detected in _RAW_COMPATIBLE else detected
    return ImageCheck(ok=True, detected_format=reported, virtual_size=size,
                      reason=f'{detected} image passed the checks')


def _virtual_size(inspector: format_inspector.FileInspector,
                  file_size: int) -> int | None:
    """Virtual size: the file size for raw data, the header's otherwise."""
    if str(inspector) in _RAW_COMPATIBLE:
        return file_size
    try:
        return int(inspector.virtual_size) or None
    except (format_inspector.ImageFormatError, ValueError, TypeError):
        return None
