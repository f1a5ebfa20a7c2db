"""Tool calls on the wire: ids, re-serialized arguments, stream chunk layout (§2.c)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from langchain_gptoss.testing._types import Era

_TOOL_NAMESPACE = uuid.UUID("5d1f3c9e-0b7a-4c55-9a43-6f1e2d8b7c10")

Layout = list[tuple[list[list["Piece"]], bool]]
"""Stream chunks of one choice: ``(groups in the chunk, index-bumped)`` each."""


class Piece(NamedTuple):
    """One generated token (or channel opener) on its way into a stream chunk."""

    channel: str  # "r" (analysis), "c" (final) or "a" (tool-call arguments)
    text: str
    position: int | None  # token position for logprobs; None for channel openers
    call: int = -1  # the tool call an "a" piece belongs to


def tool_call_id(request_id: str, choice: int, call: int, digits: int = 32) -> str:
    """Return a ``chatcmpl-tool-<hex>`` id, unique per response, choice and call.

    Derived from the (random) request id, so ids differ between responses;
    ``digits`` is 32 up to vLLM 0.11.x and 16 from 0.12.0 (protocol §2.b).
    """
    name = f"{request_id}/{choice}/{call}"
    return f"chatcmpl-tool-{uuid.uuid5(_TOOL_NAMESPACE, name).hex[:digits]}"


def redump(raw: str) -> str:
    """Re-serialize arguments like vLLM's tool parser; invalid JSON passes through."""
    try:
        return json.dumps(json.loads(raw))
    except ValueError:
        return raw


def _joins(current: list[Piece], piece: Piece, era: Era, size: int) -> bool:
    """Whether ``piece`` shares the chunk of ``current``."""
    last = current[-1]
    if len(current) >= size:
        return False
    if "a" in (piece.channel, last.channel):
        # A call opener has a chunk of its own; fragments group within one call.
        same_call = (piece.channel, piece.call) == (last.channel, last.call)
        return same_call and None not in (piece.position, last.position)
    return era == "reasoning" or last.channel == piece.channel


def groups(pieces: list[Piece], era: Era, size: int) -> list[list[Piece]]:
    """Coalesce ``size`` tokens per chunk; only the newest era mixes channels."""
    found: list[list[Piece]] = []
    for piece in pieces:
        if found and _joins(found[-1], piece, era, size):
            found[-1].append(piece)
        else:
            found.append([piece])
    return found


def is_opener(group: list[Piece]) -> bool:
    """Whether ``group`` is the opener of a tool call (id, type, name)."""
    return group[0].channel == "a" and group[0].position is None


def layout(found: list[list[Piece]], quirks: bool) -> Layout:
    """Lay the groups out in chunks.

    With ``quirks``, as observed live (protocol §2.c ii): the last reasoning delta
    shares the call opener's delta, the first argument fragment joins the opener's
    list, and the last fragment of the last call is bumped to the next index (in a
    chunk that also carries ``stop_reason``).
    """
    if not quirks or not any(map(is_opener, found)):
        return [([group], False) for group in found]
    last_call = max(group[0].call for group in found)
    fragments = [
        i
        for i, group in enumerate(found)
        if group[0].call == last_call and not is_opener(group)
    ]
    bumped = fragments[-1] if fragments else -1
    chunks: Layout = []
    skip = False
    for i, group in enumerate(found):
        if skip:
            skip = False
            continue
        if not is_opener(group):
            chunks.append(([group], i == bumped))
            continue
        chunk = [group]
        previous = chunks[-1][0] if chunks else []
        if len(previous) == 1 and all(p.channel == "r" for p in previous[0]):
            chunk.insert(0, chunks.pop()[0][0])
        following = found[i + 1] if i + 1 < len(found) else None
        if following and following[0].call == group[0].call and i + 1 != bumped:
            chunk.append(following)
            skip = True
        chunks.append((chunk, False))
    return chunks


def entries(
    chunk: list[list[Piece]], ids: list[str], names: list[str], bumped: bool
) -> list[dict[str, Any]]:
    """Return the ``delta.tool_calls`` list of one chunk, in vLLM's key order."""
    found: list[dict[str, Any]] = []
    for group in chunk:
        if group[0].channel != "a":
            continue
        call = group[0].call
        if is_opener(group):
            function = {"name": names[call], "arguments": ""}
            found.append(
                {
                    "id": ids[call],
                    "type": "function",
                    "index": call,
                    "function": function,
                }
            )
            continue
        fragment = {"function": {"arguments": "".join(p.text for p in group)}}
        if bumped or found:
            # A fragment sharing the opener's list, or bumped, repeats the type.
            found.append({"type": "function", "index": call + bumped, **fragment})
        else:
            found.append({"index": call, **fragment})
    return found
