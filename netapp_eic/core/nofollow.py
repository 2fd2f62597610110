# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Files on a share, opened and removed without following links.

A fast path hands a file's bytes to a tenant's volume. If that file were a
symbolic link, following it would hand over whatever the link names: a
file of the cinder-volume host, or another tenant's ``volume-<uuid>``. A
hard link is the same danger under another name. So every file the EIC
core reads, hashes, inspects, truncates or removes on a mount goes through
this module:

* each directory below the share's mount directory is opened with
  ``O_NOFOLLOW | O_DIRECTORY`` relative to the previous one, so a symbolic
  link anywhere in the path fails instead of leading elsewhere;
* the file itself is opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a
  FIFO cannot block the open), then must be a regular file with a single
  link (``fstat`` of the open descriptor: no window between check and use).

The ONTAP side of the same rule (the file type ONTAP reports) is
:mod:`netapp_eic.core.sourcecheck`'s.
"""

import errno
import io
import os
import stat

from netapp_eic import exception
from netapp_eic.i18n import _

_KINDS = ((stat.S_ISDIR, 'a directory'), (stat.S_ISLNK, 'a symbolic link'),
          (stat.S_ISFIFO, 'a FIFO'), (stat.S_ISSOCK, 'a socket'),
          (stat.S_ISCHR, 'a character device'),
          (stat.S_ISBLK, 'a block device'))


def _refuse(path: str, reason: str) -> exception.NotRegularFile:
    return exception.NotRegularFile(path=path, reason=reason)


def kind_of(mode: int) -> str:
    """What a ``st_mode`` is, in words (``'a regular file'``...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'a regular file' if stat.S_ISREG(mode) else 'an unknown file type'


def _parts(path: str, root: str) -> list[str]:
    """The components of ``path`` (absolute, or relative to ``root``)
    below ``root``; refuses anything else."""
    rel = os.path.relpath(os.path.abspath(os.path.join(root, path)),
                          os.path.abspath(root))
    parts = rel.split(os.sep)
    if rel == '.' or any(p in ('', '.', '..') for p in parts):
        raise _refuse(path, _('not a file below %s') % root)
    return parts


def _open_parent(path: str, root: str) -> tuple[int, str]:
    """A descriptor of the directory holding ``path`` (each component
    opened without following links) and the file's name in it."""
    parts = _parts(path, root)
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY |
                                os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse(path, _('directory %s in its path is a '
                                          'symbolic link or not a '
                                          'directory') % part) from e
                raise
            os.close(dir_fd)
            dir_fd = child
    except BaseException:
        os.close(dir_fd)
        raise
    return dir_fd, parts[-1]


def _check_open(path: str, fd: int) -> None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, _('it is %s, not a regular file') %
                      kind_of(st.st_mode))
    if st.st_nlink != 1:
        raise _refuse(path, _('it has %d hard links (another name of the '
                              'same data)') % st.st_nlink)


def open_regular(path: str, root: str | None = None,
                 write: bool = False) -> io.FileIO:
    """Open ``path`` if it is a regular file with one link, never
    following a symbolic link.

    :param root: the share's mount directory; when given, no component of
        ``path`` below it may be a symbolic link either.
    :param write: open for reading and writing (to truncate).
    :raises NotRegularFile: a link, a directory, a device, several links.
    :raises FileNotFoundError: nothing is there.
    """
    flags = ((os.O_RDWR if write else os.O_RDONLY) | os.O_NOFOLLOW |
             os.O_NONBLOCK | os.O_CLOEXEC)
    dir_fd: int | None = None
    name = path
    if root is not None:
        dir_fd, name = _open_parent(path, root)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _refuse(path, _('it is a symbolic link')) from e
        raise
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    try:
        _check_open(path, fd)
    except BaseException:
        os.close(fd)
        raise
    return io.FileIO(fd, 'r+' if write else 'r', closefd=True)


def regular_problem(path: str, root: str | None = None) -> str | None:
    """Why ``path`` is not a regular file one may read, or None."""
    try:
        open_regular(path, root).close()
    except exception.NotRegularFile as e:
        return str(e.kwargs.get('reason') or e)
    except FileNotFoundError:
        return _('%s does not exist') % path
    except OSError as e:
        return _('%(path)s cannot be opened: %(err)s') % {
            'path': path, 'err': e.strerror or e}
    return None


def is_regular(path: str, root: str | None = None) -> bool:
    """True when ``path`` is a regular file with one link, reached
    without following any link (see :func:`open_regular`)."""
    return regular_problem(path, root) is None


def size_of(path: str, root: str | None = None) -> int:
    """Size of the regular file ``path`` (see :func:`open_regular`)."""
    with open_regular(path, root) as f:
        return os.fstat(f.fileno()).st_size


def existing_kind(path: str, root: str) -> str | None:
    """What is at ``path`` (``'a regular file'``, ``'a symbolic link'``...)
    without following it, or None when nothing is."""
    try:
        dir_fd, name = _open_parent(path, root)
    except FileNotFoundError:
        return None
    try:
        return kind_of(os.lstat(name, dir_fd=dir_fd).st_mode)
    except FileNotFoundError:
        return None
    finally:
        os.close(dir_fd)


def unlink_in(root: str, path: str) -> bool:
    """Remove the file or link ``path`` below ``root`` through the mount
    (when ONTAP cannot): never follows a link, never removes a directory.

    :returns: False when nothing was there.
    :raises NotRegularFile: ``path`` is a directory.
    """
    dir_fd, name = _open_parent(path, root)
    try:
        try:
            mode = os.lstat(name, dir_fd=dir_fd).st_mode
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(mode):
            raise _refuse(path, _('it is a directory'))
        os.unlink(name, dir_fd=dir_fd)
        return True
    finally:
        os.close(dir_fd)
