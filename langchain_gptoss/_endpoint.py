"""Where requests go: TIR's URL scheme, project ids and base URLs (pure)."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

import httpx

DEFAULT_BASE_URL = "https://infer.e2enetworks.net"
DEFAULT_MODEL = "gpt_oss_120b"

# The OpenAI-style base that TIR's "Get Code" shows; an optional /chat/completions
# is tolerated because people paste the full endpoint too.
_FULL_BASE = re.compile(
    r"^(?P<root>.*?)/project/p-(?P<project>[0-9]+)/genai/(?P<model>[^/?#]+)/v1"
    r"(?:/chat/completions)?/*$"
)
_PROJECT = re.compile(r"^(?:p-)?([0-9]+)$", re.IGNORECASE)
# TIR's GenAI slugs are snake_case (gpt_oss_120b, llama_3_3_70b_instruct_fp8);
# dots and dashes are let through for self-hosted names such as Llama-3.1-8B.
# Nothing that could leave the path segment: no '/', '%', '?', '#', '..'.
_MODEL_SLUG = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_SLUG_RULE = (
    "a TIR GenAI model slug such as 'gpt_oss_120b' (letters, digits, '_', '-' "
    "and '.', not starting with '.')"
)


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


def check_model(model: object) -> str:
    """Return `model` if it is a model slug that is safe to put in the URL path.

    Raises:
        ValueError: For anything else, since the slug becomes a path segment
            of the URL that receives the token.
    """
    if isinstance(model, str) and _MODEL_SLUG.fullmatch(model):
        return model
    msg = f"model must be {_SLUG_RULE}; got {model!r}."
    raise ValueError(msg)


def check_base_url(url: str) -> None:
    """Refuse a base URL that httpx cannot use or that would misroute the token.

    Raises:
        ValueError: Saying what is wrong; never echoing user info or a query,
            which may hold credentials.
    """
    _check_characters(url)
    _check_parts(url)
    _check_host(url)


def _check_characters(url: str) -> None:
    for position, char in enumerate(url):
        if char.isspace() or not char.isprintable():
            msg = (
                f"base_url must not contain spaces or control characters; it has "
                f"{char!r} at position {position}. Copy the URL again without it."
            )
            raise ValueError(msg)


def _check_parts(url: str) -> None:
    """Scheme, host and port, and no credentials, query or fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        msg = f"base_url is not a valid URL: {exc}. Check the host and port."
        raise ValueError(msg) from None
    if "@" in parts.netloc:
        msg = (
            "base_url must not contain a user name or password (user:password@): "
            "the token goes in api_key. Remove the part up to the '@'."
        )
        raise ValueError(msg)
    if "?" in url or "#" in url:
        msg = (
            f"base_url must not contain a query ('?...') or fragment ('#...'); got "
            f"one after {_shown(parts)!r}. Remove it: ?project_id= is added from "
            "project_id (see include_project_query)."
        )
        raise ValueError(msg)
    if parts.scheme not in {"http", "https"}:
        msg = (
            "base_url must start with https:// (or http:// for a local emulator); "
            f"got {url!r}."
        )
        raise ValueError(msg)
    if not parts.hostname:
        msg = (
            f"base_url has no host: it must look like {DEFAULT_BASE_URL} "
            f"(scheme, '://', then the host); got {url!r}."
        )
        raise ValueError(msg)
    if port == 0:
        msg = f"base_url has port 0; use a port from 1 to 65535. Got {url!r}."
        raise ValueError(msg)


def _check_host(url: str) -> None:
    """The host as httpx reads it: one it can use, and no percent-escapes."""
    try:
        host = httpx.URL(url).host
    except (httpx.InvalidURL, ValueError) as exc:
        msg = f"base_url is not a URL httpx can use: {exc}. Got {url!r}."
        raise ValueError(msg) from None
    if "%" in host:
        msg = f"base_url has characters a host name cannot have; got {url!r}."
        raise ValueError(msg)


def _shown(parts: SplitResult) -> str:
    """The URL without user info, query or fragment."""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host, query="", fragment="").geturl()


def resolve_endpoint(
    base_url: str, project_id: int | str | None, model: str | None
) -> Endpoint:
    """Combine `base_url` with an explicit project id and model.

    `base_url` is a host root, or a full base ending in
    `/project/p-{id}/genai/{model}/v1`; from the latter, project and model are
    taken when not given explicitly (`None`), and must agree when they are.

    Raises:
        ValueError: When the URL is malformed, the project is unknown, a model
            slug is unsafe, or the URL contradicts an explicit project or model.
    """
    # Surrounding whitespace is a copy-and-paste (or .env) artefact, not part of
    # the URL; trailing slashes go after the check, so errors show "https://".
    check_base_url(base_url.strip())
    url = base_url.strip().rstrip("/")
    if model is not None:
        check_model(model)
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
    return _from_full_base(full, project_id, model)


def _from_full_base(
    full: re.Match[str], project_id: int | str | None, model: str | None
) -> Endpoint:
    """The endpoint a full base URL names, checked against explicit settings."""
    url_project, url_model = full.group("project"), full.group("model")
    if not _MODEL_SLUG.fullmatch(url_model):
        msg = f"base_url names model {url_model!r}, which is not {_SLUG_RULE}."
        raise ValueError(msg)
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
