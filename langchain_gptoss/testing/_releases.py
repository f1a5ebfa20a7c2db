"""The one table of what changes on the wire from one vLLM release to the next.

Each row is one behaviour: its name, its value from each release on (the first
step applies to every older release too), and where the fact comes from
(``protocol.md`` section, ``tests/vllm_golden`` file). ``profile(release)`` reads
the table into a frozen ``Profile`` with one attribute per row; every
release-dependent rule of the emulator reads its profile, never a version.

Boundaries between two golden releases (0.10.2, 0.11.0, 0.11.2, 0.13.0, 0.15.1,
0.16.0, 0.20.1, 0.26.0, 0.33.0) were placed by protocol.md from reading the
wheels in between; the citations say so where they are only read, not run.
Boundaries the client's own harmony rendering also needs (``_harmony``) are
read from there, so the two never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from langchain_gptoss import _harmony as harmony
from langchain_gptoss.testing._release import Release

if TYPE_CHECKING:
    from langchain_gptoss.testing._types import Era

Version = tuple[int, int, int]
Steps = tuple[tuple[Version, Any], ...]

ErrorStyle = Literal["plain", "param", "body_param", "typed"]
"""How validation errors name their parameter (protocol §2.e).

``plain``: ``param`` null; ``param``: model-validator errors fill ``param`` and add
`` (parameter=…)``; ``body_param``: field errors also fill ``param`` as
``body.<field>``; ``typed``: model-validator errors become ``BadRequestError``
without the pydantic wrapper.
"""

_OLDEST: Version = (0, 0, 0)
_NAMED_0_15 = ("stream_options", "top_logprobs", "response_format")

_PARTS_0_10 = (
    "ChatCompletionContentPartTextParam",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartInputAudioParam",
    "File",
    "ChatCompletionContentPartAudioParam",
    "ChatCompletionContentPartVideoParam",
    "ChatCompletionContentPartRefusalParam",
    "CustomChatCompletionContentPILImageParam",
    "CustomChatCompletionContentSimpleImageParam",
    "ChatCompletionContentPartImageEmbedsParam",
    "CustomChatCompletionContentSimpleAudioParam",
    "CustomChatCompletionContentSimpleVideoParam",
    "str",
    "CustomThinkCompletionContentParam",
)
"""The part types of vLLM's custom message content, in its union's order."""
_PARTS_0_13 = (
    *_PARTS_0_10[:10],
    "ChatCompletionContentPartAudioEmbedsParam",
    *_PARTS_0_10[10:],
)
_PARTS_0_26 = (
    *_PARTS_0_13[:11],
    "ChatCompletionContentPartPromptEmbedsParam",
    *_PARTS_0_13[11:13],
    "CustomChatCompletionContentToolReferenceParam",
    *_PARTS_0_13[13:],
)


@dataclass(frozen=True)
class Row:
    """One behaviour of the table.

    Attributes:
        name: The ``Profile`` attribute it becomes.
        steps: ``(first release, value)`` pairs in ascending order.
        source: Where the fact was verified or read.
    """

    name: str
    steps: Steps
    source: str

    def value(self, release: Version) -> Any:
        """The value this row has at ``release``."""
        found = self.steps[0][1]
        for since, value in self.steps:
            if release >= since:
                found = value
        return found


TABLE: tuple[Row, ...] = (
    Row(
        "reasoning_field",
        (
            (_OLDEST, "reasoning_content"),
            ((0, 11, 1), "both"),
            ((0, 16, 0), "reasoning"),
        ),
        "§0.4, §2.b; responses/0.11.0, 0.11.2, 0.15.1, 0.16.0 `plain`",
    ),
    Row(
        "input_reasoning_keys",
        (
            (_OLDEST, ()),
            (harmony.HISTORY_RULES, ("reasoning", "reasoning_content")),
            (harmony.REASONING_KEY_ONLY, ("reasoning",)),
            (harmony.REASONING_CONTENT_RENAMED, ("reasoning", "reasoning_content")),
        ),
        "§2.d; requests/X `tool_loop_reasoning_content_only` (0.22 read only)",
    ),
    Row(
        "tool_message_key",
        ((_OLDEST, "name"), (harmony.HISTORY_RULES, "tool_call_id")),
        "§2.d; requests/X `tool_loop_id_only`, `tool_loop_id_and_name`",
    ),
    Row(
        "system_as_instructions",
        ((_OLDEST, False), (harmony.INSTRUCTIONS, True)),
        "§2.d; requests/X `system_user`, `developer_user` (0.23.0 read only)",
    ),
    Row(
        "empty_tools_rejected",
        ((_OLDEST, False), ((0, 20, 0), True)),
        "§2.a `tools`; requests/0.16.0 vs 0.20.1 `tools_empty_list`",
    ),
    Row(
        "list_tool_content_rejected",
        ((_OLDEST, True), ((0, 11, 1), False)),
        "§2.d; requests/0.11.0 vs 0.11.2 `tool_loop_list_content`",
    ),
    Row(
        "reasoning_efforts",
        (
            (_OLDEST, ("low", "medium", "high")),
            ((0, 20, 0), ("none", "low", "medium", "high")),
            ((0, 26, 0), ("none", "minimal", "low", "medium", "high", "xhigh", "max")),
        ),
        "§2.a `reasoning_effort`; requests/X `reasoning_effort_minimal` "
        "(the schema's literal; harmony takes only low/medium/high)",
    ),
    Row(
        "logprobs_message_typo",
        ((_OLDEST, True), ((0, 11, 0), False)),
        "§2.a `logprobs` (`which is is greater`); requests/0.10.2 vs 0.11.0 "
        "`top_logprobs_over_limit`",
    ),
    Row(
        "assistant_null_content_rejected",
        ((_OLDEST, True), ((0, 13, 0), False)),
        "§2.d; requests/0.11.2 vs 0.13.0 `assistant_content_null_no_tool_calls`",
    ),
    Row(
        "json_schema_missing_validated",
        ((_OLDEST, False), ((0, 20, 0), True)),
        "§2.a `response_format`; requests/0.16.0 vs 0.20.1 "
        "`response_format_json_schema_missing` (before: an AssertionError)",
    ),
    Row(
        "tool_calls_checked_at_render",
        ((_OLDEST, True), ((0, 20, 0), False)),
        "§2.d (object `arguments`: BadRequestError ≤ 0.16, request validation "
        "from 0.20); requests/0.16.0 vs 0.20.1 `tool_call_arguments_object`",
    ),
    Row(
        "tool_description_required",
        ((_OLDEST, True), ((0, 24, 0), False)),
        "§2.a `tools`; requests/0.20.1 vs 0.26.0 `tool_without_description`",
    ),
    Row(
        "id_hex_digits",
        ((_OLDEST, 32), ((0, 12, 0), 16)),
        "§0.6, §2.b; responses/0.11.2 vs 0.13.0 `tool_call` (0.12.0 read)",
    ),
    Row(
        "empty_stream_options_usage",
        ((_OLDEST, True), ((0, 18, 0), False)),
        "§0.8, §2.a; requests/0.16.0 vs 0.20.1 `stream_options_empty` (0.18.1 read)",
    ),
    Row(
        "tool_args_in_content",
        ((_OLDEST, True), ((0, 11, 0), False)),
        "§2.b (bug #25560); responses/0.10.2 vs 0.11.0 `tool_call`",
    ),
    Row(
        "arguments_redumped",
        ((_OLDEST, False), ((0, 11, 0), True)),
        "§2.b (`json.dumps(json.loads())` from 0.11.0); responses/0.10.2 vs 0.11.0 "
        "`tool_call`",
    ),
    Row(
        "preamble_into_reasoning",
        ((_OLDEST, True), ((0, 13, 0), False)),
        "§2.b (old parse_chat_output joins all but the last message into "
        "reasoning); responses/0.11.2 vs 0.13.0 `preamble_then_tool_call`",
    ),
    Row(
        "unparsed_call_in_content",
        ((_OLDEST, True), ((0, 17, 0), False)),
        "§2.b (without --tool-call-parser); responses/0.16.0 vs 0.20.1 "
        "`server_without_tool_parser` (0.17.1 read)",
    ),
    Row(
        "exceptions_as_200",
        ((_OLDEST, False), ((0, 15, 0), True), ((0, 17, 0), False)),
        "§0.9, §2.e; errors/0.15.1, 0.16.0 `harmony_parse_error` (0.17 not run)",
    ),
    Row(
        "prompt_text_key",
        ((_OLDEST, False), ((0, 21, 0), True)),
        "§1.4, §2.b; responses/0.20.1 vs 0.26.0 `plain` (0.21.0 read)",
    ),
    Row(
        "fingerprint",
        ((_OLDEST, False), ((0, 21, 0), True)),
        "§2.0 row 0.21.0; responses/0.26.0 `plain` (`vllm-X-<hash>`)",
    ),
    Row(
        "error_style",
        (
            (_OLDEST, "plain"),
            ((0, 15, 0), "param"),
            ((0, 26, 0), "body_param"),
            ((0, 33, 0), "typed"),
        ),
        "§2.e; requests/X `stream_options_without_stream`, `temperature_not_a_number`",
    ),
    Row(
        "named_validators",
        (
            (_OLDEST, ()),
            ((0, 15, 0), _NAMED_0_15),
            (
                (0, 26, 0),
                ("stream_options", "top_logprobs", "response_format", "tool_choice"),
            ),
            (
                (0, 33, 0),
                (
                    "stream_options",
                    "top_logprobs",
                    "response_format",
                    "tool_choice",
                    "tools",
                ),
            ),
        ),
        "§2.e; requests/X `stream_options_without_stream`, "
        "`top_logprobs_without_logprobs`, `tool_choice_without_tools`, "
        "`tools_empty_list` (which model validators fill `param`)",
    ),
    Row(
        "fastapi_location_tail",
        ((_OLDEST, True), ((0, 26, 0), False)),
        "§2.e; requests/X `missing_messages` (fastapi<0.137 pinned from 0.26)",
    ),
    Row(
        "custom_content_parts",
        ((_OLDEST, _PARTS_0_10), ((0, 13, 0), _PARTS_0_13), ((0, 26, 0), _PARTS_0_26)),
        "§2.e; requests/0.11.2 vs 0.13.0, 0.20.1 vs 0.26.0 `user_content_null` "
        "(the `list[union[…]]` tag; 0.12 and 0.21-0.25 not run)",
    ),
    Row(
        "union_tags_elided",
        ((_OLDEST, False), ((0, 26, 0), True)),
        "§2.e; requests/0.20.1 vs 0.26.0 `user_content_null` (the OpenAI SDK's "
        "part types print as `...` in union tags; 0.21-0.25 not run)",
    ),
    Row(
        "validation_errors_listed",
        ((_OLDEST, None), ((0, 33, 0), 10)),
        "§2.e; requests/0.33.0 `user_content_null` (10 of 19 listed, then "
        "`...and 9 more errors`; 0.27-0.32 not run)",
    ),
    Row(
        "harmony_error_cause",
        ((_OLDEST, True), ((0, 14, 0), False)),
        "§2.e (` None` appended ≤ 0.13); requests/X `custom_role`",
    ),
    Row(
        "type_names_spaced",
        ((_OLDEST, True), ((0, 14, 0), False)),
        "§2.e (`Internal Server Error` ≤ 0.13, `InternalServerError` later)",
    ),
    Row(
        "overflow_message",
        ((_OLDEST, "max_tokens"), ((0, 18, 0), "input_length")),
        "§2.e; errors/X `prompt_exceeds_context` (0.18.1 read)",
    ),
    Row(
        "response_extra_keys",
        ((_OLDEST, ()), ((0, 26, 0), ("ec_transfer_params", "metrics"))),
        "§1.4 (later releases); responses/0.20.1 vs 0.26.0 `plain` (first run)",
    ),
    Row(
        "choice_extra_keys",
        (
            (_OLDEST, ()),
            ((0, 26, 0), ("routed_experts",)),
            ((0, 33, 0), ("routed_experts", "weight_versions")),
        ),
        "§2.b; requests/0.26.0, 0.33.0 `plain` (first runs with them)",
    ),
    Row(
        "empty_tool_calls_dropped",
        ((_OLDEST, False), ((0, 26, 0), True)),
        "§2.b (0.26+ drop an empty `tool_calls`); requests/0.26.0 `plain`",
    ),
    Row(
        "reasoning_tokens_reported",
        ((_OLDEST, False), ((0, 28, 0), True)),
        "§2.c (iii); requests/0.33.0 `plain` (0.28.0 read)",
    ),
    Row(
        "named_choice_finishes_stop",
        ((_OLDEST, False), ((0, 26, 0), True)),
        "§2.b `finish_reason`; requests/0.20.1 vs 0.26.0 `tool_choice_named`",
    ),
    Row(
        "empty_reasoning_delta",
        ((_OLDEST, True), ((0, 14, 0), False)),
        "§2.c (empty deltas); responses/0.13.0 vs 0.15.1 `plain` stream (0.14 not run)",
    ),
    Row(
        "empty_content_delta",
        ((_OLDEST, True), ((0, 21, 0), False)),
        "§2.c (empty deltas); responses/0.20.1 vs 0.26.0 `plain` stream (0.21 not run)",
    ),
    Row(
        "stream_chunk_extra_keys",
        ((_OLDEST, ()), ((0, 33, 0), ("kv_transfer_params",))),
        "§2.c (exclude_unset keys); responses/0.33.0 `plain` stream",
    ),
    Row(
        "stream_finish_extra_keys",
        ((_OLDEST, ()), ((0, 33, 0), ("weight_versions",))),
        "§2.c (exclude_unset keys); responses/0.33.0 `plain` stream",
    ),
    Row(
        "force_usage_honoured",
        ((_OLDEST, False), ((0, 11, 1), True)),
        "§2.c; responses/0.11.0 vs 0.11.2 `server_force_include_usage` "
        "(--enable-force-include-usage has no effect on the stream before)",
    ),
    Row(
        "forced_usage_continuous",
        ((_OLDEST, False), ((0, 17, 0), True)),
        "§2.c; responses/0.16.0 vs 0.20.1 `server_force_include_usage` "
        "(usage on every chunk; 0.17 not run)",
    ),
    Row(
        "stream_unparsed_call",
        ((_OLDEST, "parsed"), ((0, 21, 0), "dropped")),
        "§2.c (without --tool-call-parser the stream still parses the call up "
        "to 0.20; later it drops it, `stop` + stop_reason 200012); "
        "responses/0.20.1 vs 0.26.0 `server_without_tool_parser` (0.21 not run)",
    ),
    Row(
        "stream_preamble_dropped",
        ((_OLDEST, True), ((0, 13, 0), False)),
        "§2.c; responses/0.11.2 vs 0.13.0 `preamble_then_tool_call` stream "
        "(the preamble before a call is not streamed)",
    ),
    Row(
        "tool_stream_quirks",
        ((_OLDEST, False),),
        "§2.c (ii) (same-index pair with `type` repeated, reasoning in the "
        "opener's delta, index bump: observed live, reproduced by no release "
        "run in tool_streams/X.json at 1 token per step)",
    ),
    Row(
        "stream_steps",
        ((_OLDEST, "last"), ((0, 11, 1), "joined"), ((0, 15, 0), "grouped")),
        "§2.c (ii) several tokens per step; tool_streams/0.11.0 vs 0.11.2 vs "
        "0.15.1 (0.14 read: grouped per token, still losing text; played joined)",
    ),
    Row(
        "tool_index_bumped",
        ((_OLDEST, False), ((0, 15, 0), True), ((0, 26, 0), False)),
        "§2.c (ii) index-bump bug (`base_index` counts the call the step "
        "completes); tool_streams/0.20.1 vs 0.26.0 K=2/3 (0.21-0.25 not run)",
    ),
    Row(
        "finish_args_index_error",
        ((_OLDEST, False), ((0, 15, 0), True), ((0, 17, 0), False)),
        "§2.c (ii), issue #36849; tool_streams/0.15.1, 0.16.0 vs 0.20.1 K=3 "
        "(0.17-0.19 not run)",
    ),
    Row(
        "opener_carries_arguments",
        ((_OLDEST, False), ((0, 26, 0), True)),
        "§2.c (ii); tool_streams/0.20.1 vs 0.26.0 K=2/3 (the opener's "
        "`arguments` holds the step's first fragment; 0.21-0.25 not run)",
    ),
    Row(
        "hidden_reasoning_null",
        ((_OLDEST, False), ((0, 26, 0), True)),
        "§2.c; responses/0.20.1 vs 0.26.0 `include_reasoning_false` stream "
        "(`reasoning: null` set on each delta; 0.21-0.25 not run)",
    ),
    Row(
        "cut_answer_dropped",
        ((_OLDEST, False), ((0, 11, 0), True), ((0, 15, 0), False)),
        "§2.b; responses/0.10.2, 0.11.0-0.13.0, 0.15.1 `length_cut_in_answer` "
        "(an unfinished last message is not returned; 0.14 not run)",
    ),
    Row(
        "silent_steps_with_logprobs",
        ((_OLDEST, False), ((0, 33, 0), True)),
        "§2.c; responses/0.26.0 vs 0.33.0 `logprobs_top2` stream (a step with "
        "no delta still sends `delta: {}` with its log-probabilities; 0.27-0.32 "
        "not run)",
    ),
    Row(
        "max_tokens_over_window_rejected",
        ((_OLDEST, False), ((0, 16, 0), True), ((0, 16, 1), False)),
        "§2.e; requests/0.16.0 `max_tokens_beyond_context`",
    ),
)


@dataclass(frozen=True)
class Profile:
    """What one vLLM release does, one attribute per row of ``TABLE``."""

    release: Release
    reasoning_field: Era
    input_reasoning_keys: tuple[str, ...]
    tool_message_key: Literal["name", "tool_call_id"]
    system_as_instructions: bool
    empty_tools_rejected: bool
    list_tool_content_rejected: bool
    reasoning_efforts: tuple[str, ...]
    logprobs_message_typo: bool
    assistant_null_content_rejected: bool
    json_schema_missing_validated: bool
    tool_calls_checked_at_render: bool
    tool_description_required: bool
    id_hex_digits: int
    empty_stream_options_usage: bool
    tool_args_in_content: bool
    arguments_redumped: bool
    preamble_into_reasoning: bool
    unparsed_call_in_content: bool
    exceptions_as_200: bool
    prompt_text_key: bool
    fingerprint: bool
    error_style: ErrorStyle
    named_validators: tuple[str, ...]
    fastapi_location_tail: bool
    custom_content_parts: tuple[str, ...]
    union_tags_elided: bool
    validation_errors_listed: int | None
    harmony_error_cause: bool
    type_names_spaced: bool
    overflow_message: Literal["max_tokens", "input_length"]
    response_extra_keys: tuple[str, ...]
    choice_extra_keys: tuple[str, ...]
    empty_tool_calls_dropped: bool
    reasoning_tokens_reported: bool
    named_choice_finishes_stop: bool
    empty_reasoning_delta: bool
    empty_content_delta: bool
    stream_chunk_extra_keys: tuple[str, ...]
    stream_finish_extra_keys: tuple[str, ...]
    force_usage_honoured: bool
    forced_usage_continuous: bool
    stream_unparsed_call: Literal["parsed", "dropped"]
    stream_preamble_dropped: bool
    tool_stream_quirks: bool
    stream_steps: Literal["last", "joined", "grouped"]
    tool_index_bumped: bool
    finish_args_index_error: bool
    opener_carries_arguments: bool
    hidden_reasoning_null: bool
    cut_answer_dropped: bool
    silent_steps_with_logprobs: bool
    max_tokens_over_window_rejected: bool

    def since(self, major: int, minor: int, patch: int = 0) -> bool:
        """Return whether the release is ``major.minor.patch`` or later."""
        return self.release.since(major, minor, patch)

    @property
    def system_fingerprint(self) -> str | None:
        """``vllm-<release>-<hash8>`` from 0.21.0 (the hash is the config's)."""
        if not self.fingerprint:
            return None
        digest = hashlib.sha256(str(self.release).encode()).hexdigest()[:8]
        return f"vllm-{self.release}-{digest}"


DEFAULT_RELEASE = "0.13.0"
"""The release played when none is named (see ``TirEmulator``)."""


def profile(release: Release | str) -> Profile:
    """Read the table at ``release`` (a ``Release`` or ``"0.20.1"``).

    Raises:
        ValueError: When ``release`` is not a final vLLM release number.
    """
    parsed = release if isinstance(release, Release) else Release.parse(release)
    values = {row.name: row.value(parsed.parts) for row in TABLE}
    return Profile(release=parsed, **values)


def _check_table() -> None:
    names = [row.name for row in TABLE]
    attributes = [item.name for item in fields(Profile) if item.name != "release"]
    if names != attributes:  # pragma: no cover - a broken table fails on import
        msg = f"TABLE rows {names} do not match Profile {attributes}"
        raise AssertionError(msg)


_check_table()
