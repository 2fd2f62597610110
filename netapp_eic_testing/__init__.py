# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The netapp-eic test harness: not part of the driver's wheel.

It runs what an operator's cinder-volume host never should: an XFS file
system in a loop file (``losetup``, ``mkfs.xfs``, ``mount``), bind mounts at
os-brick's mount points standing in for NFS mounts, a Glance stand-in and
real ``qemu-img`` images, composed with the ONTAP simulator
(:mod:`netapp_eic.simulator`) into a :class:`~.stack.Stack` used by the
tests, the demo and the benchmarks, from a checkout of the repository.
"""
