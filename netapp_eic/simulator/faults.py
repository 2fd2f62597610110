# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Injected faults, matched on method and path glob.

A fault fires ``count`` times (forever when None). ``status`` (with
``code`` and ``message``) answers that HTTP error with an ONTAP body;
``delay`` sleeps first; the job effects are handed to the clone or copy
the request starts: ``fail_after_percent`` (a copy fails after that share
of its bytes), ``throttle_bps`` (a copy's rate cap), ``no_space`` (the
destination is full), ``defer_errors`` (errors found in the request's
files become a failed job instead of an error answer).

``refuse`` answers one of the ONTAP refusals of :data:`REFUSALS` (as
``status`` does, with a preset body). The session effects shape the file
fingerprint session the request starts
(:mod:`netapp_eic.simulator.models.fingerprints`): ``fingerprint_delay``
(seconds it stays ``in_progress``), ``fingerprint_fail`` (it ends
``failed``), ``fingerprint_digest`` (``wrong``, ``truncated`` or
``garbage``: a wrong, short or non-base64 ``data_fingerprint``) and
``fingerprint_vanish`` (it disappears before it ends).
"""

import fnmatch
import threading
import time
from typing import Any

from netapp_eic.simulator import errors

JOB_EFFECTS = ('fail_after_percent', 'throttle_bps', 'no_space',
               'defer_errors')
SESSION_EFFECTS = ('fingerprint_delay', 'fingerprint_fail',
                   'fingerprint_digest', 'fingerprint_vanish')
DIGEST_FAULTS = ('wrong', 'truncated', 'garbage')
#: ``refuse`` presets: (HTTP status, ONTAP code, message). ``forbidden``
#: is ONTAP's documented "User is not authorized" (a SnapLock endpoint's
#: error list); ``unknown_api`` is an ONTAP release without the endpoint
#: (as the simulator answers an unknown one); ``unlicensed`` is an
#: assumption: ONTAP's code and wording for a missing SnapLock licence are
#: not documented.
REFUSALS = {
    'forbidden': (403, '6691623', 'User is not authorized.'),
    'unknown_api': (404, '3', 'API not found.'),
    'unlicensed': (400, '6684681', 'SnapLock is not licensed on this '
                   'cluster.'),
}
FAULT_KEYS = frozenset({'method', 'path', 'count', 'status', 'code',
                        'message', 'delay', 'refuse', *JOB_EFFECTS,
                        *SESSION_EFFECTS})
Fault = dict[str, Any]


def _check_values(spec: Fault) -> None:
    """Refuse a preset or digest fault outside its choices and a session
    delay that is not a number of seconds."""
    for key, choices in (('refuse', tuple(REFUSALS)),
                         ('fingerprint_digest', DIGEST_FAULTS)):
        if spec.get(key) is not None and spec[key] not in choices:
            raise errors.InvalidValue(key, spec[key],
                                      '<{}>'.format('|'.join(choices)))
    delay = spec.get('fingerprint_delay')
    if delay is not None and (isinstance(delay, bool) or
                              not isinstance(delay, (int, float)) or
                              delay < 0):
        raise errors.InvalidValue('fingerprint_delay', delay, '<seconds>')


class Faults:
    """The fault table of one simulator."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec: Fault) -> Fault:
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise errors.BadRequest('Unknown fault keys: {}'.format(
                ', '.join(sorted(unknown))))
        _check_values(spec)
        fault: Fault = {'method': str(spec.get('method', '*')).upper(),
                        'path': spec.get('path', '*'),
                        'count': spec.get('count')}
        for key in FAULT_KEYS - {'method', 'path', 'count'}:
            if spec.get(key) is not None:
                fault[key] = spec[key]
        with self._lock:
            fault['id'] = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return dict(fault)

    def records(self) -> list[Fault]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self, fault_id: int | None = None) -> None:
        """Remove one fault, or all of them when ``fault_id`` is None."""
        with self._lock:
            self._faults = [f for f in self._faults
                            if fault_id is not None and f['id'] != fault_id]

    def fire(self, method: str, path: str) -> list[Fault]:
        """Faults matching this request; each use consumes one ``count``."""
        fired = []
        with self._lock:
            for fault in list(self._faults):
                if fault['method'] not in ('*', method):
                    continue
                if not fnmatch.fnmatchcase(path, fault['path']):
                    continue
                fired.append(dict(fault))
                if fault['count'] is not None:
                    fault['count'] -= 1
                    if fault['count'] <= 0:
                        self._faults.remove(fault)
        return fired

    def apply(self, method: str, path: str) -> dict[str, Any]:
        """Fire the matching faults: sleep, raise, or return job effects."""
        effects: dict[str, Any] = {}
        for fault in self.fire(method, path):
            if fault.get('delay'):
                time.sleep(float(fault['delay']))
            if fault.get('status'):
                raise errors.OntapError(
                    fault.get('message', f'Injected fault on {method} {path}'),
                    status=fault['status'], code=fault.get('code', '5'))
            if fault.get('refuse'):
                status, code, message = REFUSALS[fault['refuse']]
                raise errors.OntapError(message, status=status, code=code)
            effects.update({k: fault[k] for k in JOB_EFFECTS + SESSION_EFFECTS
                            if k in fault})
        return effects
