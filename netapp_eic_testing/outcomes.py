# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What each create did, as the driver tells its observers.

:class:`OutcomeRecorder` is an observer for
:meth:`netapp_eic.driver.NetAppEicNfsDriver.add_outcome_observer`: it keeps
each create's :class:`~netapp_eic.core.types.Outcome` by volume id, so the
demo, the benchmarks and the tests read the outcome of the create they
made, concurrent creates included.
"""

import threading
import weakref


class OutcomeRecorder:
    """The outcomes of the creates of the drivers it observes."""

    def __init__(self, *drivers):
        self._by_volume = {}
        self._lock = threading.Lock()
        for driver in drivers:
            driver.add_outcome_observer(self)

    def __call__(self, request, outcome):
        with self._lock:
            self._by_volume[request.volume_id] = outcome

    def of(self, volume_id):
        """The outcome of the create of ``volume_id`` (KeyError if none)."""
        with self._lock:
            return self._by_volume[volume_id]

    def get(self, volume_id):
        """The outcome of the create of ``volume_id``, None if none."""
        with self._lock:
            return self._by_volume.get(volume_id)


_RECORDERS = weakref.WeakKeyDictionary()
_RECORDERS_LOCK = threading.Lock()


def recorder(driver):
    """The :class:`OutcomeRecorder` observing ``driver``, attached on first
    use (call it before the creates whose outcomes are wanted)."""
    with _RECORDERS_LOCK:
        found = _RECORDERS.get(driver)
        if found is None:
            found = _RECORDERS[driver] = OutcomeRecorder(driver)
        return found
