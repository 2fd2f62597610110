# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""End to end in real OpenStack services (see conftest.py and README.rst)."""
