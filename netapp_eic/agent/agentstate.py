# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What ``netapp-eic agent status`` shows: the running agent's state,
written to a small JSON file in Cinder's ``state_path`` whenever it
changes (atomically), read by the status command and by ``doctor``.
"""

import dataclasses
import json
import os
import threading
import time
import typing


def state_file(state_path: str, backend: str) -> str:
    return os.path.join(state_path, 'netapp-eic-agent-%s.json' % backend)


@dataclasses.dataclass
class Snapshot:
    """The agent's state at one time (times are UNIX seconds, 0: never)."""

    pid: int = 0
    host: str = ''
    started: float = 0.0
    connected: bool = False
    listener_pool: str = ''
    last_event: float = 0.0
    last_event_type: str = ''
    last_event_image: str = ''
    events: int = 0
    last_reconcile: float = 0.0
    last_reconcile_result: str = ''
    #: Images a reconcile warmed or removed that no notification had
    #: announced (notifications lost, or not reaching the pool).
    missed_by_notifications: int = 0
    queue: int = 0
    copying: int = 0
    warmed: int = 0
    removed: int = 0
    skipped: int = 0
    failed: int = 0
    last_line: str = ''
    stopped: float = 0.0


class AgentState:
    """The live state, shared by the agent's threads; every change is
    saved to ``path`` (None: kept in memory)."""

    def __init__(self, path: str | None, **initial: typing.Any) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._snapshot = Snapshot(**initial)
        self.save()

    def update(self, **changes: typing.Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._snapshot, key, value)
        self.save()

    def count(self, field: str, by: int = 1) -> None:
        with self._lock:
            setattr(self._snapshot, field,
                    getattr(self._snapshot, field) + by)
        self.save()

    def event(self, event_type: str, image_id: str) -> None:
        with self._lock:
            self._snapshot.last_event = time.time()
            self._snapshot.last_event_type = event_type
            self._snapshot.last_event_image = image_id
            self._snapshot.events += 1
        self.save()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return dataclasses.replace(self._snapshot)

    def save(self) -> None:
        if self.path is None:
            return
        with self._lock:
            text = json.dumps(dataclasses.asdict(self._snapshot),
                              sort_keys=True)
            tmp = '%s.%d.%d.tmp' % (self.path, os.getpid(),
                                    threading.get_ident())
            with open(tmp, 'w') as f:
                f.write(text)
            os.replace(tmp, self.path)


def load(path: str) -> Snapshot | None:
    """The last saved state; None when there is no (valid) file."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    known = {f.name for f in dataclasses.fields(Snapshot)}
    if not isinstance(data, dict):
        return None
    return Snapshot(**{k: v for k, v in data.items() if k in known})


def running(snapshot: Snapshot) -> bool:
    """Whether the agent that wrote ``snapshot`` still runs on this host."""
    if not snapshot.pid or snapshot.stopped:
        return False
    try:
        os.kill(snapshot.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
