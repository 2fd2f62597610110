# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What the simulator answers, by surface.

* :mod:`.router`, :mod:`.validation`, :mod:`.schemas`, :mod:`.records`,
  :mod:`.hal`: declarations checked against netapp_ontap's schemas, links,
  SVM scope.
* :mod:`.rest`: ONTAP REST records (cluster, SVMs, LIFs, FlexVols, QoS...).
* :mod:`.files`: the files API, file clone, file copy, jobs.
* :mod:`.fingerprints`: file fingerprint sessions.
* :mod:`.cli`: the private CLI pass-through Cinder uses.
* :mod:`.zapi`: the ZAPI calls Cinder's REST client makes.
* :mod:`.control`: the simulator's own ``/_sim`` control API.

:data:`ROUTER` holds all of them; anything else answers "not implemented".
"""

from netapp_eic.simulator.api import (
    cli,
    control,
    files,
    fingerprints,
    rest,
    zapi,
)
from netapp_eic.simulator.api.router import Request, Response, Router

ROUTER = Router()
for _module in (rest, files, fingerprints, cli, zapi, control):
    ROUTER.register(_module.ROUTES)

__all__ = ['ROUTER', 'Request', 'Response']
