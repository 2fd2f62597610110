# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File clone within one FlexVol and file copy between FlexVols.

A clone is done before the answer (reflink or a hole-preserving copy,
built under a hidden name and renamed into place) and reported as a
finished job. A copy runs in a job thread that advances the job's message
as bytes land; faults (``fail_after_percent``, ``throttle_bps``,
``no_space``) shape it.
"""

import functools
import os
import threading
from typing import Any

from netapp_eic.simulator import errors, fsops, query
from netapp_eic.simulator.models import paths
from netapp_eic.simulator.models.cluster import Cluster, Volume
from netapp_eic.simulator.models.files import Files
from netapp_eic.simulator.models.jobs import Job, Jobs

Pair = tuple[str, Volume, str]


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

    # -- clone -------------------------------------------------------------

    def clone(self, vol: Volume, source: object, destination: object,
              overwrite: bool = False, no_space: bool = False) -> Job:
        """Clone a file within one FlexVol; returns the finished Job."""
        src_rel, src = self._clone_path(vol, source, 'source_path')
        dst_rel, dst = self._clone_path(vol, destination, 'destination_path')
        if not os.path.isfile(src):
            raise errors.FileNotFound(
                f'Source file "{src_rel}" not found in volume {vol.name}.',
                target='source_path')
        self._check_destination(vol, dst_rel, dst, overwrite)
        self.check_space(vol, src, no_space)
        fsops.clone_file(src, dst, self.clone_mode)
        job = self.jobs.new(
            f'File clone {src_rel} -> {dst_rel} in volume {vol.name}')
        job.succeed(f'Clone of {dst_rel} created ({self.clone_mode}).')
        return job

    def _clone_path(self, vol: Volume, path: object,
                    field: str) -> tuple[str, str]:
        try:
            return self.files.resolve(vol, path)
        except paths.PathOutside as e:
            if e.other is not None and e.other is not vol:
                raise errors.CrossVolume(
                    f'File clone across FlexVols is not supported: "{path}" '
                    f'is in volume {e.other.name}, the request names volume '
                    f'{vol.name}.', target=field) from None
            raise

    @staticmethod
    def _check_destination(vol: Volume, rel: str, target: str,
                           overwrite: bool) -> None:
        if os.path.isdir(target):
            raise errors.DestinationExists(
                f'Destination "{rel}" is a directory.',
                target='destination_path')
        if os.path.lexists(target) and not overwrite:
            raise errors.DestinationExists(
                f'Destination file "{rel}" already exists in volume '
                f'{vol.name}.', target='destination_path')
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Destination directory of "{rel}" does not exist.',
                target='destination_path')

    # -- copy --------------------------------------------------------------

    def copy_side(self, side: object, what: str) -> tuple[Volume, str, str]:
        """``(volume, rel, abs)`` of one side of a file copy request.

        Accepts ``volume.uuid``/``volume.name`` with a path relative to the
        volume, Cinder's ``"<volume name>/<file>"`` form, and ``svm.name``.
        """
        flat = query.flatten(side)
        path = flat.get('path')
        if not isinstance(path, str) or not path.strip('/'):
            raise errors.BadRequest(f'{what}.path is required.',
                                    target=f'files_to_copy.{what}.path')
        svm_name = flat.get('svm.name')
        if flat.get('svm.uuid'):
            svm_name = self.cluster.svm(flat['svm.uuid']).name
        path = path.lstrip('/')
        if flat.get('volume.uuid'):
            vol = self.cluster.volume(flat['volume.uuid'])
        else:
            vol = self.cluster.volume_by_name(
                flat.get('volume.name') or path.split('/')[0], svm_name)
        if svm_name is not None and vol.svm.name != svm_name:
            raise errors.NotFound(
                f'Volume {vol.name} is not in SVM {svm_name}.',
                target='svm.name')
        if path.startswith(vol.name + '/'):
            path = path[len(vol.name) + 1:]
        rel, target = self.files.resolve(vol, path)
        return vol, rel, target

    def start_copy(self, files: object, max_throughput: int | None = None,
                   faults: dict[str, Any] | None = None,
                   overwrite: bool = False,
                   description: str | None = None) -> Job:
        """Validate a file copy request and start its job thread."""
        if not isinstance(files, list) or not files:
            raise errors.BadRequest('files_to_copy must be a non-empty list.',
                                    target='files_to_copy')
        pairs: list[Pair] = []
        for entry in files:
            entry = entry if isinstance(entry, dict) else {}
            svol, srel, src = self.copy_side(entry.get('source'), 'source')
            dvol, drel, dst = self.copy_side(entry.get('destination'),
                                             'destination')
            if not os.path.isfile(src):
                raise errors.FileNotFound(f'Source file "{srel}" not found in '
                                          f'volume {svol.name}.',
                                          target='source.path')
            self._check_destination(dvol, drel, dst, overwrite)
            pairs.append((src, dvol, dst))
        job = self.jobs.new(description or
                            f'File copy of {len(pairs)} file(s)')
        job.total = sum(os.path.getsize(p[0]) for p in pairs)
        job.thread = threading.Thread(
            target=self._run_copy, name=f'sim-copy-{job.uuid[:8]}',
            args=(job, pairs, max_throughput, dict(faults or {})),
            daemon=True)
        job.thread.start()
        return job

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
