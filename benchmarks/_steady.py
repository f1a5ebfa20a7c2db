"""Warm, one call at a time: a long stream and small sequential invokes."""

from __future__ import annotations

import _clients as clients
import httpx
from _api import LONG, SHORT
from _harness import Report, Spec, consume, medians, ms

STREAM_LIMIT = Spec("stream: ChatGptOss / (raw httpx + no-I/O floor)", "<=", 1.15)
STREAM_OPENAI = Spec("stream: ChatOpenAI / ChatGptOss (speed-up)", ">=", 5)


def bench_streaming(url: str, report: Report, repeats: int) -> None:
    model, openai = clients.gptoss(url), clients.chat_openai(url)
    floor = clients.floor_for(url, LONG)
    with httpx.Client() as raw:
        events = clients.raw_stream(raw, url, LONG)
        t_raw, t_floor, t_ours, t_openai = medians(
            repeats,
            lambda: clients.raw_stream(raw, url, LONG),
            lambda: consume(floor.stream(LONG)),
            lambda: consume(model.stream(LONG)),
            lambda: consume(openai.stream(LONG)),
        )
    limit = t_raw + t_floor
    report.note(
        f"streaming {events} events: ours {ms(t_ours)}, raw {ms(t_raw)}, "
        f"floor {ms(t_floor)}, ChatOpenAI {ms(t_openai)}"
    )
    report.line(STREAM_LIMIT, t_ours / limit)
    report.line(
        STREAM_OPENAI,
        t_openai / t_ours,
        f"a client at the limit would reach {t_openai / limit:.2f}",
    )


def small_invoke_spec(calls: int) -> Spec:
    return Spec(f"{calls} sequential invokes: ChatGptOss / (raw + no-I/O)", "<=", 1.1)


def bench_small_invoke(url: str, report: Report, calls: int, repeats: int) -> None:
    model = clients.gptoss(url)
    floor = clients.floor_for(url, SHORT)
    with httpx.Client() as raw:

        def at_the_limit() -> None:
            # Raw httpx, then LangChain's own invoke: together, as a model's call
            # runs them, so each pays for the caches the other one cooled.
            clients.raw_invoke(raw, url, SHORT)
            floor.invoke(SHORT)

        t_raw, t_ours, t_limit = medians(
            repeats,
            lambda: [clients.raw_invoke(raw, url, SHORT) for _ in range(calls)],
            lambda: [model.invoke(SHORT) for _ in range(calls)],
            lambda: [at_the_limit() for _ in range(calls)],
        )
    per_call = 1e3 / calls
    report.line(
        small_invoke_spec(calls),
        t_ours / t_limit,
        f"{t_ours * per_call:.2f} ms a call vs {t_limit * per_call:.2f} "
        f"(raw httpx alone {t_raw * per_call:.2f}, {t_ours / t_raw:.2f}x)",
    )
