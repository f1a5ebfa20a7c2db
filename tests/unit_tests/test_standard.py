"""langchain-tests' standard unit suite."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_gptoss import ChatGptOss


class TestChatGptOssStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGptOss

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"api_key": "test", "project_id": 12345}

    @property
    def init_from_env_params(
        self,
    ) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "E2E_TIR_ACCESS_TOKEN": "env-token",
                "E2E_TIR_PROJECT_ID": "p-4242",
                "E2E_TIR_BASE_URL": "https://tir.example.test",
            },
            {},
            {
                "api_key": "env-token",
                "project_id": 4242,
                "base_url": "https://tir.example.test",
            },
        )

    @pytest.mark.xfail(
        reason=(
            "load(allowed_objects='all') admits only classes in langchain-core's "
            "registry of partner packages, which langchain-gptoss is not in; the "
            "dumpd/load round trip is tested in test_serialization.py with "
            "allowed_objects=[ChatGptOss]."
        ),
        strict=True,
    )
    def test_serdes(self, *args: Any, **kwargs: Any) -> None:
        super().test_serdes(*args, **kwargs)
