"""Bad settings fail early and clearly, and no error shows the token.

Construction errors, and per-call errors raised before anything is sent, are
checked with `tests.leaks.assert_no_leak`: no 8 characters of the token in the
exception chain, in any traceback frame's locals, in log records or warnings.
The tokens live in module constants and are read inside the calls that raise,
so that the tests' own frames (which tracebacks include) never hold them.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from langchain_gptoss import ChatGptOss
from langchain_gptoss._endpoint import resolve_endpoint
from tests.leaks import assert_no_leak
from tests.unit_tests.conftest import Recorder, make_model, run_invoke, run_stream
from tests.unit_tests.wire import completion

NAN, INF = math.nan, math.inf
TOKENS = {
    "hex": "tir-" + "3f9a0c1d7e5b2a4869f0e1d2c3b4a5968778695a",
    "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhcGltYW4ifQ.Zx9/Qm+Lw3/Ty+8aP0vKdNcR+2sHj",
}
DIGITS = "9081726354" * 4


@pytest.fixture(autouse=True)
def _no_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "E2E_TIR_ACCESS_TOKEN",
        "TIR_API_TOKEN",
        "E2E_TIR_PROJECT_ID",
        "E2E_TIR_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def recorder() -> Recorder:
    return Recorder(httpx.Response(200, json=completion("both")))


# ------------------------------------------------------------------ model slugs

GOOD_SLUGS = [
    "gpt_oss_120b",
    "gpt_oss_20b",
    "llama_3_3_70b_instruct_fp8",
    "llama3_1_8b_instruct",
    "llama_4_scout_17b_16e_instruct",
    "deepseek_v3",
    "Llama-3.1-8B-Instruct",
    "phi-4",
    "qwen2.5-72b",
]
BAD_SLUGS = [
    "../../../../admin/x",
    "..",
    ".",
    ".hidden",
    "",
    "a/b",
    "a%2Fb",
    "%2e%2e",
    "a?b",
    "a#b",
    "a b",
    "a\tb",
    "gpt_oss_120b\n",
]
SLUG_ERROR = "model must be a TIR GenAI model slug such as 'gpt_oss_120b'"


@pytest.mark.parametrize("slug", GOOD_SLUGS)
def test_real_slugs_are_accepted_everywhere(mode: str, slug: str) -> None:
    calls = recorder()
    run_invoke(make_model(calls, model=slug), mode, "hi")
    run_invoke(make_model(calls), mode, "hi", model=slug)
    full = f"https://infer.e2enetworks.net/project/p-5/genai/{slug}/v1"
    assert ChatGptOss(api_key="t", base_url=full).model == slug
    assert [r.url.path for r in calls.requests] == [
        f"/project/p-12345/genai/{slug}/v1/chat/completions"
    ] * 2


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_unsafe_slugs_fail_at_construction(slug: str) -> None:
    with pytest.raises(ValidationError, match=SLUG_ERROR):
        ChatGptOss(api_key="t", project_id=1, model=slug)
    with pytest.raises(ValidationError, match=SLUG_ERROR):
        ChatGptOss(api_key="t", project_id=1, model_kwargs={"model": slug})


@pytest.mark.parametrize("slug", ["..", ".hidden", "a%2Fb", "%2e%2e"])
def test_unsafe_slug_in_a_full_base_url_fails(slug: str) -> None:
    url = f"https://infer.e2enetworks.net/project/p-5/genai/{slug}/v1"
    with pytest.raises(ValidationError, match=r"base_url names model .*not a TIR"):
        ChatGptOss(api_key="t", base_url=url)


@pytest.mark.parametrize("slug", [*BAD_SLUGS, None, 5])
def test_unsafe_per_call_slug_sends_nothing(mode: str, slug: Any) -> None:
    calls = recorder()
    model = make_model(calls)
    with pytest.raises(ValueError, match=SLUG_ERROR):
        run_invoke(model, mode, "hi", model=slug)
    with pytest.raises(ValueError, match=SLUG_ERROR):
        run_stream(model, mode, "hi", model=slug)
    assert calls.requests == []


# ------------------------------------------------------------ non-finite numbers

SAMPLING_FLOATS = ["temperature", "top_p", "frequency_penalty", "presence_penalty"]


@pytest.mark.parametrize("field", SAMPLING_FLOATS)
@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_non_finite_sampling_settings_fail_at_construction(
    field: str, value: float
) -> None:
    with pytest.raises(ValidationError, match=rf"{field}\n  Input should be a finite"):
        ChatGptOss(api_key="t", project_id=1, **{field: value})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_kwargs": {"top_k": NAN}}, "model_kwargs has nan at top_k"),
        ({"top_k": INF}, "model_kwargs has inf at top_k"),
        (
            {"model_kwargs": {"vllm_xargs": {"w": [1.0, -INF]}}},
            r"model_kwargs has -inf at vllm_xargs\.w\[1\]",
        ),
    ],
)
def test_non_finite_model_kwargs_fail_at_construction(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=1, **kwargs)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"temperature": NAN}, r"temperature must be a number in \[0, 2\], got nan"),
        ({"top_p": NAN}, r"top_p must be a number in \(0, 1\], got nan"),
        ({"top_p": INF}, r"top_p must be a number in \(0, 1\], got inf"),
        ({"frequency_penalty": INF}, "frequency_penalty must be a finite number"),
        ({"presence_penalty": NAN}, "presence_penalty must be a finite number"),
        ({"presence_penalty": "high"}, "presence_penalty must be a finite number"),
        ({"top_k": NAN}, "Cannot send the request: top_k is nan, and JSON has no"),
        ({"logit_bias": {"17": -INF}}, r"logit_bias\.17 is -inf"),
    ],
)
def test_non_finite_per_call_values_send_nothing(
    mode: str, override: dict[str, Any], message: str
) -> None:
    calls = recorder()
    model = make_model(calls)
    with pytest.raises(ValueError, match=message):
        run_invoke(model, mode, "hi", **override)
    with pytest.raises(ValueError, match=message):
        run_stream(model, mode, "hi", **override)
    assert calls.requests == []


def test_non_finite_number_in_a_tool_schema_sends_nothing(mode: str) -> None:
    calls = recorder()
    tool = {
        "type": "function",
        "function": {
            "name": "scale",
            "description": "Scale a value.",
            "parameters": {
                "type": "object",
                "properties": {"x": {"type": "number", "maximum": INF}},
            },
        },
    }
    bound = make_model(calls).bind_tools([tool])
    where = r"tools\[0\]\.function\.parameters\.properties\.x\.maximum is inf"
    with pytest.raises(ValueError, match=where):
        run_invoke(bound, mode, "hi")
    assert calls.requests == []


def test_body_is_still_compact_utf8_json(mode: str) -> None:
    calls = recorder()
    run_invoke(make_model(calls, temperature=0.5), mode, "héllo")
    content = calls.requests[0].content
    assert b'"content":"h\xc3\xa9llo"' in content
    assert b'"temperature":0.5' in content
    assert b", " not in content
    assert b": " not in content


# ---------------------------------------------------------------------- base_url

BAD_URLS = [
    (
        "https://infer.e2enetworks.net /v1",
        "must not contain spaces or control characters; it has ' ' at position 29",
    ),
    ("https://infer.\te2enetworks.net", r"it has '\\t' at position 14"),
    ("https://host/a\x00b", "control characters"),
    ("https://host\u200b/v1", "control characters"),
    ("http:/host", "base_url has no host"),
    ("https://", "base_url has no host: .*; got 'https://'"),
    ("https:///project/p-1", "base_url has no host"),
    ("https://:8443", "base_url has no host"),
    ("https://host:abc", "not a valid URL: Port could not be cast"),
    ("https://host:99999", "not a valid URL: Port out of range"),
    ("https://[::1", "not a valid URL"),
    ("https://host:0", "port 0"),
    ("https://user:pw@host", "must not contain a user name or password"),
    ("https://host/?project_id=5", "must not contain a query"),
    ("https://host/v1#top", "or fragment"),
    ("ftp://x", "must start with https://"),
    ("infer.e2enetworks.net", "must start with https://"),
    ("https://xn--/", "not a URL httpx can use"),
    ("https://bad^host/", "characters a host name cannot have"),
]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_bad_base_urls_fail_clearly_at_construction(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_endpoint(url, 5, None)
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=5, base_url=url)


def test_url_errors_do_not_echo_credentials_or_queries() -> None:
    for url in ("https://me:hunter2-pw@host", "https://host/v1?key=hunter2-q"):
        with pytest.raises(ValueError, match="must not contain") as info:
            resolve_endpoint(url, 5, None)
        assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://infer.e2enetworks.net",
        "https://infer.e2enetworks.net/",
        "  https://infer.e2enetworks.net/\n",
        "HTTPS://infer.e2enetworks.net",
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
        "https://gw.example.com:8443/tir",
        "https://infer.e2enetworks.net/project/p-5/genai/gpt_oss_120b/v1/",
    ],
)
def test_good_base_urls_are_accepted(url: str) -> None:
    endpoint = resolve_endpoint(url, 5, None)
    assert endpoint.project_id == "5"
    assert endpoint.root == url.strip().rstrip("/").removesuffix(
        "/project/p-5/genai/gpt_oss_120b/v1"
    )


# ---------------------------------------------------------------------- timeouts

TIMEOUT_ERROR = "timeout must be a positive, finite number of seconds or an httpx"
PART_ERROR = "timeout's {} part must be None \\(no limit\\) or a positive, finite"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, TIMEOUT_ERROR),
        (0, TIMEOUT_ERROR),
        (NAN, TIMEOUT_ERROR),
        (INF, TIMEOUT_ERROR),
        (-INF, TIMEOUT_ERROR),
        (httpx.Timeout(-1), PART_ERROR.format("connect")),
        (httpx.Timeout(5, read=NAN), PART_ERROR.format("read")),
        (httpx.Timeout(5, connect=0), PART_ERROR.format("connect")),
        (httpx.Timeout(5, pool=INF), PART_ERROR.format("pool")),
    ],
)
def test_bad_timeouts_fail_at_construction(value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=1, timeout=value)
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=1, request_timeout=value)


@pytest.mark.parametrize("value", [NAN, INF, -1, 0])
def test_bad_stream_idle_timeouts_fail_at_construction(value: float) -> None:
    message = (
        "stream_idle_timeout must be a positive, finite number of seconds, or None"
    )
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=1, stream_idle_timeout=value)


@pytest.mark.parametrize(
    "value",
    [30, 0.5, None, httpx.Timeout(None), httpx.Timeout(5, read=None)],
)
def test_good_timeouts_are_kept(value: Any) -> None:
    model = ChatGptOss(
        api_key="t", project_id=1, timeout=value, stream_idle_timeout=None
    )
    assert model.timeout == value
    assert model.stream_idle_timeout is None


def test_model_copy_checks_timeouts_too() -> None:
    model = make_model(recorder())
    with pytest.raises(ValueError, match=TIMEOUT_ERROR):
        model.model_copy(update={"timeout": -1})
    with pytest.raises(ValueError, match="stream_idle_timeout must be"):
        model.model_copy(update={"stream_idle_timeout": NAN})


# ------------------------------------------------------- the connection limit

LIMIT_ERROR = "max_connections must be a whole number of connections, 1 or more"


@pytest.mark.parametrize("value", [0, -1, 2.5, "many", True, None])
def test_bad_connection_limits_fail_at_construction(value: Any) -> None:
    with pytest.raises(ValidationError, match=LIMIT_ERROR) as raised:
        ChatGptOss(api_key="t", project_id=1, max_connections=value)
    assert f"got {value!r}" in str(raised.value)
    assert "(default 1000)" in str(raised.value)


def test_model_copy_checks_the_connection_limit_too() -> None:
    model = make_model(recorder())
    with pytest.raises(ValueError, match=LIMIT_ERROR):
        model.model_copy(update={"max_connections": 0})


def test_connection_limit_defaults_to_the_openai_sdks() -> None:
    assert ChatGptOss(api_key="t", project_id=1).max_connections == 1000
    assert ChatGptOss(api_key="t", project_id=1, max_connections=7).max_connections == 7


# ------------------------------------------------------------------ the token


def test_token_is_trimmed_and_must_fit_a_header(mode: str) -> None:
    calls = recorder()
    model = make_model(calls, api_key="  tok-123\r\n")
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == "tok-123"
    run_invoke(model, mode, "hi")
    assert calls.requests[0].headers["authorization"] == "Bearer tok-123"
    for bad, kind in [
        ("tok 123", "a space at position 3 of 7"),
        ("tok\t123", "a space at position 3 of 7"),
        ("tok\x00123", "a control character at position 3 of 7"),
        ("tok\x7f123", "a control character at position 3 of 7"),
        ("tokö123", "a non-ASCII character at position 3 of 7"),
    ]:
        with pytest.raises(ValidationError, match=f"api_key has {kind}"):
            ChatGptOss(api_key=bad, project_id=1)


def test_construction_errors_show_no_inputs() -> None:
    with pytest.raises(ValidationError) as info:
        ChatGptOss(api_key=12345678, project_id=1, temperature=NAN)
    assert [e["input"] for e in info.value.errors()] == ["[hidden]", "[hidden]"]
    assert "input_value" not in str(info.value)


# ------------------------------------------------- the token never leaks (helper)


SECRET = "s3cr3t-" + "0123456789abcdef" * 2


def _raise_with_local() -> None:
    held = {"token": SECRET}
    raise ValueError(len(held))


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError


def _raise_with_broken_local() -> None:
    broken = BrokenRepr()
    raise ValueError(repr(type(broken)))


def _leak_report(exc: BaseException, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as info:
        assert_no_leak(exc, SECRET, **kwargs)
    report = str(info.value)
    assert all(SECRET[i : i + 8] not in report for i in range(len(SECRET) - 7))
    return report


def test_assert_no_leak_finds_every_kind_of_leak() -> None:
    assert "str()" in _leak_report(ValueError(f"bad token {SECRET[5:20]}"))
    assert "args[1]" in _leak_report(KeyError("k", SECRET))
    with pytest.raises(ValueError) as local:
        _raise_with_local()
    assert "local 'held' of _raise_with_local" in _leak_report(local.value)
    outer = RuntimeError("wrapped")
    outer.__cause__ = ValueError(SECRET)
    assert "__cause__" in _leak_report(outer)
    record = logging.LogRecord(
        "x", logging.WARNING, "f.py", 1, "got %s", (SECRET,), None
    )
    assert "log record 0" in _leak_report(ValueError("clean"), records=[record])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(f"token {SECRET}", UserWarning, stacklevel=1)
    assert "warning 0" in _leak_report(ValueError("clean"), warnings=caught)


def test_assert_no_leak_survives_a_broken_repr() -> None:
    with pytest.raises(ValueError) as info:
        _raise_with_broken_local()
    assert_no_leak(info.value, SECRET)


# -------------------------------------- the token never leaks (construction)


def capture(
    build: Callable[[str], object], name: str
) -> tuple[BaseException, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Exception) as info:
            build(name)
    return info.value, caught


def base() -> ChatGptOss:
    return ChatGptOss(api_key="other-token", project_id=1)


CONSTRUCTION_FAILURES: dict[str, Callable[[str], object]] = {
    "bad project": lambda n: ChatGptOss(api_key=TOKENS[n], project_id="p-12a"),
    "ftp base_url": lambda n: ChatGptOss(
        api_key=TOKENS[n], project_id=1, base_url="ftp://x"
    ),
    "no project": lambda n: ChatGptOss(api_key=TOKENS[n]),
    "nan temperature": lambda n: ChatGptOss(
        api_key=TOKENS[n], project_id=1, temperature=NAN
    ),
    "bad timeout": lambda n: ChatGptOss(api_key=TOKENS[n], project_id=1, timeout=-1),
    "bad model": lambda n: ChatGptOss(api_key=TOKENS[n], project_id=1, model="../x"),
    "bad port": lambda n: ChatGptOss(
        api_key=TOKENS[n], project_id=1, base_url="https://host:abc"
    ),
    "bytes token": lambda n: ChatGptOss(api_key=TOKENS[n].encode(), project_id="p-12a"),
    "space in token": lambda n: ChatGptOss(
        api_key=f"{TOKENS[n][:10]} {TOKENS[n][10:]}", project_id=1
    ),
    "non-ASCII in token": lambda n: ChatGptOss(api_key=TOKENS[n] + "é", project_id=1),
    "token under a wrong name": lambda n: ChatGptOss(api_token=TOKENS[n], project_id=1),
    "token in a URL query": lambda n: ChatGptOss(
        api_key=TOKENS[n], project_id=1, base_url=f"https://host/v1?token={TOKENS[n]}"
    ),
    "model_copy, bad project": lambda n: base().model_copy(
        update={"api_key": TOKENS[n], "project_id": "p-12a"}
    ),
    "model_copy, bytes token": lambda n: base().model_copy(
        update={"api_key": TOKENS[n].encode()}
    ),
    "model_copy, bad timeout": lambda n: base().model_copy(
        update={"api_key": TOKENS[n], "timeout": NAN}
    ),
}


@pytest.mark.parametrize("name", list(TOKENS))
@pytest.mark.parametrize("case", list(CONSTRUCTION_FAILURES))
def test_construction_errors_never_show_the_token(
    name: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exc, caught = capture(CONSTRUCTION_FAILURES[case], name)
    assert isinstance(exc, ValueError), repr(type(exc))
    assert_no_leak(exc, TOKENS[name], records=caplog.records, warnings=caught)


def test_token_in_user_info_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    exc, caught = capture(
        lambda n: ChatGptOss(
            api_key="t", project_id=1, base_url=f"https://x:{TOKENS[n]}@host"
        ),
        "hex",
    )
    assert isinstance(exc, ValueError)
    assert_no_leak(exc, TOKENS["hex"], records=caplog.records, warnings=caught)


@pytest.mark.parametrize("name", list(TOKENS))
def test_token_from_env_never_shows(
    name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("E2E_TIR_ACCESS_TOKEN", TOKENS[name] + "\n")
    for build in (
        lambda _: ChatGptOss(project_id="p-12a"),
        lambda _: ChatGptOss(project_id=1, base_url="https://host:abc"),
        lambda _: ChatGptOss(project_id=1, stream_idle_timeout=NAN),
    ):
        exc, caught = capture(build, name)
        assert_no_leak(exc, TOKENS[name], records=caplog.records, warnings=caught)


def test_integer_token_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    exc, caught = capture(lambda _: ChatGptOss(api_key=int(DIGITS), project_id=1), "")
    assert isinstance(exc, ValidationError)
    assert "api_key\n  Input should be a valid string" in str(exc)
    assert_no_leak(exc, DIGITS, records=caplog.records, warnings=caught)


# ------------------------------------------------ the token never leaks (a call)

CALL_FAILURES: dict[str, dict[str, Any]] = {
    "nan temperature": {"temperature": NAN},
    "bad model": {"model": "../../admin/x"},
    "nan in a body field": {"top_k": NAN},
    "unserialisable body field": {"top_k": object()},
}


@pytest.mark.parametrize("name", list(TOKENS))
@pytest.mark.parametrize("case", list(CALL_FAILURES))
def test_request_preparation_errors_never_show_the_token(
    mode: str, name: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    calls = recorder()
    model = make_model(calls, api_key=TOKENS[name])
    for run in (run_invoke, run_stream):
        exc, caught = capture(
            lambda _, run=run: run(model, mode, "hi", **CALL_FAILURES[case]), name
        )
        assert_no_leak(exc, TOKENS[name], records=caplog.records, warnings=caught)
    assert calls.requests == []


def test_nan_in_a_tool_call_sent_back_is_refused_before_sending() -> None:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    from langchain_gptoss._request import build_request_body

    history = [
        HumanMessage("go"),
        AIMessage(
            "",
            tool_calls=[{"name": "f", "args": {"x": float("nan")}, "id": "call_1"}],
        ),
        ToolMessage("done", tool_call_id="call_1", name="f"),
    ]
    with pytest.raises(ValueError, match=r"tool call 0 .* nan at args\.x"):
        build_request_body(
            history, {"model": "gpt_oss_120b"}, stream=False, stream_usage=False
        )


@pytest.mark.parametrize("deep", [False, True])
def test_model_copy_takes_a_new_token_as_a_str(mode: str, deep: bool) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    model = make_model(recorder).model_copy(
        update={"api_key": TOKENS["jwt"]}, deep=deep
    )
    assert isinstance(model.api_key, SecretStr)
    assert TOKENS["jwt"][:8] not in repr(model)
    run_invoke(model, mode, "hi")
    assert recorder.requests[-1].headers["authorization"] == f"Bearer {TOKENS['jwt']}"


def test_model_copy_refuses_a_token_of_the_wrong_type() -> None:
    with pytest.raises(ValueError, match="api_key must be a str or SecretStr"):
        make_model(Recorder()).model_copy(update={"api_key": b"bytes"})
