"""URLs and project ids (pure)."""

from __future__ import annotations

import pytest

from langchain_gptoss._endpoint import (
    Endpoint,
    chat_completions_url,
    normalize_project_id,
    resolve_endpoint,
    sends_token_in_clear,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(123, "123"), ("123", "123"), ("p-123", "123"), (" P-7 ", "7")],
)
def test_project_id_forms(value: int | str, expected: str) -> None:
    assert normalize_project_id(value) == expected


@pytest.mark.parametrize(
    "value", ["abc", "p-", "p-12x", "-5", 0, -3, True, "1.5", "p-0"]
)
def test_bad_project_ids(value: int | str) -> None:
    with pytest.raises(ValueError, match="project_id must be a TIR project number"):
        normalize_project_id(value)


def test_root_and_full_bases() -> None:
    assert resolve_endpoint("https://infer.e2enetworks.net/", 5, None) == Endpoint(
        "https://infer.e2enetworks.net", "5", "gpt_oss_120b"
    )
    full = "http://127.0.0.1:9/project/p-44/genai/gpt_oss_120b/v1/chat/completions"
    assert resolve_endpoint(full, None, None) == Endpoint(
        "http://127.0.0.1:9", "44", "gpt_oss_120b"
    )
    assert resolve_endpoint(full, "p-44", "gpt_oss_120b").project_id == "44"
    with pytest.raises(ValueError, match="model 'other' contradicts"):
        resolve_endpoint(full, None, "other")
    with pytest.raises(ValueError, match="must start with https://"):
        resolve_endpoint("infer.e2enetworks.net", 5, None)


def test_url_and_clear_text_check() -> None:
    endpoint = Endpoint("https://h", "5", "gpt_oss_120b")
    url = "https://h/project/p-5/genai/m/v1/chat/completions"
    assert chat_completions_url(endpoint, "m", project_query=False) == url
    assert (
        chat_completions_url(endpoint, "m", project_query=True) == f"{url}?project_id=5"
    )
    assert sends_token_in_clear("http://example.com")
    assert sends_token_in_clear("http://10.0.0.8:8000")
    assert not sends_token_in_clear("http://127.0.0.1:8000")
    assert not sends_token_in_clear("http://localhost:8000")
    assert not sends_token_in_clear("http://[::1]:8000")
    assert not sends_token_in_clear("https://example.com")
