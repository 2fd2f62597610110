# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A stateful fake ONTAP (REST, the private CLI and the few ZAPI calls
Cinder makes), built like a small moto service.

Usage::

    with Simulator(seed=1) as sim:
        sim.url, sim.username, sim.password, sim.ca_file, sim.shares

    with Simulator(seed=1, serve=False) as sim:  # no socket, no CA
        with sim.connection():  # a netapp_ontap HostConnection
            ...

Layout: :mod:`.models` holds the state (inventory, files, clone and copy,
jobs, QoS), :mod:`.api` what each surface answers, :mod:`.server` the
request handling and the HTTP server, :mod:`.transport` the in-process
``requests`` transport, :mod:`.faults` fault injection, :mod:`.simulator`
the facade.

Faults (``sim.add_fault(...)`` or ``POST /_sim/faults``) match on
``method`` and ``path`` (an fnmatch glob over the normalized path such as
``/api/storage/file/copy``) and fire ``count`` times (forever when None).
Effects: ``status`` (+ ``code``, ``message``) answers that HTTP error with an
ONTAP body; ``delay`` sleeps that many seconds first; ``fail_after_percent``
makes a copy job fail after that share of its bytes; ``throttle_bps`` caps a
copy at that many bytes/s; ``no_space`` makes a clone (400) or a copy (job
failure) run out of space; ``defer_errors`` reports the errors found in a
clone's or copy's files (missing source, existing destination, no space, a
symlink) as a failed job instead of an error answer.
"""

from netapp_eic.simulator.simulator import Simulator
from netapp_eic.simulator.topology import DEFAULT_TOPOLOGY, load_topology

__all__ = ['DEFAULT_TOPOLOGY', 'Simulator', 'load_topology']
