"""Token counting on ChatGptOss: exact with openai-harmony, approximate without it.

Sockets are off in unit tests, so every exact count here proves the vocabulary came
from the installed bpe-openai, never from a download.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import os
import pickle
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.language_models import base as lc_base
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.tools import tool
from pydantic import ValidationError

from langchain_gptoss import (
    ChatGptOss,
    GptOssContextOverflowError,
    GptOssError,
    _harmony,
    _tokens,
)
from tests.unit_tests.conftest import PROJECT, TOKEN, Recorder, make_model
from tests.unit_tests.wire import completion

GOLDEN_DATE = "2026-06-01"


@tool
def lookup_weather(town: str) -> str:
    """Weather for a town"""
    return "rain"


# The golden `tool_loop_id_and_name` conversation, as LangChain messages.
TOOL_LOOP: list[BaseMessage] = [
    HumanMessage("Is it raining in Oslo?"),
    AIMessage(
        "",
        tool_calls=[
            {"id": "call_oslo_1", "name": "lookup_weather", "args": {"town": "Oslo"}}
        ],
        additional_kwargs={"reasoning_content": "Need the weather tool."},
    ),
    ToolMessage(
        '{"rain": true, "temp_c": 4}', tool_call_id="call_oslo_1", name="lookup_weather"
    ),
]


def model(**kwargs: Any) -> ChatGptOss:
    return ChatGptOss(api_key=TOKEN, project_id=PROJECT, **kwargs)


@pytest.fixture
def golden_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tokens, "today", lambda: GOLDEN_DATE)


@pytest.fixture
def no_harmony(monkeypatch: pytest.MonkeyPatch) -> None:
    """openai-harmony missing: the import fails; nothing was loaded yet."""

    def missing() -> Any:
        raise _tokens._HarmonyMissingError("No module named 'openai_harmony'")

    monkeypatch.setattr(_tokens, "_import_harmony", missing)
    monkeypatch.setattr(_tokens, "_encoding", None)
    # Never LangChain's GPT-2 path (transformers, a download from huggingface.co).
    monkeypatch.setattr(lc_base, "_get_token_ids_default_method", _forbidden)


def _forbidden(text: str) -> list[int]:
    raise AssertionError("the GPT-2 tokenizer was asked for: " + text)


# ------------------------------------------------------------- exact counts


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.10.2", 163), ("0.11.2", 165), ("0.13.0", 179), ("0.20.1", 179)],
)
@pytest.mark.usefixtures("golden_date")
def test_count_of_a_tool_loop_is_what_vllm_reported(
    version: str, expected: int
) -> None:
    chat = model(vllm_version=version)
    assert chat.get_num_tokens_from_messages(TOOL_LOOP, tools=[lookup_weather]) == (
        expected
    )


@pytest.mark.usefixtures("golden_date")
def test_count_follows_the_models_settings() -> None:
    # vllm-golden `plain` / `reasoning_effort_low` / `empty_messages` at 0.13.0
    question = [HumanMessage("Name one primary colour.")]
    assert model().get_num_tokens_from_messages(question) == 74
    assert model(reasoning_effort="low").get_num_tokens_from_messages(question) == 74
    assert model(reasoning_effort="high").get_num_tokens_from_messages(question) == 74
    assert model().get_num_tokens_from_messages([]) == 65
    assert model(vllm_version="0.15.1").get_num_tokens_from_messages(question) == 70


def test_count_is_of_the_body_a_call_sends() -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    chat = make_model(recorder, reasoning_effort="high", max_tokens=50)
    chat.bind_tools([lookup_weather]).invoke(TOOL_LOOP)
    sent = recorder.bodies[0]
    assert model(reasoning_effort="high").get_num_tokens_from_messages(
        TOOL_LOOP, tools=[lookup_weather]
    ) == _tokens.count(sent, (0, 13, 0), _tokens.today())


def test_tools_count_as_their_harmony_typescript() -> None:
    chat = model()
    bare = chat.get_num_tokens_from_messages(TOOL_LOOP[:1])
    with_tool = chat.get_num_tokens_from_messages(TOOL_LOOP[:1], tools=[lookup_weather])
    # the developer message's tool namespace, plus the "commentary" channel lines
    assert with_tool - bare > 30


def test_get_num_tokens_is_the_plain_encoding() -> None:
    chat = model()
    assert chat.get_num_tokens("hello world") == 2
    assert chat.get_token_ids("hello world") == [24912, 2375]
    # harmony's control tokens in text are text, as vLLM renders them
    assert 200007 not in chat.get_token_ids("<|end|>")
    assert chat.get_num_tokens("") == 0


def test_custom_token_ids_win() -> None:
    chat = model(custom_get_token_ids=lambda text: [1] * len(text))
    assert chat.get_token_ids("abc") == [1, 1, 1]
    assert chat.get_num_tokens("abcd") == 4


def conversation(turns: int) -> list[BaseMessage]:
    history: list[BaseMessage] = []
    for turn in range(turns):
        history += [
            HumanMessage(f"Question {turn}: what is {turn} squared? " * 3),
            AIMessage(f"It is {turn * turn}. " * 5),
        ]
    return history


@pytest.mark.usefixtures("golden_date")
def test_trim_messages_with_the_model_as_counter() -> None:
    chat = model()
    history = conversation(20)
    trimmed = trim_messages(history, token_counter=chat, max_tokens=400)
    assert 3 <= len(trimmed) < len(history)
    assert chat.get_num_tokens_from_messages(trimmed) <= 400
    one_more = history[-len(trimmed) - 1 :]
    assert chat.get_num_tokens_from_messages(one_more) > 400


@pytest.mark.usefixtures("golden_date")
def test_trim_messages_keeping_the_system_message_stays_within_budget() -> None:
    # trim_messages counts the system message on its own, so harmony's fixed
    # framing (about 65 tokens) is counted twice: it errs on the safe side.
    chat = model()
    history = [SystemMessage("Be brief."), *conversation(20)]
    trimmed = trim_messages(
        history,
        token_counter=chat,
        max_tokens=400,
        strategy="last",
        include_system=True,
        start_on="human",
    )
    assert isinstance(trimmed[0], SystemMessage)
    assert isinstance(trimmed[1], HumanMessage)
    assert 400 - 150 < chat.get_num_tokens_from_messages(trimmed) <= 400


@pytest.mark.usefixtures("golden_date")
def test_vllm_version_changes_the_count() -> None:
    two_turns = [
        HumanMessage("Pick a number."),
        AIMessage("Seven.", additional_kwargs={"reasoning_content": "Any."}),
        HumanMessage("Double it."),
    ]
    counts = {
        version: model(vllm_version=version).get_num_tokens_from_messages(two_turns)
        for version in ("0.10.2", "0.13.0", "0.15.1", "0.20.1")
    }
    assert counts == {"0.10.2": 86, "0.13.0": 88, "0.15.1": 84, "0.20.1": 86}


@pytest.mark.parametrize("value", ["latest", "0.9.0", "13"])
def test_vllm_version_is_validated(value: str) -> None:
    with pytest.raises(ValidationError, match="vllm_version"):
        model(vllm_version=value)


# ------------------------------------------------------------------- dates


def test_every_date_has_the_same_length() -> None:
    lengths = set()
    day = dt.date(2000, 1, 1)
    while day.year < 2100:
        line = f"Knowledge cutoff: 2024-06\nCurrent date: {day.isoformat()}\n\n"
        lengths.add(len(_tokens.text_token_ids(line)))
        day += dt.timedelta(days=1)
    assert len(lengths) == 1
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    dates = ["1999-12-31", "2024-02-29", "2026-06-01", "2031-10-10", "2099-09-09"]
    assert len({_tokens.count(body, (0, 13, 0), date) for date in dates}) == 1


def test_the_date_is_todays_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    version = (0, 13, 0)
    monkeypatch.setattr(_tokens, "today", lambda: "today")  # fewer tokens than a date
    counted = _tokens.prompt_tokens(body, version, approximate=lambda: -1)
    assert counted == _tokens.count(body, version, "today")
    assert counted < _tokens.count(body, version, GOLDEN_DATE)
    assert _tokens.today() == "today"
    monkeypatch.undo()
    assert _tokens.today() == dt.date.today().isoformat()  # noqa: DTZ011


# ---------------------------------------------------- cached per-message counts


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
WIRE_MESSAGE = st.one_of(
    st.builds(lambda t: {"role": "user", "content": t}, TEXT),
    st.builds(lambda t: {"role": "system", "content": t}, TEXT),
    st.builds(
        lambda t, r: {"role": "assistant", "content": t, "reasoning": r}, TEXT, TEXT
    ),
    st.builds(
        lambda a, r: {
            "role": "assistant",
            "content": None,
            "reasoning": r,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "lookup_weather", "arguments": a},
                }
            ],
        },
        TEXT,
        TEXT,
    ),
    st.builds(
        lambda t: {"role": "tool", "tool_call_id": "c1", "name": "x", "content": t},
        TEXT,
    ),
)
TOOLS = [{"type": "function", "function": {"name": "lookup_weather", "parameters": {}}}]


@settings(max_examples=150, deadline=None)
@given(
    messages=st.lists(WIRE_MESSAGE, max_size=6),
    with_tools=st.booleans(),
    version=st.sampled_from(["0.10.2", "0.11.2", "0.13.0", "0.16.0", "0.26.0"]),
)
def test_cached_count_equals_the_whole_rendering(
    messages: list[dict[str, Any]], with_tools: bool, version: str
) -> None:
    body: dict[str, Any] = {"messages": messages}
    if with_tools:
        body["tools"] = TOOLS
    release = _harmony.parse_version(version)
    rendered = _tokens.render(_tokens.encoding(), body, release, GOLDEN_DATE)
    assert _tokens.count(body, release, GOLDEN_DATE) == len(rendered)


# --------------------------------------------------------- without harmony


@pytest.mark.usefixtures("no_harmony")
def test_without_harmony_counts_are_approximate_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = model()
    with caplog.at_level(logging.WARNING, logger="langchain_gptoss"):
        counted = chat.get_num_tokens_from_messages(TOOL_LOOP, tools=[lookup_weather])
        again = chat.get_num_tokens_from_messages(TOOL_LOOP)
        text = chat.get_num_tokens("hello world, hello")
    tools = chat.bind_tools([lookup_weather]).kwargs["tools"]  # type: ignore[attr-defined]
    assert counted == count_tokens_approximately(TOOL_LOOP, tools=tools)
    assert again == count_tokens_approximately(TOOL_LOOP)
    assert text == 5  # 18 characters / 4, rounded up
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "pip install 'langchain-gptoss[tokens]'" in warnings[0]
    assert "approximately" in warnings[0]


@pytest.mark.usefixtures("no_harmony")
def test_without_harmony_trim_messages_still_trims() -> None:
    history = [HumanMessage("word " * 100) for _ in range(10)]
    trimmed = trim_messages(history, token_counter=model(), max_tokens=400)
    assert 1 <= len(trimmed) < len(history)


@pytest.mark.usefixtures("no_harmony")
def test_without_harmony_token_ids_say_how_to_get_them() -> None:
    with pytest.raises(ImportError, match=r"pip install 'langchain-gptoss\[tokens\]'"):
        model().get_token_ids("hello")


# ---------------------------------------------------------- the vocabulary


def test_encoding_is_loaded_once() -> None:
    assert _tokens.encoding() is _tokens.encoding()


def test_bpe_openai_ships_the_pinned_vocabulary(tmp_path: Path) -> None:
    source = _tokens.bundled_vocabulary()
    assert source is not None
    assert source.name == "o200k_base.tiktoken.gz"
    folder = _tokens.unpack_vocabulary(source, tmp_path / "cache")
    target = folder / _tokens.VOCABULARY
    assert _tokens._sha256(target) == _tokens.VOCABULARY_SHA256
    assert sorted(p.name for p in folder.iterdir()) == [_tokens.VOCABULARY]
    stamp = target.stat().st_mtime_ns
    _tokens.unpack_vocabulary(source, folder)  # a good copy is kept
    assert target.stat().st_mtime_ns == stamp


def test_a_corrupt_cached_copy_is_replaced(tmp_path: Path) -> None:
    source = _tokens.bundled_vocabulary()
    assert source is not None
    (tmp_path / _tokens.VOCABULARY).write_bytes(b"truncated")
    _tokens.unpack_vocabulary(source, tmp_path)
    assert _tokens._sha256(tmp_path / _tokens.VOCABULARY) == _tokens.VOCABULARY_SHA256


def test_a_vocabulary_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "o200k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(b"aGVsbG8= 0\n"))
    with pytest.raises(GptOssError, match=r"SHA-256 .* would be wrong.*Reinstall"):
        _tokens.unpack_vocabulary(bad, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written


def fake_harmony(seen: list[str | None], *, fail: bool = False) -> Any:
    """Records where openai-harmony would have looked for the vocabulary."""

    def load(name: str) -> str:
        seen.append(os.environ.get(_tokens.ENV))
        if fail:
            raise RuntimeError("invalid tiktoken vocab file")
        return f"encoding {name}"

    return types.SimpleNamespace(
        HarmonyEncodingName=types.SimpleNamespace(HARMONY_GPT_OSS="HarmonyGptOss"),
        load_harmony_encoding=load,
    )


def test_user_folder_comes_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(_tokens.ENV, str(tmp_path))
    monkeypatch.setattr(_tokens, "unpack_vocabulary", _forbidden)
    seen: list[str | None] = []
    assert _tokens._load(fake_harmony(seen)) == "encoding HarmonyGptOss"
    assert seen == [str(tmp_path)]


def test_bundled_copy_is_used_for_the_load_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(_tokens.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    seen: list[str | None] = []
    _tokens._load(fake_harmony(seen))
    assert seen == [str(tmp_path / "langchain-gptoss")]
    assert _tokens.ENV not in os.environ
    with pytest.raises(GptOssError, match=r"unpacked from bpe-openai"):
        _tokens._load(fake_harmony(seen, fail=True))
    assert _tokens.ENV not in os.environ


def test_an_unwritable_cache_falls_back_to_a_private_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(_tokens.ENV, raising=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(_tokens, "cache_dir", lambda: blocker / "langchain-gptoss")
    seen: list[str | None] = []
    _tokens._load(fake_harmony(seen))
    assert seen[0] is not None
    assert Path(seen[0]).name.startswith("langchain-gptoss-")
    assert (Path(seen[0]) / _tokens.VOCABULARY).is_file()


def test_without_a_copy_harmony_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_tokens.ENV, raising=False)
    monkeypatch.setattr(_tokens, "bundled_vocabulary", lambda: None)
    seen: list[str | None] = []
    _tokens._load(fake_harmony(seen))
    assert seen == [None]
    with pytest.raises(GptOssError, match=r"download.*tokens-offline"):
        _tokens._load(fake_harmony(seen, fail=True))


def test_a_missing_user_folder_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import openai_harmony

    monkeypatch.setenv(_tokens.ENV, str(tmp_path))
    with pytest.raises(
        GptOssError, match=r"TIKTOKEN_ENCODINGS_BASE=.*Put o200k_base.tiktoken in"
    ):
        _tokens._load(openai_harmony)


def test_a_failed_load_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_tokens.ENV, raising=False)
    monkeypatch.setattr(_tokens, "bundled_vocabulary", lambda: None)
    seen: list[str | None] = []
    monkeypatch.setattr(
        _tokens, "_import_harmony", lambda: fake_harmony(seen, fail=True)
    )
    monkeypatch.setattr(_tokens, "_encoding", None)
    for _ in range(3):
        with pytest.raises(GptOssError, match="tokens-offline"):
            model().get_num_tokens_from_messages(TOOL_LOOP)
    assert seen == [None]  # one download attempt, not one per count


# -------------------------------------------------- the overflow error itself


def test_local_overflow_error_names_the_numbers_and_pickles() -> None:
    error = GptOssContextOverflowError.before_sending(
        prompt_tokens=130_000, max_tokens=4_096, context_window=131_072
    )
    text = str(error)
    for number in ("130,000", "4,096", "134,096", "131,072", "1,072"):
        assert number in text
    assert "trim_messages" in text
    assert "nothing was sent" in text
    assert error.status_code == 0
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is GptOssContextOverflowError
    assert (str(copy), copy.prompt_tokens, copy.max_tokens) == (text, 130_000, 4_096)
    alone = GptOssContextOverflowError.before_sending(
        prompt_tokens=131_072, max_tokens=None, context_window=131_072
    )
    assert "prompt alone is 131,072 tokens" in str(alone)


def test_where_older_releases_count_more_than_0_13() -> None:
    """The README's exceptions to "0.13.0 is an upper bound over 0.10.2-0.20.x"."""
    hi = {"role": "user", "content": "Hi"}
    empty_answer = {"messages": [hi, {"role": "assistant", "content": ""}, hi]}
    lost_call = {
        "messages": [
            hi,
            {
                "role": "tool",
                "tool_call_id": "gone",
                "name": "lookup_weather_for_a_town",
                "content": "1",
            },
        ]
    }

    def counts(body: dict[str, Any]) -> dict[str, int]:
        return {
            v: _tokens.count(body, _harmony.parse_version(v), GOLDEN_DATE)
            for v in ("0.10.2", "0.13.0")
        }

    # <= 0.12 renders an empty assistant frame (4 tokens) that 0.13 drops
    assert counts(empty_answer) == {"0.10.2": 79, "0.13.0": 75}
    # <= 0.12 names a tool result by its `name`; 0.13 finds no call with that id
    # (and writes " to=assistant" instead: fewer tokens than a long name)
    assert counts(lost_call)["0.10.2"] > counts(lost_call)["0.13.0"]
