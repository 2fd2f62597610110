# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What every part of the core works with, for one backend."""

import dataclasses

from netapp_eic.core import breaker as breaker_mod
from netapp_eic.core import host as host_mod
from netapp_eic.core.pools import Pools
from netapp_eic.core.types import Settings
from netapp_eic import ontap


@dataclasses.dataclass(frozen=True)
class Context:
    """The ONTAP client, the host, the pools, the settings and the copy
    offload tool's breaker of a backend; built once by
    :class:`~netapp_eic.core.engine.Engine`."""

    client: ontap.OntapClient
    host: host_mod.Host
    pools: Pools
    settings: Settings
    tool_breaker: breaker_mod.Breaker
