"""The benchmark's TIR emulator, run in its own process so it is not the bottleneck.

A prompt containing "long" gets a ~1,600-event answer (reasoning, then content);
anything else a short one. Prints the base URL, then serves until stdin closes.
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_gptoss.testing import Reply, TirEmulator

LONG_REASONING = " ".join(f"step{i}" for i in range(600))
LONG_CONTENT = " ".join(f"word{i}" for i in range(1000))


def respond(body: dict[str, Any]) -> Reply:
    prompt = str(body["messages"][-1]["content"])
    if "long" in prompt:
        return Reply(reasoning=LONG_REASONING, content=LONG_CONTENT)
    return Reply(reasoning="Short thought.", content="Short answer.")


def main() -> None:
    with TirEmulator(responder=respond, reasoning_field="reasoning") as emulator:
        print(emulator.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
