"""Outputs of real vLLM releases' own server code, vendored from shared/vllm-golden.

`tests/vllm_golden/README.md` says how each file was made and how to regenerate
them; where the emulator or the client disagrees with these files, the files win.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "vllm_golden"
RELEASES = (
    "0.10.2",
    "0.11.0",
    "0.11.2",
    "0.13.0",
    "0.15.1",
    "0.16.0",
    "0.20.1",
    "0.26.0",
    "0.33.0",
)


@cache
def load(kind: str, release: str) -> dict[str, Any]:
    """One file: `kind` is requests, responses, tool_streams or errors."""
    data: dict[str, Any] = json.loads((GOLDEN / kind / f"{release}.json").read_text())
    return data


@cache
def bodies() -> dict[str, Any]:
    """The request bodies the `requests` files answer, by case name."""
    data: dict[str, Any] = json.loads((GOLDEN / "generate" / "bodies.json").read_text())
    return data


def request_answers(cases: tuple[str, ...]) -> dict[str, Any]:
    """`bodies` and, per release, `answers` (status and error body) for `cases`."""
    answers = {}
    for release in RELEASES:
        results = load("requests", release)["results"]
        answers[release] = {
            case: {
                key: results[case][key]
                for key in ("status", "error")
                if key in results[case]
            }
            for case in cases
        }
    return {"bodies": {case: bodies()[case] for case in cases}, "answers": answers}
