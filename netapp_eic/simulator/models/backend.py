# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The whole simulated cluster: one object the API handlers talk to.

:class:`Backend` composes the inventory (:class:`Cluster`), the file
operations (:class:`Files`), clone and copy (:class:`Transfers`), the jobs
(:class:`Jobs`), QoS with EMS (:class:`Qos`) and file fingerprint
sessions (:class:`Fingerprints`). ``reset()`` clears the dynamic state
(jobs, fingerprint sessions, QoS, EMS, SVM peers that clients created or
changed) and keeps the topology (its SVM peers included), its uuids and
the files.
"""

import os
import random
import threading
import uuid as uuid_mod

from netapp_eic.simulator import fsops
from netapp_eic.simulator import topology as topo
from netapp_eic.simulator.models.cluster import Cluster, Svm, Volume
from netapp_eic.simulator.models.files import Files
from netapp_eic.simulator.models.fingerprints import Fingerprints
from netapp_eic.simulator.models.jobs import Job, Jobs
from netapp_eic.simulator.models.qos import Qos
from netapp_eic.simulator.models.transfers import Transfers

CLONE_MODES = ('copy', 'reflink')


class Backend:
    """The simulated cluster rooted at ``data_root``.

    :param topology: a topology dict, file path or None (the default).
    :param seed: seeds the uuid generator (same seed, same uuids).
    :param job_ttl: seconds a finished job (or fingerprint session) stays
        visible.
    :param clone_mode: ``'reflink'``, ``'copy'`` or None to probe the data
        root for FICLONE support.
    """

    def __init__(self, topology: topo.Spec | str | None, data_root: str, *,
                 seed: int | None = None, job_ttl: float = 300.0,
                 clone_mode: str | None = None) -> None:
        self.topology = topo.load_topology(topology)
        self.data_root = os.path.abspath(data_root)
        self.seed = seed
        self._uuid_lock = threading.Lock()
        self._rng = random.Random(seed if seed is not None
                                  else os.urandom(16))
        self.cluster = Cluster(self.topology, self.data_root, self.new_uuid)
        self.clone_mode = self._probe_clone_mode(clone_mode)
        self.jobs = Jobs(self.new_uuid, job_ttl)
        self.qos = Qos(self.new_uuid)
        self.files = Files(self.cluster, self.qos)
        self.transfers = Transfers(self.cluster, self.files, self.jobs,
                                   self.clone_mode)
        self.fingerprints = Fingerprints(self.files, job_ttl)

    def new_uuid(self) -> str:
        """A uuid4 drawn from the (optionally seeded) generator."""
        with self._uuid_lock:
            return str(uuid_mod.UUID(int=self._rng.getrandbits(128),
                                     version=4))

    def _probe_clone_mode(self, forced: str | None) -> str:
        supported = fsops.probe_reflink(self.data_root)
        if forced == 'reflink' and not supported:
            raise ValueError(
                f'reflink is not supported under {self.data_root}')
        if forced in CLONE_MODES:
            return str(forced)
        return 'reflink' if supported else 'copy'

    def reset(self) -> None:
        """Cancel running jobs and fingerprint sessions; clear them, QoS
        state and EMS events; put the SVM peers back as the topology has
        them."""
        self.jobs.clear()
        self.fingerprints.clear()
        self.qos.clear()
        self.cluster.reset_peers()

    def shutdown(self) -> None:
        """Cancel every running job and fingerprint session and wait for
        their threads."""
        self.jobs.shutdown()
        self.fingerprints.shutdown()

    # -- shortcuts used by the facade, the harness and tests ----------------

    @property
    def volumes(self) -> list[Volume]:
        return self.cluster.volumes

    @property
    def svms(self) -> list[Svm]:
        return self.cluster.svms

    def volume_by_name(self, name: str, svm_name: str | None = None
                       ) -> Volume:
        return self.cluster.volume_by_name(name, svm_name)

    def svm(self, key: str) -> Svm:
        return self.cluster.svm(key)

    def clone(self, vol: Volume, source: str, destination: str,
              overwrite: bool = False) -> Job:
        """Clone a file in ``vol`` (see :meth:`Transfers.clone`)."""
        return self.transfers.clone(vol, source, destination, overwrite)
