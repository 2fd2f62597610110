# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The real virtual size of an image, from Glance's own bytes.

Glance's ``virtual_size`` is metadata anyone with write access to the image
can set; a cache entry cut to an understated one would give the next volume
wrong bytes. For a raw image the virtual size is the data's length, which
Glance computes as it stores it (``size``) and Cinder's download checks
against the image's hash. For any other format it is in the image header:
the first chunks of Glance's stream are enough, and the rest is not read.
"""

import collections.abc
import contextlib

from oslo_utils.imageutils import format_inspector

from netapp_eic import exception
from netapp_eic.core.types import ImageMeta

#: Most bytes of the stream read to find the header (qcow2 needs 512).
MAX_HEADER_BYTES = 1024 * 1024


def virtual_size(image_meta: ImageMeta,
                 chunks: collections.abc.Iterable[bytes]) -> int:
    """The image's virtual size in bytes.

    :param chunks: Glance's data stream of the image; closed after reading
        its header (not read at all for a raw image).
    :raises EicError: the size cannot be known.
    """
    disk_format = image_meta.get('disk_format')
    with contextlib.closing(_closable(chunks)):
        if disk_format == 'raw':
            size = image_meta.get('size')
            if isinstance(size, int) and size > 0:
                return size
            raise exception.EicError(reason='Glance reports no size for '
                                            'the raw image')
        return _from_header(str(disk_format), chunks)


def _from_header(disk_format: str,
                 chunks: collections.abc.Iterable[bytes]) -> int:
    inspector_class = format_inspector.get_inspector(disk_format)
    if inspector_class is None:
        raise exception.EicError(reason='no inspector for format %s' %
                                 disk_format)
    inspector = inspector_class()
    read = 0
    for chunk in chunks:
        inspector.eat_chunk(chunk)
        read += len(chunk)
        if inspector.format_match and inspector.virtual_size:
            return int(inspector.virtual_size)
        if read >= MAX_HEADER_BYTES:
            break
    raise exception.EicError(reason='no %s header with a virtual size in '
                                    'the first %d bytes' % (disk_format,
                                                            read))


class _closable:
    """Adapts any iterable to ``contextlib.closing``."""

    def __init__(self, chunks: collections.abc.Iterable[bytes]) -> None:
        self.chunks = chunks

    def close(self) -> None:
        close = getattr(self.chunks, 'close', None)
        if callable(close):
            close()
