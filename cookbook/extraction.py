"""Structured extraction: a few paragraphs of text into a pydantic model.

Shows `with_structured_output` (JSON schema mode, which vLLM enforces while
decoding) and `include_raw=True`, which hands back the raw message and the parse
error instead of raising. The second call gives the model too few tokens on
purpose: gpt-oss spends them on reasoning, the JSON never comes, and the recipe
spots that (`finish_reason == "length"`) and retries with a larger budget.

Run from the repository root:

    python cookbook/extraction.py

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _connect import chat_model
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from langchain_gptoss import ChatGptOss

REPORT = """\
On 14 March the Pune warehouse reported that the cold-storage unit in bay 4 had
failed overnight. About 320 boxes of vaccines were moved to bay 2 before 9 a.m.,
and none were lost. The supplier, "FrostLine Systems", sent a technician who
replaced the compressor by the afternoon.

The site manager, "Asha Kulkarni", asked for a second backup unit. She estimated
the cost of the outage at 45000 rupees, mostly overtime and the technician's fee.

Follow-up: the maintenance schedule will move from quarterly to monthly checks.
"""


class Incident(BaseModel):
    """One operational incident, as a report describes it."""

    site: str = Field(description="Where it happened")
    equipment: str = Field(description="What failed")
    supplier: str = Field(description="Who fixed it")
    manager: str = Field(description="Who is responsible on site")
    boxes_moved: int = Field(description="How many boxes were moved")
    cost_rupees: int = Field(description="Estimated cost in rupees")
    anything_lost: bool = Field(description="Whether goods were lost")
    follow_up: str = Field(description="What changes afterwards")


def extract(model: ChatGptOss, text: str) -> dict[str, Any]:
    extractor = model.with_structured_output(Incident, include_raw=True)
    return extractor.invoke(f"Extract the incident from this report:\n\n{text}")


def show(result: dict[str, Any]) -> None:
    if result["parsing_error"] is None:
        print(result["parsed"].model_dump_json(indent=2))
        return
    raw = result["raw"]
    print(f"parse failed: {type(result['parsing_error']).__name__}")
    print(f"  finish_reason: {raw.response_metadata.get('finish_reason')}")
    print(f"  raw content:   {raw.content!r}")


def main() -> None:
    with chat_model(reasoning_effort="low", max_tokens=2048) as model:
        print("\n== extraction")
        show(extract(model, REPORT))

        print("\n== a budget too small for reasoning plus JSON")
        with model.model_copy(update={"max_tokens": 12}) as tight:
            result = extract(tight, REPORT)
        show(result)
        ran_out = result["raw"].response_metadata.get("finish_reason") == "length"
        if result["parsing_error"] is not None and ran_out:
            print("  -> out of tokens: retrying with max_tokens=2048")
            show(extract(model, REPORT))


if __name__ == "__main__":
    main()
