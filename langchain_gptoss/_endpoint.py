"""Where requests go: TIR's URL scheme, project ids and base URLs (pure)."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://infer.e2enetworks.net"
DEFAULT_MODEL = "gpt_oss_120b"

# The OpenAI-style base that TIR's "Get Code" shows; an optional /chat/completions
# is tolerated because people paste the full endpoint too.
_FULL_BASE = re.compile(
    r"^(?P<root>.*?)/project/p-(?P<project>[0-9]+)/genai/(?P<model>[^/?#]+)/v1"
    r"(?:/chat/completions)?/*$"
)
_PROJECT = re.compile(r"^(?:p-)?([0-9]+)$", re.IGNORECASE)


class Endpoint(NamedTuple):
    """A resolved endpoint: host root, numeric project id and model slug."""

    root: str
    project_id: str
    model: str


def normalize_project_id(value: int | str) -> str:
    """Return the numeric project id from `123`, `"123"` or `"p-123"`.

    Raises:
        ValueError: For anything else, saying which forms are accepted.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    match = _PROJECT.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        msg = (
            f"project_id must be a TIR project number such as 123, '123' or "
            f"'p-123'; got {value!r}."
        )
        raise ValueError(msg)
    return str(int(match.group(1)))


def resolve_endpoint(
    base_url: str, project_id: int | str | None, model: str | None
) -> Endpoint:
    """Combine `base_url` with an explicit project id and model.

    `base_url` is a host root, or a full base ending in
    `/project/p-{id}/genai/{model}/v1`; from the latter, project and model are
    taken when not given explicitly (`None`), and must agree when they are.

    Raises:
        ValueError: When the project is unknown, or the URL contradicts an
            explicit project or model.
    """
    url = base_url.strip().rstrip("/")
    scheme = urlsplit(url).scheme
    if scheme not in {"http", "https"}:
        msg = (
            "base_url must start with https:// (or http:// for a local emulator); "
            f"got {base_url!r}."
        )
        raise ValueError(msg)
    full = _FULL_BASE.match(url)
    if full is None:
        if project_id is None:
            msg = (
                "No TIR project id: pass project_id=... to ChatGptOss, set "
                "E2E_TIR_PROJECT_ID, or use the full base URL from TIR's 'Get Code' "
                "(.../project/p-<id>/genai/<model>/v1) as base_url."
            )
            raise ValueError(msg)
        return Endpoint(url, normalize_project_id(project_id), model or DEFAULT_MODEL)
    url_project, url_model = full.group("project"), full.group("model")
    project = url_project if project_id is None else normalize_project_id(project_id)
    if project != str(int(url_project)):
        msg = (
            f"project_id {project_id!r} contradicts base_url, which names project "
            f"p-{url_project}; drop one of them."
        )
        raise ValueError(msg)
    if model is not None and model != url_model:
        msg = (
            f"model {model!r} contradicts base_url, which names model {url_model!r}; "
            "drop one of them."
        )
        raise ValueError(msg)
    return Endpoint(full.group("root"), project, url_model)


def chat_completions_url(endpoint: Endpoint, model: str, *, project_query: bool) -> str:
    """Return the chat-completions URL for `model`, with `?project_id=` if asked.

    The query is part of the string so that httpx parses one URL per request
    instead of parsing it and then merging parameters into it.
    """
    project = endpoint.project_id
    url = f"{endpoint.root}/project/p-{project}/genai/{model}/v1/chat/completions"
    return f"{url}?project_id={project}" if project_query else url


def sends_token_in_clear(root: str) -> bool:
    """Whether a bearer token sent to `root` would cross a network unencrypted."""
    parts = urlsplit(root)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
