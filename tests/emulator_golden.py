"""What the emulator's golden comparisons share: the JSON shape walk and diffs.

A body is described as lines: the keys at every level, the values of the fixed
fields (and of any others asked for), ids by format, fingerprints by pattern.
Two bodies agree when their lines do; a difference is a line only one side has.
"""

from __future__ import annotations

import re
from typing import Any

FINGERPRINT = re.compile(r"vllm-[0-9.]+-(?:[0-9a-f]{8}|nohash)")
FIXED = ("object", "model", "role", "type", "finish_reason", "stop_reason", "index")


def shape(value: Any, path: str, out: list[str], values: tuple[str, ...] = ()) -> None:
    """Append the lines describing `value` (at `path`) to `out`.

    `values` names further keys whose values are compared, not just present.
    """
    if isinstance(value, dict):
        out.append(f"{path}{{{','.join(value)}}}")
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                kind = "tool" if item.startswith("chatcmpl-tool-") else "id"
                out.append(f"{path}.id~{kind}:{len(item)}")
            elif key == "system_fingerprint" and isinstance(item, str):
                out.append(f"{path}.{key}~{bool(FINGERPRINT.fullmatch(item))}")
            elif key in FIXED or key in values:
                out.append(f"{path}.{key}={item!r}")
            elif key in {"bytes", "token", "logprob"}:
                out.append(f"{path}.{key}:{type(item).__name__}")
            else:
                shape(item, f"{path}.{key}", out, values)
    elif isinstance(value, list) and path.endswith("logprobs.content"):
        # One entry per generated token: the count is the tokenizer's, so only
        # the first entry's shape is compared.
        shape(value[0], f"{path}[0]", out, values)
    elif isinstance(value, list):
        out.append(f"{path}[{len(value)}]")
        for i, item in enumerate(value):
            shape(item, f"{path}[{i}]", out, values)


def line_diff(theirs: list[str], mine: list[str]) -> list[str]:
    """Golden lines the emulator lacks (`-`), then the emulator's extra ones (`+`)."""
    return [f"-{line}" for line in theirs if line not in mine] + [
        f"+{line}" for line in mine if line not in theirs
    ]
