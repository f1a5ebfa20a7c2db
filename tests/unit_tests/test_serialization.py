from __future__ import annotations

import pytest
from langchain_core.load import dumpd, dumps, load

from langchain_gptoss import ChatGptOss

TOKEN = "serialization-secret-31c9"


@pytest.mark.filterwarnings(
    "ignore::langchain_core._api.beta_decorator.LangChainBetaWarning"
)
def test_dumpd_load_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatGptOss(
        api_key=TOKEN, project_id="p-9", temperature=0.3, reasoning_effort="high"
    )
    data = dumpd(model)
    assert TOKEN not in dumps(model)
    assert data["kwargs"]["api_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["E2E_TIR_ACCESS_TOKEN"],
    }
    monkeypatch.setenv("E2E_TIR_ACCESS_TOKEN", TOKEN)
    restored = load(
        data,
        valid_namespaces=["langchain_gptoss"],
        allowed_objects=[ChatGptOss],
        secrets_from_env=True,
    )
    assert isinstance(restored, ChatGptOss)
    assert restored.model_dump() == model.model_dump()
    assert restored.api_key is not None
    assert restored.api_key.get_secret_value() == TOKEN
