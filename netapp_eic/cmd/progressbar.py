# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A one-line progress bar on a terminal, fed by
:func:`netapp_eic.ontap.progress.observing`."""

import typing

from netapp_eic.ontap import progress

WIDTH = 30


class ProgressBar:
    """Draws ``[#####.....]  42% (label) 1.2 GiB of 2.9 GiB at 150 MiB/s``
    over itself; nothing when ``stream`` is not a terminal."""

    def __init__(self, stream: typing.TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._drawn = False

    def __call__(self, sample: progress.Sample) -> None:
        if not self.enabled:
            return
        percent = sample.percent or 0.0
        filled = int(WIDTH * percent / 100)
        self.stream.write('\r[%s%s] %s' % (
            '#' * filled, '.' * (WIDTH - filled),
            progress.describe(sample)[:60].ljust(60)))
        self.stream.flush()
        self._drawn = True

    def status(self, text: str) -> None:
        """Replace the line by ``text`` (what runs now)."""
        if self.enabled:
            self.stream.write('\r%s' % text[:100].ljust(100))
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write('\r%s\r' % (' ' * 100))
            self.stream.flush()
            self._drawn = False
