# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A breaker for a means of copying that keeps failing (the copy offload
tool): one failure costs one create, not every create.

Closed, the means is tried. A failure (a time-out, an error) opens the
breaker for ``period`` seconds, doubled for each further failure in a row
up to ``longest``; while open, creates skip the means with the reason, and
so does a create that waited for the failing one's build lock. When the
period is over one create tries again (the others keep skipping until it
ends): a success closes the breaker, a failure opens it again for twice as
long. The state is this host's: it is kept in a small JSON file (Cinder's
``state_path``) that survives a restart and that ``netapp-eic doctor``
reads; another host's breaker opens on its own first failure.
"""

import collections.abc
import contextlib
import dataclasses
import json
import os
import tempfile
import threading
import time
import typing

from oslo_log import log as logging

from netapp_eic import exception
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)


class Breaker:
    """Skip a means for a while after it fails; see the module.

    :param name: the means, for the reasons (``copy offload tool``).
    :param period: seconds it stays open after a first failure; 0 never
        opens (every create tries the means).
    :param longest: the longest it stays open after failures in a row.
    :param store: the JSON file keeping the state (None: memory only).
    :param clock: wall-clock seconds (the file holds a time of day).
    """

    def __init__(self, name: str, period: float, longest: float,
                 store: str | None = None,
                 clock: collections.abc.Callable[[], float] = time.time
                 ) -> None:
        self.name = name
        self.period = period
        self.longest = max(longest, period)
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._trying = False
        saved = load(store) if store else {}
        self._failures = int(saved.get('failures', 0))
        self._last_failure = str(saved.get('last_failure', ''))
        self._open_until = float(saved.get('open_until', 0.0))

    def why_not(self) -> str | None:
        """Why the means must not be tried now (open, or another create is
        trying it again), or None; changes nothing (for planning)."""
        with self._lock:
            return self._why_not()

    @contextlib.contextmanager
    def attempt(self) -> collections.abc.Iterator[None]:
        """Around one run of the means: raises StepSkipped (nothing run)
        while the breaker is open; an exception from the block opens it,
        the block's end closes it."""
        with self._lock:
            why = self._why_not()
            if why:
                raise exception.StepSkipped(reason=why)
            self._trying = self._failures > 0
        try:
            yield
        except Exception as e:
            self._failed(str(e))
            raise
        except BaseException:
            with self._lock:
                self._trying = False
            raise
        with self._lock:
            was_open = self._failures
            self._failures, self._trying, self._open_until = 0, False, 0.0
            self._save()
        if was_open:
            LOG.info('The %s worked again: its breaker is closed.',
                     self.name)

    def state(self) -> 'BreakerState':
        with self._lock:
            return _state(self._failures, self._last_failure,
                          self._open_until - self.clock(), self._trying)

    def _why_not(self) -> str | None:
        if self._trying:
            return _('%(name)s is being tried again by another create after '
                     'it failed: %(last)s') % {'name': self.name,
                                               'last': self._last_failure}
        retry_in = self._open_until - self.clock()
        if self._failures and retry_in > 0:
            return _('%(name)s breaker open for %(left)d s more after '
                     '%(count)d failure(s), the last: %(last)s') % {
                'name': self.name, 'left': int(retry_in + 0.999),
                'count': self._failures, 'last': self._last_failure}
        return None

    def _failed(self, reason: str) -> None:
        with self._lock:
            self._failures += 1
            self._trying = False
            self._last_failure = reason
            hold = 0.0
            if self.period > 0:
                hold = min(self.longest,
                           self.period * 2 ** (self._failures - 1))
                self._open_until = self.clock() + hold
            self._save()
        LOG.warning('The %(name)s failed (%(count)d in a row): creates skip '
                    'it for %(hold)d s. %(reason)s', {
                        'name': self.name, 'count': self._failures,
                        'hold': hold, 'reason': reason})

    def _save(self) -> None:
        """Write the state for a restart and for ``doctor``; a file that
        cannot be written is logged, the breaker works on in memory."""
        if not self.store:
            return
        state = {'failures': self._failures,
                 'last_failure': self._last_failure,
                 'open_until': self._open_until}
        directory = os.path.dirname(self.store)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix='.breaker-', dir=directory)
            try:
                with os.fdopen(fd, 'w') as out:
                    json.dump(state, out)
                os.replace(tmp, self.store)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as e:
            LOG.warning('Could not keep the %(name)s breaker state in '
                        '%(path)s: %(err)s', {'name': self.name,
                                              'path': self.store, 'err': e})


@dataclasses.dataclass(frozen=True)
class BreakerState:
    """What ``netapp-eic doctor`` and the tests read of a breaker."""

    #: 'closed', 'open' (skipped until ``retry_in``) or 'trying' (one
    #: create is trying the means again).
    state: str
    failures: int
    last_failure: str
    retry_in: float


def _state(failures: int, last_failure: str, retry_in: float,
           trying: bool = False) -> BreakerState:
    if trying:
        return BreakerState('trying', failures, last_failure, 0.0)
    if failures and retry_in > 0:
        return BreakerState('open', failures, last_failure, retry_in)
    return BreakerState('closed', failures, last_failure, 0.0)


def load(store: str) -> dict[str, typing.Any]:
    """The saved state of a breaker; empty when there is none or it
    cannot be read (said in the log: the breaker then starts closed)."""
    try:
        with open(store) as saved:
            state = json.load(saved)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        LOG.warning('Ignoring the breaker state in %(path)s: %(err)s',
                    {'path': store, 'err': e})
        return {}
    return state if isinstance(state, dict) else {}


def saved_state(store: str, clock: collections.abc.Callable[[], float]
                = time.time) -> BreakerState:
    """A breaker's state as its file says (for ``netapp-eic doctor``, in
    another process than cinder-volume's)."""
    saved = load(store)
    return _state(int(saved.get('failures', 0)),
                  str(saved.get('last_failure', '')),
                  float(saved.get('open_until', 0.0)) - clock())
