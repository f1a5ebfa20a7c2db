"""What the emulator's golden comparisons share: the JSON shape walk and diffs.

A body is described as lines: the keys at every level, the values of the fixed
fields (and of any others asked for), ids by format, fingerprints by pattern.
Two bodies agree when their lines do; a difference is a line only one side has.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_gptoss.testing._types import Reply, ToolCall
from tests.golden import RELEASES, load

FINGERPRINT = re.compile(r"vllm-[0-9.]+-(?:[0-9a-f]{8}|nohash)")
FIXED = ("object", "model", "role", "type", "finish_reason", "stop_reason", "index")
# Compared by value in answers: the text and the calls a scripted model produced.
VALUES = ("content", "reasoning", "reasoning_content", "name", "arguments")
_MESSAGE = re.compile(
    r"(?:<\|start\|>assistant)?<\|channel\|>(\w+)(?: to=functions\.(\w+))?"
    r"(?: <\|constrain\|>json)?<\|message\|>(.*?)<\|(?:end|return|call)\|>",
    re.DOTALL,
)
SCENARIOS = [
    name
    for name in load("responses", RELEASES[0])["scenarios"]
    # The engine's own finish reason is not something a responder can script.
    if name != "finish_reason_abort_from_engine"
]
"""The `responses/X.json` scenarios the emulator can be scripted to answer."""


def reply_of(script: str) -> Reply:
    """The `Reply` that makes the emulator generate the harmony `script`."""
    reasoning, content, calls = "", None, []
    for channel, function, text in _MESSAGE.findall(script):
        if function:
            calls.append(ToolCall(function, text))
        elif channel == "analysis":
            reasoning += text
        else:
            content = (content or "") + text
    return Reply(reasoning, content, tuple(calls))


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
            elif key == "content" and path.endswith(".logprobs"):
                _logprob_lines(item, f"{path}.{key}", out)
            elif key in FIXED or key in values:
                out.append(f"{path}.{key}={item!r}")
            elif key in {"bytes", "token", "logprob"}:
                out.append(f"{path}.{key}:{type(item).__name__}")
            else:
                shape(item, f"{path}.{key}", out, values)
    elif isinstance(value, list):
        out.append(f"{path}[{len(value)}]")
        for i, item in enumerate(value):
            shape(item, f"{path}[{i}]", out, values)


def _logprob_lines(entries: Any, path: str, out: list[str]) -> None:
    """The tokens chosen, in order, and the first entry's shape.

    The golden runs' log-probability values and alternatives are stand-ins of
    the scripted engine (vllm-golden README), so neither is compared.
    """
    if not isinstance(entries, list) or not entries:
        out.append(f"{path}={entries!r}")
        return
    out.append(f"{path}.tokens={[entry.get('token') for entry in entries]!r}")
    shape(entries[0], f"{path}[0]", out)


def line_diff(theirs: list[str], mine: list[str]) -> list[str]:
    """Golden lines the emulator lacks (`-`), then the emulator's extra ones (`+`)."""
    return [f"-{line}" for line in theirs if line not in mine] + [
        f"+{line}" for line in mine if line not in theirs
    ]
