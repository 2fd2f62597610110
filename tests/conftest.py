# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""pytest configuration shared by every test.

Cinder's test package monkey-patches eventlet on import unless told not to;
the simulator runs real OS threads, so the patching is disabled before any
cinder module is imported.
"""

import os

os.environ.setdefault('OS_CINDER_DISABLE_EVENTLET_PATCHING', '1')
