"""Where a model's requests go and the headers they carry, prepared once (pure).

httpx parses a `str` URL and normalises a plain dict of headers again on every
request; a model's usual URL and its two header sets (a JSON answer, a stream)
are parsed once here instead. The target holds the token only inside its
headers and its redactor, and shows neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from langchain_gptoss._decode import ACCEPT_ENCODING
from langchain_gptoss._endpoint import Endpoint, chat_completions_url
from langchain_gptoss._redact import Redactor
from langchain_gptoss._sse import CONTENT_TYPE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import SecretStr


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved endpoint with its parsed URL, headers and redactor."""

    endpoint: Endpoint
    project_query: bool
    url: httpx.URL
    json_headers: httpx.Headers = field(repr=False)
    stream_headers: httpx.Headers = field(repr=False)
    redact: Redactor = field(repr=False)

    def url_for(self, model: str, *, project_query: bool) -> httpx.URL | str:
        """The chat-completions URL for `model`: parsed already for the usual one.

        `project_query` is read per call, as the model's setting may be changed
        after construction; `url` was built with the value `project_query` then.
        """
        if model == self.endpoint.model and project_query == self.project_query:
            return self.url
        return chat_completions_url(self.endpoint, model, project_query=project_query)

    def headers_for(self, *, stream: bool) -> httpx.Headers:
        """The headers of a request for a stream or for a JSON answer."""
        return self.stream_headers if stream else self.json_headers


def prepare_target(
    endpoint: Endpoint,
    secret: SecretStr,
    *,
    project_query: bool,
    user_agent: str,
    default_headers: Mapping[str, str] | None = None,
) -> Target:
    """Build a model's target; `default_headers` go over the usual ones."""
    url = chat_completions_url(endpoint, endpoint.model, project_query=project_query)

    def headers(accept: str) -> httpx.Headers:
        # The token stays inside the expression: no local of any frame holds it.
        return httpx.Headers(
            {
                "Authorization": f"Bearer {secret.get_secret_value()}",
                "Content-Type": "application/json",
                "Accept": accept,
                "Accept-Encoding": ACCEPT_ENCODING,
                "User-Agent": user_agent,
                **(default_headers or {}),
            }
        )

    return Target(
        endpoint=endpoint,
        project_query=project_query,
        url=httpx.URL(url),
        json_headers=headers("application/json"),
        stream_headers=headers(CONTENT_TYPE),
        redact=Redactor(secret.get_secret_value()),
    )
