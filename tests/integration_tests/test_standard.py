"""langchain-tests' standard integration suite against every supported vLLM release.

Each class plays one release profile of the emulator (its reasoning field names,
ids, request rules and stream shapes, from `testing/_releases.py`): the oldest
gpt-oss release with tool calls, each release where the wire changes for this
client, and the newest. Two classes force vLLM's tool-call streaming quirks, two
group two and three tokens per engine step on the releases whose streams survive
that (the others lose text: `test_engine_steps.py` holds what the client makes
of them), and one runs structured output through forced function calling.
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
    reason="the live endpoint is a single server; TestVllm0_10_2 covers it",
)


class _Standard(ChatModelIntegrationTests):
    vllm = "0.13.0"
    quirks: bool | None = None
    tokens_per_chunk = 1

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGptOss

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return model_params(
            self.vllm, quirks=self.quirks, tokens_per_chunk=self.tokens_per_chunk
        )

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        # Live TIR serves no second gpt-oss slug to switch to.
        return None if LIVE else SECOND_MODEL


class TestVllm0_10_2(_Standard):  # noqa: N801 - named after the release
    """`reasoning_content` only, tool results by `name`, arguments copied into
    the answer's content, list tool content and tools without description refused."""

    vllm = "0.10.2"


@one_live_run
class TestVllm0_10_2Quirks(_Standard):  # noqa: N801
    vllm = "0.10.2"
    quirks = True


@one_live_run
class TestVllm0_11_0(_Standard):  # noqa: N801
    """The last `reasoning_content`-only release; 32-hex ids."""

    vllm = "0.11.0"


@one_live_run
class TestVllm0_13_0(_Standard):  # noqa: N801
    """Both reasoning fields, 16-hex ids, tool results by `tool_call_id`."""

    vllm = "0.13.0"


@one_live_run
class TestVllm0_16_0(_Standard):  # noqa: N801
    """`reasoning` only; some errors as HTTP 200; `max_tokens` over the window refused."""

    vllm = "0.16.0"


@one_live_run
class TestVllm0_20_1(_Standard):  # noqa: N801
    """`tools: []` refused, no usage for `stream_options: {}`, index bump on finish."""

    vllm = "0.20.1"


@one_live_run
class TestVllm0_20_1Quirks(_Standard):  # noqa: N801
    vllm = "0.20.1"
    quirks = True


@one_live_run
class TestVllm0_33_0(_Standard):  # noqa: N801
    """The newest: `prompt_text`, fingerprints, 0.33's error style."""

    vllm = "0.33.0"


@one_live_run
class TestVllm0_20_1TwoTokensAStep(_Standard):  # noqa: N801
    """The index-bumped last fragment on the finish chunk (engine steps of 2)."""

    vllm = "0.20.1"
    tokens_per_chunk = 2


@one_live_run
class TestVllm0_33_0ThreeTokensAStep(_Standard):  # noqa: N801
    """The opener carrying the first fragment (engine steps of 3)."""

    vllm = "0.33.0"
    tokens_per_chunk = 3


@one_live_run
class TestFunctionCallingStructuredOutput(_Standard):
    """Structured output through a forced tool call instead of guided decoding."""

    vllm = "0.20.1"
    quirks = True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}
