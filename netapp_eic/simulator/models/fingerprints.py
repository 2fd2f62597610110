# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""File fingerprints: ONTAP's digest of a file, computed by the array.

A session (ONTAP's ``volume file fingerprint start``) hashes one regular
file of a FlexVol in a thread of its own, over the real file in the
FlexVol's directory, opened without following a link: ``in_progress``,
then ``completed`` (``data_fingerprint`` is the base64 of the raw digest)
or ``failed``. An abort marks a running session ``aborting``; its thread
then drops it, and its id becomes an invalid session ID. Ended sessions
expire ``ttl`` seconds after they end, as jobs do (how long ONTAP keeps
them is not documented).

A symbolic link or a directory is refused before any session starts, and
the path must be of ONTAP's form ``/<dir>/<file>``. The record's scope is
``data_and_metadata`` (ONTAP documents that a data-only session has no
``metadata_fingerprint``); the metadata fingerprint is the same algorithm's
digest, base64, of ``size:ctime_ns:mtime_ns:ctime_ns:0:uid:gid:regular``
(size, ctime, mtime, crtime, retention time, uid, gid and type, as ONTAP
lists them; the crtime is the ctime and the retention time 0), taken when
the session starts: stable while the file's metadata does not change.
Session effects (:mod:`netapp_eic.simulator.faults`) make a session slow,
failed, wrong or vanishing.
"""

import base64
import hashlib
import os
import stat
import threading
import time
from typing import Any

from netapp_eic.simulator import errors
from netapp_eic.simulator.models.cluster import Volume
from netapp_eic.simulator.models.files import Files
from netapp_eic.simulator.models import jobs

ALGORITHMS = {'md5': hashlib.md5, 'sha256': hashlib.sha256}
#: ONTAP's default algorithm from 9.14.1 (md5 before).
DEFAULT_ALGORITHM = 'sha256'
SCOPE = 'data_and_metadata'
#: The first session id (ids look like ONTAP's example ``17039367``).
FIRST_ID = 17039361
ENDED = ('completed', 'failed')
CHUNK = 1024 * 1024
Record = dict[str, Any]


class _Stopped(Exception):
    """The session was aborted while the file was read."""


class Session:
    """One fingerprint session; its thread reports through :meth:`end`."""

    def __init__(self, session_id: int, vol: Volume, rel: str,
                 algorithm: str, st: os.stat_result,
                 effects: dict[str, Any]) -> None:
        self.id = session_id
        self.vol = vol
        self.rel = rel
        self.algorithm = algorithm
        self.file_size = st.st_size
        self.effects = dict(effects)
        self.state = 'in_progress'
        self.data_fingerprint: str | None = None
        self.metadata_fingerprint = _metadata(st, algorithm)
        self.finished: float | None = None
        self.stop = threading.Event()
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def record(self) -> Record:
        rec: Record = {
            'id': self.id, 'svm': self.vol.svm.ref(),
            'volume': self.vol.ref(), 'path': '/' + self.rel,
            'algorithm': self.algorithm, 'scope': SCOPE,
            'file_type': 'regular', 'file_size': self.file_size,
            'state': self.state}
        if self.state == 'completed':
            rec['data_fingerprint'] = self.data_fingerprint
            rec['metadata_fingerprint'] = self.metadata_fingerprint
        return rec


def _metadata(st: os.stat_result, algorithm: str) -> str:
    text = (f'{st.st_size}:{st.st_ctime_ns}:{st.st_mtime_ns}:'
            f'{st.st_ctime_ns}:0:{st.st_uid}:{st.st_gid}:regular')
    return base64.b64encode(
        ALGORITHMS[algorithm](text.encode()).digest()).decode()


def _digest(target: str, algorithm: str, stop: threading.Event) -> bytes:
    """The digest of a regular file, never read through a link."""
    fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f'{target} is not a regular file')
        digest = ALGORITHMS[algorithm]()
        while chunk := f.read(CHUNK):
            if stop.is_set():
                raise _Stopped()
            digest.update(chunk)
    return digest.digest()


def _encode(raw: bytes, fault: str | None) -> str:
    """The base64 of ``raw``, or the injected wrong one."""
    if fault == 'wrong':
        raw = bytes([raw[0] ^ 0xFF]) + raw[1:]
    elif fault == 'truncated':
        raw = raw[:-1]
    elif fault == 'garbage':
        return 'not*base64!'
    return base64.b64encode(raw).decode()


class Fingerprints:
    """The fingerprint sessions of every FlexVol of a cluster."""

    def __init__(self, files: Files, ttl: float) -> None:
        self.files = files
        self.ttl = float(ttl)
        self._sessions: dict[int, Session] = {}
        self._next_id = FIRST_ID
        self._lock = threading.Lock()

    def _target(self, vol: Volume, path: object) -> tuple[str, str,
                                                          os.stat_result]:
        if not isinstance(path, str) or not path.startswith('/'):
            raise errors.PathForm(
                f'File path "{path}" must be of the form "/<dir>/<file>".',
                target='path')
        rel, target = self.files.resolve(vol, path.lstrip('/'))
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise errors.FileNotFound(
                f'File "{path}" not found in volume {vol.name}.',
                target='path') from None
        if stat.S_ISLNK(st.st_mode):
            raise errors.SymlinkRefused(
                f'"{path}" in volume {vol.name} is a symbolic link; a '
                'fingerprint is of a regular file, never through a link.',
                target='path')
        if not stat.S_ISREG(st.st_mode):
            raise errors.NotAFile(
                f'"{path}" in volume {vol.name} is not a regular file.',
                target='path')
        return rel, target, st

    def start(self, vol: Volume, path: object, algorithm: str,
              effects: dict[str, Any] | None = None) -> Session:
        """Check the file and start hashing it; returns the new session."""
        rel, target, st = self._target(vol, path)
        with self._lock:
            session = Session(self._next_id, vol, rel, algorithm, st,
                              effects or {})
            self._next_id += 1
            self._sessions[session.id] = session
        session.thread = threading.Thread(
            target=self._run, args=(session, target),
            name=f'sim-fingerprint-{session.id}', daemon=True)
        session.thread.start()
        return session

    def _run(self, session: Session, target: str) -> None:
        effects = session.effects
        delay = float(effects.get('fingerprint_delay') or 0)
        if session.stop.wait(delay) or effects.get('fingerprint_vanish'):
            self._drop(session)
            return
        if effects.get('fingerprint_fail'):
            self._end(session, 'failed')
            return
        try:
            raw = _digest(target, session.algorithm, session.stop)
        except _Stopped:
            self._drop(session)
            return
        except OSError:
            self._end(session, 'failed')
            return
        self._end(session, 'completed',
                  _encode(raw, effects.get('fingerprint_digest')))

    def _end(self, session: Session, state: str,
             fingerprint: str | None = None) -> None:
        """End a running session; an aborted one is dropped instead."""
        with self._lock:
            if session.state == 'in_progress':
                session.state = state
                session.data_fingerprint = fingerprint
                session.finished = time.monotonic()
                session.done.set()
                return
        self._drop(session)

    def _drop(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)
        session.done.set()

    def _expire(self) -> None:
        with self._lock:
            jobs.drop_expired(self._sessions, self.ttl)

    def get(self, session_id: object) -> Session:
        """A session by id; 404 ``14090446`` when there is none."""
        self._expire()
        with self._lock:
            key = str(session_id)
            found = (self._sessions.get(int(key))
                     if key.isascii() and key.isdigit() else None)
        if found is None:
            raise errors.InvalidSession(
                f'Invalid session ID "{session_id}".', target='id')
        return found

    def all(self) -> list[Session]:
        self._expire()
        with self._lock:
            return [self._sessions[k] for k in sorted(self._sessions)]

    def records(self) -> list[Record]:
        return [s.record() for s in self.all()]

    def abort(self, session_id: object) -> Session:
        """Abort a running session: ``aborting``, then dropped by its
        thread. An ended one answers ``14090440``."""
        session = self.get(session_id)
        with self._lock:
            if session.state in ENDED:
                raise errors.SessionCompleted(
                    f'File fingerprint operation {session.id} has '
                    f'completed ({session.state}).', target='id')
            session.state = 'aborting'
        session.stop.set()
        return session

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every session's thread and wait for it."""
        with self._lock:
            sessions = list(self._sessions.values())
        jobs.stop_all(sessions, timeout)

    def clear(self) -> None:
        """Stop every session and forget them all."""
        self.shutdown()
        with self._lock:
            self._sessions.clear()
