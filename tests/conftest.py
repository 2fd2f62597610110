# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""pytest configuration shared by every test.

* Cinder's test package monkey-patches eventlet on import unless told not
  to; the simulator runs real OS threads, so Cinder is put in its native
  threading mode before any other module can pick oslo.service's eventlet
  backend by default.
* The tests talk only to the simulator on 127.0.0.1, verifying TLS against
  its own CA. ``requests`` lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
  override a session's CA bundle, so those are removed from the test
  process's environment.
"""

import os

os.environ['OS_CINDER_DISABLE_EVENTLET_PATCHING'] = '1'
for _name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
    os.environ.pop(_name, None)

try:
    from cinder import monkey_patch
except ImportError:  # the simulator's own tests run without Cinder
    pass
else:
    monkey_patch.patch()
