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


@cache
def harmony_prompts() -> dict[str, Any]:
    """Every served request's harmony prompt and count, per release.

    `releases[X][case]` is `[prompt_tokens, index into texts]`; `bodies` holds the
    request bodies and `date` the frozen harmony date of the runs.
    """
    texts: list[str] = []
    releases: dict[str, dict[str, list[int]]] = {}
    date = None
    for release in RELEASES:
        doc = load("requests", release)
        date = doc["meta"]["harmony_date_frozen_to"]
        served = releases.setdefault(release, {})
        for case, result in doc["results"].items():
            prompt = result.get("harmony_prompt")
            if result["status"] != 200 or not prompt:
                continue
            if prompt["text"] not in texts:
                texts.append(prompt["text"])
            served[case] = [prompt["prompt_tokens"], texts.index(prompt["text"])]
    used = sorted({case for served in releases.values() for case in served})
    return {
        "date": date,
        "bodies": {case: bodies()[case] for case in used},
        "texts": texts,
        "releases": releases,
    }
