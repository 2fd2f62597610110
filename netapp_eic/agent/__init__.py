# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic agent``: warm the pools' image caches from Glance's events.

Small modules, planning apart from I/O: :mod:`.events` (a notification
read, pure), :mod:`.policy` (which images, which pools, pure),
:mod:`.bounds` (parallel copies and bytes per hour), :mod:`.glanceapi`
(what Glance says of an image now), :mod:`.warmer` (one image warmed or
removed, one INFO line), :mod:`.reconcile` (what a pass through the Glance
API finds missed, pure), :mod:`.provenance` (which entries an agent made),
:mod:`.agentstate` (what ``agent status`` shows), :mod:`.listener`
(oslo.messaging) and :mod:`.service` (the long-running composition).
"""
