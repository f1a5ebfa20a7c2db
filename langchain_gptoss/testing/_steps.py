"""What vLLM streams for each engine step, release by release (protocol §2.c).

The engine hands serving one step of K tokens at a time (K > 1 under load,
async scheduling or speculative decoding). Serving feeds them to harmony's
parser and turns the parser's state into one delta, or none, per step; the
step that finishes the request rides on the finish chunk. How it does that
changed three times, and each way loses or mangles something when K > 1
(vllm-golden `tool_streams/X.json`, tokens per step 1/2/3):

``last`` (up to 0.11.0)
    Only the step's last token's text is sent, classified by the channel at
    the step's end.
``joined`` (0.11.1 to 0.14)
    The step's text is joined, but classified by the channel at its end: a
    step that opens a call or holds ``<|end|>``/``<|call|>``/``<|return|>``
    loses its text.
``grouped`` (from 0.15)
    Tokens are grouped by channel and recipient within the step
    (``stream_harmony.extract_harmony_streaming_delta``); nothing is lost, but
    the index of an argument fragment sharing the step with ``<|call|>`` counts
    that call as done (``tool_index_bumped``, up to 0.25), and 0.15/0.16 end
    such a stream with an ``IndexError`` event (``finish_args_index_error``).

This module is pure: tokens and a release profile in, ``Step``s out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_gptoss.testing._harmony_tokens import Token
    from langchain_gptoss.testing._releases import Profile

_FUNCTIONS = "functions."


@dataclass(frozen=True)
class Entry:
    """One ``delta.tool_calls`` entry; the renderer adds the opener's id."""

    index: int
    call: int
    """The tool call (0, 1, …) it belongs to, whatever ``index`` says."""
    name: str | None
    """The function name on an opener, else None."""
    arguments: str
    typed: bool = False
    """Whether a fragment repeats ``type`` (the live quirk, §2.c ii)."""


@dataclass(frozen=True)
class Step:
    """What serving makes of one engine step.

    Attributes:
        tokens: The step's tokens (log-probabilities, usage).
        delta: Whether a delta is sent for it (a finishing step always is).
        content: ``delta.content`` (None: absent).
        reasoning: The reasoning text (None: absent).
        calls: ``delta.tool_calls`` entries.
        hidden_reasoning: ``reasoning: null`` is set explicitly (0.26+ with
            ``include_reasoning: false``).
        error: The stream ends here with vLLM's in-stream ``IndexError`` event.
        stop_reason: A ``stop_reason`` the chunk carries (the live quirk's bump).
    """

    tokens: tuple[Token, ...]
    delta: bool = False
    content: str | None = None
    reasoning: str | None = None
    calls: tuple[Entry, ...] = ()
    hidden_reasoning: bool = False
    error: bool = False
    stop_reason: int | None = None


@dataclass(frozen=True)
class Play:
    """How one stream is played: the release and the request's switches."""

    release: Profile
    show_reasoning: bool = True
    calls_streamed: bool = True
    """False when the server drops unparsed calls from the stream (0.21+)."""


class _Calls:
    """Which messages are tool calls, and how many of them are complete."""

    def __init__(self) -> None:
        self.numbers: dict[int, int] = {}
        self.done = 0

    def see(self, token: Token) -> None:
        if token.recipient and token.message not in self.numbers:
            self.numbers[token.message] = len(self.numbers)
        if token.special and token.channel is None and token.message in self.numbers:
            self.done = max(self.done, self.numbers[token.message] + 1)


def _is_call(channel: str | None, recipient: str | None) -> bool:
    return channel in {"commentary", "analysis"} and bool(
        recipient and recipient.startswith(_FUNCTIONS)
    )


def _whole(
    tokens: tuple[Token, ...], previous: str | None, calls: _Calls, play: Play
) -> Step:
    """``last`` and ``joined``: one text, the channel at the step's end."""
    release = play.release
    end = tokens[-1]
    for token in tokens:
        calls.see(token)
    if release.stream_steps == "last":
        text = end.delta or ""
    else:
        text = "".join(token.delta or "" for token in tokens)
    channel, recipient = end.channel, end.recipient
    if channel == "final":
        if text or release.empty_content_delta:
            return Step(tokens, delta=True, content=text)
    elif _is_call(channel, recipient):
        if not play.calls_streamed or recipient is None:
            return Step(tokens)
        call = calls.numbers[end.message]
        if previous != recipient:
            name = recipient.removeprefix(_FUNCTIONS)
            return Step(tokens, delta=True, calls=(Entry(calls.done, call, name, ""),))
        if text:
            return Step(
                tokens, delta=True, calls=(Entry(calls.done, call, None, text),)
            )
    elif channel == "analysis":
        if play.show_reasoning and (text or release.empty_reasoning_delta):
            return Step(tokens, delta=True, reasoning=text)
    elif channel == "commentary" and not release.stream_preamble_dropped:
        return Step(tokens, delta=True, content=text)
    return Step(tokens)


def _groups(tokens: tuple[Token, ...]) -> list[tuple[Token, str]]:
    """Runs of tokens with the same channel and recipient: (last token, text)."""
    found: list[tuple[Token, str]] = []
    for token in tokens:
        text = token.delta or ""
        if found and (found[-1][0].channel, found[-1][0].recipient) == (
            token.channel,
            token.recipient,
        ):
            found[-1] = (token, found[-1][1] + text)
        else:
            found.append((token, text))
    return found


def _grouped(
    tokens: tuple[Token, ...], previous: str | None, calls: _Calls, play: Play
) -> Step:
    """``grouped``: per-channel runs within the step (0.15+)."""
    release = play.release
    before = calls.done
    for token in tokens:
        calls.see(token)
    # Calls complete so far; up to 0.25 counted after the step, so a fragment
    # sharing the step with `<|call|>` is numbered one too high.
    base = calls.done if release.tool_index_bumped else before
    ongoing = base if previous and previous.startswith(_FUNCTIONS) else None
    following = base + (ongoing is not None)
    content, reasoning, entries = "", "", []
    shown = False
    for last, text in _groups(tokens):
        channel, recipient = last.channel, last.recipient
        if channel == "final" or (channel == "commentary" and recipient is None):
            content += text
            shown = shown or bool(text) or release.empty_content_delta
        elif _is_call(channel, recipient) and recipient is not None:
            if not play.calls_streamed:
                continue
            call = calls.numbers[last.message]
            opened = previous != recipient
            if opened:
                previous, following = recipient, following + 1
                name = recipient.removeprefix(_FUNCTIONS)
                if release.opener_carries_arguments:
                    entries.append(Entry(following - 1, call, name, text))
                    continue
                entries.append(Entry(following - 1, call, name, ""))
            if text:
                index = (
                    following - 1 if opened else base if ongoing is None else ongoing
                )
                entries.append(Entry(index, call, None, text))
        elif channel == "analysis" and play.show_reasoning:
            reasoning += text
    if not (shown or reasoning or entries):
        return Step(tokens)
    return Step(
        tokens,
        delta=True,
        content=content if shown else None,
        reasoning=reasoning or None,
        calls=tuple(entries),
    )


def steps(tokens: tuple[Token, ...], size: int, play: Play) -> list[Step]:
    """The steps of one choice's stream at ``size`` tokens per engine step.

    The last step is the one that finishes the request: it is always sent (on
    the finish chunk), unless 0.15/0.16 turn it into the ``IndexError`` event.
    """
    size = max(1, size)
    release = play.release
    extract = _grouped if release.stream_steps == "grouped" else _whole
    calls = _Calls()
    found: list[Step] = []
    previous: str | None = None
    for start in range(0, len(tokens), size):
        chunk = tokens[start : start + size]
        found.append(extract(chunk, previous, calls, play))
        previous = chunk[-1].recipient
    if not found:
        found.append(Step(()))
    last = found[-1]
    if release.finish_args_index_error and last.calls:
        # serving's check for unstreamed arguments indexes the tool parser's
        # empty `prev_tool_call_arr` (issue #36849).
        found[-1] = replace(last, error=True)
    else:
        found[-1] = replace(last, delta=True)
    if not play.show_reasoning and release.hidden_reasoning_null:
        found = [replace(step, hidden_reasoning=True) for step in found[:-1]] + [
            found[-1]
        ]
    return found


def _reasoning_only(step: Step) -> bool:
    return (
        step.delta
        and step.reasoning is not None
        and not step.calls
        and (step.content is None)
    )


def _fragments_of(step: Step, call: int) -> bool:
    return bool(step.calls) and all(
        entry.name is None and entry.call == call for entry in step.calls
    )


def quirky(found: list[Step], stop_reason: int) -> list[Step]:
    """Lay out tool-call steps with the three quirks observed live (§2.c ii).

    The last reasoning delta shares the call opener's delta, the first argument
    fragment joins the opener's list (repeating ``type``), and the last fragment
    of the last call is bumped to the next index, in a chunk of its own that
    also carries ``stop_reason``. No release run reproduces them; they stand for
    a deployment (or a proxy) that does.
    """
    openers = [i for i, step in enumerate(found) if any(e.name for e in step.calls)]
    if not openers:
        return found
    last_call = max(entry.call for step in found for entry in step.calls)
    fragments = [i for i, step in enumerate(found) if _fragments_of(step, last_call)]
    bumped = fragments[-1] if fragments and fragments[-1] not in openers else -1
    out: list[Step] = []
    skip = False
    for i, current in enumerate(found):
        if skip:
            skip = False
            continue
        if i == bumped:
            calls = tuple(
                replace(e, index=e.index + 1, typed=True) for e in current.calls
            )
            out.append(replace(current, calls=calls, stop_reason=stop_reason))
            continue
        if i not in openers:
            out.append(current)
            continue
        step = current
        sent = [j for j, earlier in enumerate(out) if earlier.delta]
        if sent and _reasoning_only(out[sent[-1]]):
            # Steps that send nothing (the call's header) stay where they are.
            previous = out.pop(sent[-1])
            step = replace(
                step,
                tokens=previous.tokens + step.tokens,
                reasoning=(previous.reasoning or "") + (step.reasoning or ""),
            )
        following = found[i + 1] if i + 1 < len(found) else None
        call = next(e.call for e in step.calls if e.name)
        if (
            following
            and i + 1 not in {bumped, len(found) - 1}
            and _fragments_of(following, call)
        ):
            extra = tuple(replace(e, typed=True) for e in following.calls)
            step = replace(
                step,
                tokens=step.tokens + following.tokens,
                calls=step.calls + extra,
                delta=step.delta or following.delta,
            )
            skip = True
        out.append(step)
    return out
