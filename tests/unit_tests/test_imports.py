from __future__ import annotations

import tomllib
from pathlib import Path

import langchain_gptoss

EXPECTED_ALL = [
    "ChatGptOss",
    "GptOssAPIError",
    "GptOssAuthenticationError",
    "GptOssBadRequestError",
    "GptOssConnectionError",
    "GptOssContextOverflowError",
    "GptOssError",
    "GptOssNotFoundError",
    "GptOssPermissionDeniedError",
    "GptOssRateLimitError",
    "GptOssResponseTooLargeError",
    "GptOssServerError",
    "GptOssStreamError",
    "GptOssTimeoutError",
    "__version__",
]


def test_all_is_pinned_and_sorted() -> None:
    assert langchain_gptoss.__all__ == EXPECTED_ALL
    assert sorted(EXPECTED_ALL) == EXPECTED_ALL


def test_version_matches_pyproject() -> None:
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert langchain_gptoss.__version__ == version
