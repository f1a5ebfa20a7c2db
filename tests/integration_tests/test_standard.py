"""langchain-tests' standard integration suite, in every reasoning-field era."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_gptoss import ChatGptOss
from tests.integration_tests.conftest import LIVE, model_params


class _Standard(ChatModelIntegrationTests):
    era = "both"

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGptOss

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return model_params(self.era)

    @property
    def has_tool_calling(self) -> bool:
        return True


class TestReasoningContentEra(_Standard):
    """vLLM 0.10.2-0.11.0: `reasoning_content` only."""

    era = "reasoning_content"


@pytest.mark.skipif(LIVE, reason="the live endpoint is one era; it runs once above")
class TestBothFieldsEra(_Standard):
    """vLLM ~0.11.1-0.15: `reasoning` and its `reasoning_content` mirror."""

    era = "both"


@pytest.mark.skipif(LIVE, reason="the live endpoint is one era; it runs once above")
class TestReasoningEra(_Standard):
    """vLLM 0.16+: `reasoning` only."""

    era = "reasoning"
