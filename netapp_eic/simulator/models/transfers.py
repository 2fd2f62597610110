# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File clone within one FlexVol and file copy between FlexVols.

A clone is done before the answer (reflink or a hole-preserving copy,
built under a hidden name and renamed into place) and reported as a
finished job. A copy runs in a job thread that advances the job's message
as bytes land in the destination file; faults (``fail_after_percent``,
``throttle_bps``, ``no_space``) shape it.

Neither ever reads through a symbolic link: a link as a source (or as a
copy destination) is refused with :class:`errors.SymlinkRefused`, since
what ONTAP does with one is not documented. A copy between FlexVols of two
SVMs needs the SVMs peered with the ``file_copy`` application, as on
ONTAP (:class:`errors.PeerRequired` otherwise); the copy offload tool's
copy does not. With the ``defer_errors`` fault the errors found in a
request's files (missing source, existing destination, no space, a link,
SVMs not peered) become a failed job instead of an error answer, as ONTAP
may report them.
"""

import functools
import os
import stat
import threading
from typing import Any

from netapp_eic.simulator import errors, fsops, query
from netapp_eic.simulator.models import paths
from netapp_eic.simulator.models.cluster import Cluster, Svm, SvmPeer, Volume
from netapp_eic.simulator.models.files import Files
from netapp_eic.simulator.models.jobs import Job, Jobs

Pair = tuple[str, Volume, str]
#: Errors about the files (and their SVMs) of a request, which
#: ``defer_errors`` turns into a failed job.
FILE_ERRORS = (errors.FileNotFound, errors.DestinationExists,
               errors.NoSpace, errors.SymlinkRefused, errors.PeerRequired)
#: The SVM peer application a File Copy between SVMs needs.
COPY_APPLICATION = 'file_copy'


def _cli_applications(applications: list[str]) -> str:
    """``snapmirror,file-copy``: applications as the CLI spells them."""
    return ','.join(a.replace('_', '-') for a in applications)


def peer_required_message(src: Svm, dst: Svm,
                          relationship: SvmPeer | None) -> str:
    """Why a copy from ``src`` to ``dst`` is refused, and the command that
    would allow it."""
    need = (f'File copy from SVM "{src.name}" to SVM "{dst.name}" needs an '
            'SVM peer relationship between them with the file-copy '
            'application')
    if relationship is None:
        return (f'{need}; there is none. Create one: "vserver peer create '
                f'-vserver {dst.name} -peer-vserver {src.name} '
                '-applications file-copy" (POST /api/svm/peers).')
    wanted = list(dict.fromkeys(relationship.applications +
                                [COPY_APPLICATION]))
    return (f'{need}; theirs is {relationship.state} with applications '
            f'{_cli_applications(relationship.applications)}. Add it: '
            f'"vserver peer modify -vserver {dst.name} -peer-vserver '
            f'{src.name} -applications {_cli_applications(wanted)}" '
            '(PATCH /api/svm/peers/{uuid}).')


def _advance(job: Job, base: int, position: int) -> None:
    job.advance(base + position)


class Transfers:
    """Clone and copy over the FlexVols of ``cluster``."""

    def __init__(self, cluster: Cluster, files: Files, jobs: Jobs,
                 clone_mode: str) -> None:
        self.cluster = cluster
        self.files = files
        self.jobs = jobs
        self.clone_mode = clone_mode

    @staticmethod
    def check_space(vol: Volume, src_target: str,
                    no_space: bool = False) -> None:
        """Raise NoSpace when ``src_target`` would not fit in ``vol``."""
        need = fsops.file_allocated(src_target)
        available = vol.space()['available']
        if no_space or need > available:
            raise errors.NoSpace(
                f'Not enough space in volume {vol.name}: {need} bytes '
                f'needed, {0 if no_space else available} available.')

    def _failed(self, description: str, error: errors.OntapError) -> Job:
        job = self.jobs.new(description)
        job.running()
        job.fail(error.message, error.code)
        return job

    @staticmethod
    def _source(vol: Volume, rel: str, target: str, field: str) -> None:
        """A source must be a regular file, never a link."""
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            raise errors.FileNotFound(
                f'Source file "{rel}" not found in volume {vol.name}.',
                target=field) from None
        if stat.S_ISLNK(mode):
            raise errors.SymlinkRefused(
                f'Source "{rel}" in volume {vol.name} is a symbolic link; '
                'the simulator refuses links as sources.', target=field)
        if not stat.S_ISREG(mode):
            raise errors.BadRequest(
                f'Source "{rel}" in volume {vol.name} is not a regular file.',
                target=field)

    @staticmethod
    def _destination(vol: Volume, rel: str, target: str, overwrite: bool,
                     field: str, link_ok: bool = True) -> None:
        try:
            mode: int | None = os.lstat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise errors.DestinationExists(
                f'Destination "{rel}" is a directory.', target=field)
        if mode is not None and stat.S_ISLNK(mode) and not link_ok:
            raise errors.SymlinkRefused(
                f'Destination "{rel}" in volume {vol.name} is a symbolic '
                'link; the simulator never writes through links.',
                target=field)
        if mode is not None and not overwrite:
            raise errors.DestinationExists(
                f'Destination file "{rel}" already exists in volume '
                f'{vol.name}.', target=field)
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Destination directory of "{rel}" does not exist.',
                target=field)

    # -- clone -------------------------------------------------------------

    def clone(self, vol: Volume, source: object, destination: object,
              overwrite: bool = False, faults: dict[str, Any] | None = None
              ) -> Job:
        """Clone a file within one FlexVol; returns the finished Job."""
        faults = faults or {}
        description = (f'File clone {source} -> {destination} in volume '
                       f'{vol.name}')
        try:
            src_rel, src = self._clone_path(vol, source, 'source_path')
            dst_rel, dst = self._clone_path(vol, destination,
                                            'destination_path', write=True)
            self._source(vol, src_rel, src, 'source_path')
            self._destination(vol, dst_rel, dst, overwrite,
                              'destination_path')
            self.check_space(vol, src, faults.get('no_space', False))
        except FILE_ERRORS as e:
            if not faults.get('defer_errors'):
                raise
            return self._failed(description, e)
        fsops.clone_file(src, dst, self.clone_mode)
        job = self.jobs.new(description)
        job.succeed(f'Clone of {dst_rel} created ({self.clone_mode}).')
        return job

    def _clone_path(self, vol: Volume, path: object, field: str,
                    write: bool = False) -> tuple[str, str]:
        try:
            return self.files.resolve(vol, path, write=write, field=field)
        except paths.PathOutside as e:
            if e.other is not None and e.other is not vol:
                raise errors.CrossVolume(
                    f'File clone across FlexVols is not supported: "{path}" '
                    f'is in volume {e.other.name}, the request names volume '
                    f'{vol.name}.', target=field) from None
            raise

    # -- copy --------------------------------------------------------------

    def copy_side(self, side: object, what: str, svm_scope: str | None = None
                  ) -> tuple[Volume, str, str]:
        """``(volume, rel, abs)`` of one side of a file copy request.

        Accepts ``volume.uuid``/``volume.name`` with a path relative to the
        volume, Cinder's ``"<volume name>/<file>"`` form, and ``svm.name``.
        A request scoped to an SVM sees only that SVM's volumes.
        """
        flat = query.flatten(side)
        field = f'files_to_copy.{what}.path'
        path = flat.get('path')
        if not isinstance(path, str) or not path.strip('/'):
            raise errors.BadRequest(f'{what}.path is required.', target=field)
        svm_name = flat.get('svm.name')
        if flat.get('svm.uuid'):
            svm_name = self.cluster.svm(flat['svm.uuid']).name
        path = path.lstrip('/')
        if flat.get('volume.uuid'):
            vol = self.cluster.volume(flat['volume.uuid'])
        else:
            vol = self.cluster.volume_by_name(
                flat.get('volume.name') or path.split('/')[0], svm_name)
        for svm in (svm_name, svm_scope):
            if svm is not None and vol.svm.name != svm:
                raise errors.NotFound(
                    f'Volume {vol.name} is not in SVM {svm}.',
                    target='svm.name')
        if path.startswith(vol.name + '/'):
            path = path[len(vol.name) + 1:]
        rel, target = self.files.resolve(vol, path, write=what != 'source',
                                         field=field)
        return vol, rel, target

    def check_peered(self, src: Svm, dst: Svm) -> None:
        """A copy between two SVMs needs them peered for file copy."""
        if src is dst:
            return
        relationship = self.cluster.peering(src, dst)
        if relationship is None or not relationship.allows(COPY_APPLICATION):
            raise errors.PeerRequired(
                peer_required_message(src, dst, relationship),
                target='files_to_copy')

    def start_copy(self, files: object, max_throughput: int | None = None,
                   faults: dict[str, Any] | None = None,
                   overwrite: bool = False, description: str | None = None,
                   svm_scope: str | None = None,
                   peer_check: bool = True) -> Job:
        """Validate a file copy request and start its job thread.

        ``peer_check=False`` skips the SVM peer requirement (the copy
        offload tool's copy, which needs vStorage instead).
        """
        if not isinstance(files, list) or not files:
            raise errors.BadRequest('files_to_copy must be a non-empty list.',
                                    target='files_to_copy')
        faults = dict(faults or {})
        description = description or f'File copy of {len(files)} file(s)'
        try:
            pairs = [self._pair(entry, overwrite, svm_scope, peer_check)
                     for entry in files]
        except FILE_ERRORS as e:
            if not faults.get('defer_errors'):
                raise
            return self._failed(description, e)
        job = self.jobs.new(description)
        job.total = sum(os.path.getsize(p[0]) for p in pairs)
        job.thread = threading.Thread(
            target=self._run_copy, name=f'sim-copy-{job.uuid[:8]}',
            args=(job, pairs, max_throughput, faults), daemon=True)
        job.thread.start()
        return job

    def _pair(self, entry: object, overwrite: bool,
              svm_scope: str | None, peer_check: bool = True) -> Pair:
        entry = entry if isinstance(entry, dict) else {}
        svol, srel, src = self.copy_side(entry.get('source'), 'source',
                                         svm_scope)
        dvol, drel, dst = self.copy_side(entry.get('destination'),
                                         'destination', svm_scope)
        if peer_check:
            self.check_peered(svol.svm, dvol.svm)
        self._source(svol, srel, src, 'files_to_copy.source.path')
        self._destination(dvol, drel, dst, overwrite,
                          'files_to_copy.destination.path', link_ok=False)
        return src, dvol, dst

    def _run_copy(self, job: Job, pairs: list[Pair],
                  max_throughput: int | None,
                  faults: dict[str, Any]) -> None:
        throttle = [b for b in (max_throughput, faults.get('throttle_bps'))
                    if b]
        pct = faults.get('fail_after_percent')
        total = job.total or 0
        fail_at = None if pct is None else total * float(pct) / 100
        job.running()
        base = 0
        try:
            for src, dvol, dst in pairs:
                self.check_space(dvol, src, faults.get('no_space', False))
                size = os.path.getsize(src)
                local_fail = None
                if fail_at is not None and fail_at <= base + size:
                    local_fail = max(0, int(fail_at - base))
                fsops.sparse_copy(
                    src, dst, throttle_bps=min(throttle) if throttle else None,
                    stop=job.stop, fail_at=local_fail,
                    progress=functools.partial(_advance, job, base))
                base += size
            job.succeed()
        except fsops.CopyStopped:
            job.fail('cancelled', 1)
        except fsops.CopyFault:
            job.fail(f'Injected failure after {pct}% of the copy '
                     f'({job.done_bytes} of {job.total} bytes).', 5)
        except errors.OntapError as e:
            job.fail(e.message, e.code)
        except OSError as e:
            job.fail(f'File copy failed: {e.strerror}', 5)
