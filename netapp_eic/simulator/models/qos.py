# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""QoS policy groups, their assignment to files, and EMS events.

The simulator enforces no throughput limit; it keeps what a client set so
that a test can read it back (``qos_policy`` of a file, the policy list,
the EMS log).
"""

import threading
from collections.abc import Callable
from typing import Any

from netapp_eic.simulator import errors

Record = dict[str, Any]
FileKey = tuple[str, str]


class Qos:
    """Policies by uuid, file assignments by ``(volume uuid, path)``."""

    def __init__(self, new_uuid: Callable[[], str]) -> None:
        self._new_uuid = new_uuid
        self._lock = threading.Lock()
        self.policies: dict[str, Record] = {}
        self.file_policies: dict[FileKey, str] = {}
        self.ems_events: list[Record] = []

    def clear(self) -> None:
        with self._lock:
            self.policies.clear()
            self.file_policies.clear()
            self.ems_events.clear()

    # -- policies ----------------------------------------------------------

    def records(self) -> list[Record]:
        with self._lock:
            return [dict(p) for p in self.policies.values()]

    def create(self, body: Record, svm_ref: dict[str, str]) -> Record:
        """Add a policy of SVM ``svm_ref`` from a POST body."""
        name = body.get('name')
        if not name:
            raise errors.BadRequest('name is required.', target='name')
        policy: Record = {'uuid': self._new_uuid(), 'name': name,
                          'svm': dict(svm_ref)}
        for key in ('fixed', 'adaptive'):
            if isinstance(body.get(key), dict):
                policy[key] = dict(body[key])
        with self._lock:
            if any(p['name'] == name for p in self.policies.values()):
                raise errors.DestinationExists(
                    f'QoS policy "{name}" already exists.', target='name')
            self.policies[policy['uuid']] = policy
        return policy

    def _policy(self, policy_uuid: str) -> Record:
        policy = self.policies.get(policy_uuid)
        if policy is None:
            raise errors.NotFound(
                f'QoS policy "{policy_uuid}" not found.', target='uuid')
        return policy

    def update(self, policy_uuid: str, body: Record) -> None:
        with self._lock:
            policy = self._policy(policy_uuid)
            for key in ('name', 'fixed', 'adaptive'):
                if key in body:
                    policy[key] = body[key]

    def delete(self, policy_uuid: str) -> None:
        with self._lock:
            self._policy(policy_uuid)
            del self.policies[policy_uuid]

    # -- per-file assignments ----------------------------------------------

    def assign(self, key: FileKey, policy: str) -> None:
        with self._lock:
            self.file_policies[key] = policy

    def policy_of(self, key: FileKey) -> str | None:
        with self._lock:
            return self.file_policies.get(key)

    def forget(self, key: FileKey) -> None:
        """Drop the assignments of a file or of everything below a
        directory."""
        vol_uuid, rel = key
        with self._lock:
            for k in [k for k in self.file_policies if k[0] == vol_uuid and
                      (k[1] == rel or k[1].startswith(rel + '/'))]:
                del self.file_policies[k]

    def move(self, old: FileKey, new: FileKey) -> None:
        with self._lock:
            policy = self.file_policies.pop(old, None)
            if policy:
                self.file_policies[new] = policy

    # -- EMS ---------------------------------------------------------------

    def log_ems(self, body: Record) -> None:
        with self._lock:
            self.ems_events.append(dict(body))
