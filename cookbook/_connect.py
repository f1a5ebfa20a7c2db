"""For the recipes: ChatGptOss on TIR when credentials are set, else on the emulator."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_gptoss import ChatGptOss
from langchain_gptoss.testing import TirEmulator


@contextmanager
def chat_model(
    *, on_emulator: Callable[[TirEmulator], None] | None = None, **kwargs: Any
) -> Iterator[ChatGptOss]:
    """Yield a model for TIR if E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set.

    Otherwise start the bundled TIR emulator on loopback and point the model at it;
    `on_emulator` may set the emulator up first (e.g. inject faults). The first
    line printed says which one is used.
    """
    if os.environ.get("E2E_TIR_ACCESS_TOKEN") and os.environ.get("E2E_TIR_PROJECT_ID"):
        model = ChatGptOss(**kwargs)
        print(f"Using TIR: project p-{model.project_id}, model {model.model}.")
        yield model
        return
    with TirEmulator() as emulator:
        print(
            "E2E_TIR_ACCESS_TOKEN / E2E_TIR_PROJECT_ID not set: using the local TIR "
            f"emulator at {emulator.base_url} (answers are deterministic stand-ins)."
        )
        if on_emulator is not None:
            on_emulator(emulator)
        yield ChatGptOss(
            base_url=emulator.base_url,
            api_key=emulator.token,
            project_id=emulator.project_id,
            **kwargs,
        )
