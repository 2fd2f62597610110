# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic``: the operator's command line.

In the style of the OpenStack clients (cliff: ``-f table|json|value|csv``
on every listing), reading the same configuration as cinder-volume::

    netapp-eic --config-file /etc/cinder/cinder.conf --backend ontap-nfs \\
        doctor

One module per command group: :mod:`.doctor` (preflight of a backend,
checks in :mod:`.checks_ontap` and :mod:`.checks_host`), :mod:`.explain`
(the plan of a create, image metadata from :mod:`.glance`), :mod:`.bench`
(the EIC paths on the embedded simulator, :mod:`.benchrun`,
:mod:`.chart`, :mod:`.localhost`). :mod:`.main` holds the application and
the command registry; :mod:`.base` what the commands share.
"""

import warnings

# Cinder imports eventlet, which warns at import that it is deprecated;
# an operator can do nothing about it, and the commands' output must stay
# readable. Only the command line imports this package.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', category=DeprecationWarning)
