# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""State of the simulated cluster, split by concern.

* :mod:`.cluster`: topology records (cluster, nodes, SVMs, LIFs,
  aggregates, disks, FlexVols, NFS services) and their lookups.
* :mod:`.paths`: where a request's path lands inside a FlexVol.
* :mod:`.files`: file records and file operations on the data root.
* :mod:`.transfers`: file clone (within a FlexVol) and file copy (a job).
* :mod:`.jobs`: ONTAP jobs and their lifetime.
* :mod:`.fingerprints`: file fingerprint sessions (a digest of a file
  computed in a thread).
* :mod:`.qos`: QoS policies, per-file assignments and EMS events.
* :mod:`.backend`: :class:`Backend`, which composes them.
"""

from netapp_eic.simulator.models.backend import Backend

__all__ = ['Backend']
