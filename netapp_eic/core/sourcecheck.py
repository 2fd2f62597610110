# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What a fast path checks before it trusts a file or a size.

A file a fast path clones or copies (a Glance image file, a cache entry)
must be a regular file with a single name, as ONTAP sees it (the files
API's ``type`` and ``hard_links_count``: ONTAP answers about the path
itself and never follows a symbolic link) and, where this host mounts its
FlexVol, as the mount shows it (:mod:`netapp_eic.core.nofollow`). Either
check alone leaves a gap: ONTAP's view is the one its clone and copy act
on; the host's is the one ``qemu-img`` and the hashing read, and the only
one that sees a symbolic link in a directory of the path.

An image's virtual size must fit both the volume and the backend's
``netapp_eic_max_image_virtual_size_gb`` before any copy, conversion or
publication: a tiny qcow2 can declare a petabyte.
"""

from netapp_eic import exception
from netapp_eic.core import nofollow
from netapp_eic.core.types import CreateRequest, Settings
from netapp_eic.i18n import _
from netapp_eic import ontap

GiB = 1024 ** 3


def ontap_problem(info: ontap.FileInfo | None, vol: ontap.FlexVol,
                  path: str) -> str | None:
    """Why ONTAP's answer about ``path`` rules it out, or None."""
    if info is None:
        return _('ONTAP reports no file %(path)s in FlexVol %(vol)s') % {
            'path': path, 'vol': vol.name}
    if info.type is None:
        return _('ONTAP did not report the type of %s') % path
    if info.type != 'file':
        return _('ONTAP reports %(path)s in FlexVol %(vol)s as a '
                 '%(type)s, not a regular file') % {
                     'path': path, 'vol': vol.name, 'type': info.type}
    if info.hard_links_count not in (None, 1):
        return _('ONTAP reports %(n)d hard links to %(path)s') % {
            'n': info.hard_links_count, 'path': path}
    return None


def require_regular(client: ontap.OntapClient, vol: ontap.FlexVol,
                    path: str, mount_dir: str | None = None
                    ) -> ontap.FileInfo:
    """ONTAP's record of ``path`` once it is known to be a regular file
    with one link, through ONTAP and, when ``mount_dir`` (the FlexVol's
    local mount) is given, on this host.

    :raises NotRegularFile: anything else; nothing is followed.
    """
    info = client.file_info(vol, path)
    problem = ontap_problem(info, vol, path)
    if problem is None and mount_dir is not None:
        problem = nofollow.regular_problem(mount_dir.rstrip('/') + '/' + path,
                                           mount_dir)
    if problem is not None or info is None:
        raise exception.NotRegularFile(path='%s:%s' % (vol.name, path),
                                       reason=problem)
    return info


def size_problem(virtual_size: int | None, request: CreateRequest,
                 settings: Settings) -> str | None:
    """Why an image of ``virtual_size`` bytes must not take a fast path
    for ``request``, or None."""
    if virtual_size is None:
        return None
    limit = settings.max_image_virtual_size
    if limit and virtual_size > limit:
        return _('image virtual size %(img)d exceeds the %(gib)d GiB '
                 'maximum (netapp_eic_max_image_virtual_size_gb)') % {
                     'img': virtual_size, 'gib': limit // GiB}
    if virtual_size > request.size_bytes:
        return _('image virtual size %(img)d exceeds the volume size '
                 '%(vol)d') % {'img': virtual_size,
                               'vol': request.size_bytes}
    return None


def check_size(virtual_size: int | None, request: CreateRequest,
               settings: Settings) -> None:
    """:func:`size_problem` as an :class:`~netapp_eic.exception.
    ImageUnsafe`."""
    problem = size_problem(virtual_size, request, settings)
    if problem:
        raise exception.ImageUnsafe(image_id=request.image_id,
                                    reason=problem)
