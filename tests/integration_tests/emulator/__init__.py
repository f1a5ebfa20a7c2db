"""The TIR emulator over real loopback sockets, driven by raw httpx only."""

import pytest

# The wire helpers assert too; rewritten, their failures show the values.
pytest.register_assert_rewrite("tests.integration_tests.emulator.wire")
