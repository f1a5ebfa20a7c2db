"""A faithful local emulator of E2E TIR's gpt-oss chat completions endpoint.

Use it in tests, benchmarks and examples instead of the real service::

    from langchain_gptoss.testing import Fault, TirEmulator

    with TirEmulator(reasoning_field="reasoning") as emu:
        emu.inject(Fault(status=429, headers={"Retry-After": "0"}))
        ...  # point a client at emu.base_url / emu.openai_base_url

Run it standalone with ``python -m langchain_gptoss.testing --port 8000``.
"""

from __future__ import annotations

from langchain_gptoss.testing._emulator import TirEmulator
from langchain_gptoss.testing._types import Fault, RecordedRequest, Reply, ToolCall

__all__ = ["Fault", "RecordedRequest", "Reply", "TirEmulator", "ToolCall"]
