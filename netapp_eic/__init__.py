# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp-eic: Enhanced Instance Creation for Cinder on NetApp ONTAP NFS."""

__version__ = '0.1.0'
