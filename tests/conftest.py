"""Keep test runs off the user's own caches."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Unpack the tokenizer vocabulary into a folder of this run, not ~/.cache."""
    folder = tempfile.mkdtemp(prefix="gptoss-tests-cache-")
    os.environ["XDG_CACHE_HOME"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
