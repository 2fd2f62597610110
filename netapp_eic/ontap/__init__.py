# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP access for the driver: :class:`OntapClient` and its value types."""

from netapp_eic.ontap.calls import (FileInfo, Fingerprint, FlexVol,
                                    ResolvedPath, SvmPeer)
from netapp_eic.ontap.client import OntapClient

__all__ = ['FileInfo', 'Fingerprint', 'FlexVol', 'OntapClient',
           'ResolvedPath', 'SvmPeer']
