"""langchain-tests' standard integration suite against every emulated server variant.

Each reasoning-field era runs with vLLM's tool-call streaming quirks off and on;
one more class runs structured output through forced function calling.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_gptoss import ChatGptOss
from tests.integration_tests.conftest import LIVE, SECOND_MODEL, model_params

one_live_run = pytest.mark.skipif(
    LIVE,
    reason="the live endpoint is a single server; TestReasoningContentEra covers it",
)


class _Standard(ChatModelIntegrationTests):
    era = "both"
    quirks = False

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGptOss

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return model_params(self.era, quirks=self.quirks)

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        # Live TIR serves no second gpt-oss slug to switch to.
        return None if LIVE else SECOND_MODEL


class TestReasoningContentEra(_Standard):
    """vLLM 0.10.2-0.11.0: `reasoning_content` only."""

    era = "reasoning_content"


@one_live_run
class TestReasoningContentEraQuirks(_Standard):
    era = "reasoning_content"
    quirks = True


@one_live_run
class TestBothFieldsEra(_Standard):
    """vLLM ~0.11.1-0.15: `reasoning` and its `reasoning_content` mirror."""

    era = "both"


@one_live_run
class TestBothFieldsEraQuirks(_Standard):
    era = "both"
    quirks = True


@one_live_run
class TestReasoningEra(_Standard):
    """vLLM 0.16+: `reasoning` only."""

    era = "reasoning"


@one_live_run
class TestReasoningEraQuirks(_Standard):
    era = "reasoning"
    quirks = True


@one_live_run
class TestFunctionCallingStructuredOutput(_Standard):
    """Structured output through a forced tool call instead of guided decoding."""

    era = "reasoning"
    quirks = True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}
