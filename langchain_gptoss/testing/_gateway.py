"""The E2E gateway's checks in front of vLLM: token, route, ``project_id`` query."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

_CHAT_PATH = re.compile(
    r"/project/p-(?P<project>[^/]+)/genai/(?P<model>[^/]+)/v1/chat/completions"
)


@dataclass(frozen=True)
class Rejection:
    """A gateway refusal: status, optional message, extra headers."""

    status: int
    message: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, credentials = (header or "").partition(" ")
    return scheme.lower() == "bearer" and bool(token) and credentials == token


def _query_problem(query: dict[str, str], project_id: int, strict: bool) -> str | None:
    value = query.get("project_id")
    if value is None:
        return "Bad Request: project_id query parameter is required" if strict else None
    if not value.strip().isdigit():
        return "Bad Request: project_id must be an integer"
    if int(value) != project_id:
        return "Bad Request: project_id does not match the project in the path"
    return None


def check(
    method: str,
    path: str,
    query: dict[str, str],
    authorization: str | None,
    *,
    token: str,
    project_id: int,
    models: Collection[str],
    strict_query: bool,
) -> Rejection | None:
    """Return why the gateway refuses a request (in E2E's order), or ``None``."""
    if not _authorized(authorization, token):
        return Rejection(401)
    match = _CHAT_PATH.fullmatch(path)
    if not match or match["project"] != str(project_id) or match["model"] not in models:
        return Rejection(404)
    if method != "POST":
        return Rejection(405, headers=[("allow", "POST")])
    problem = _query_problem(query, project_id, strict_query)
    return Rejection(400, problem) if problem else None


def slug_of(path: str) -> str:
    """The model slug of a chat-completions path that passed `check`."""
    match = _CHAT_PATH.fullmatch(path)
    return match["model"] if match else ""
