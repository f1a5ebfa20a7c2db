"""Tool calls on the wire: ids and re-serialized arguments (§2.b)."""

from __future__ import annotations

import json
import uuid

_TOOL_NAMESPACE = uuid.UUID("5d1f3c9e-0b7a-4c55-9a43-6f1e2d8b7c10")


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
