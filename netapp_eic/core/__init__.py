# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The EIC core: everything that decides and does EIC, without Cinder.

It imports nothing from ``cinder.volume`` and never sees the driver. The
driver hands :class:`~netapp_eic.core.engine.Engine` an ONTAP client, a
:class:`~netapp_eic.core.host.Host` (mounts, commands, image conversion,
locks) and :class:`~netapp_eic.core.types.Settings`, then asks it to
create a volume file from plain values. One job per module:

* :mod:`.types` the values and enums exchanged;
* :mod:`.host` the host interface;
* :mod:`.pools` shares resolved to FlexVols and mounts;
* :mod:`.locations` Glance locations parsed (pure);
* :mod:`.files` files on a mount opened and removed without following links;
* :mod:`.trust` a source checked through ONTAP and the mount, sizes bounded;
* :mod:`.verify` the bytes hashed against Glance's record;
* :mod:`.imagecheck` the image file inspected;
* :mod:`.cache` the per-FlexVol image cache;
* :mod:`.facts` the planner's facts gathered (read-only);
* :mod:`.planner` the decision (pure);
* :mod:`.materialize` a checked raw file built by a step's means;
* :mod:`.jobs` File Copy jobs waited for, cancelled, orphans re-cancelled;
* :mod:`.failure` failures logged at the level their kind calls for;
* :mod:`.steps` the plan run: single-flight, publish, clone, finish;
* :mod:`.visibility` the wait for ONTAP's files on the NFS mount;
* :mod:`.engine` the entry point.
"""
