# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The one base TestCase for tests that need Cinder's test fixtures."""

from cinder.tests.unit import test as cinder_test
import fixtures


class TestCase(cinder_test.TestCase):
    """Cinder's TestCase, made runnable under pytest.

    Cinder's ``_common_cleanup`` deletes every public instance attribute,
    including the bound test method pytest stored on the instance and later
    ``delattr``s in its own teardown, which makes every test error under
    pytest. Keep that one attribute across the cleanup.
    """

    def setUp(self):
        super().setUp()
        # Cinder's state_path defaults to the installed package's directory;
        # what a driver keeps there (the copy offload tool's breaker) stays
        # in the test's own directory.
        self.override_config('state_path', self.useFixture(
            fixtures.TempDir()).path)

    def _common_cleanup(self):
        name = self._testMethodName
        method = self.__dict__.get(name)
        super()._common_cleanup()
        if method is not None:
            self.__dict__[name] = method
