"""A chat page: the model's reasoning streams apart from its answer, turn by turn.

A small Starlette app. `GET /` serves `chat_app.html`; `POST /chat` takes
`{"message": "..."}` and answers with server-sent events, one per piece of the
model's `astream`:

    event: reasoning    data: "text"            (shown dimmed, collapsible)
    event: answer       data: "text"
    event: usage        data: {"input_tokens": ..., "output_tokens": ...}
    event: error        data: "what went wrong"
    event: done         data: null

Each `data` is JSON, so newlines and markup in the model's text can neither break
the SSE framing nor reach the page as HTML (the page sets `textContent`). The
history of each browser session (a cookie) is kept in memory, the answer as far as
the user saw it. When the browser goes away (Stop, a closed tab), Starlette
cancels the response, which closes the model's stream and its TIR connection.

Run from the repository root, after `pip install -e '.[cookbook]'`:

    python cookbook/chat_app.py [--port 8000]

then open the address it prints. It talks to TIR when E2E_TIR_ACCESS_TOKEN and
E2E_TIR_PROJECT_ID are set, otherwise to the bundled emulator (and says so on its
first line).
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
from collections import OrderedDict
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _connect import chat_model
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route

from langchain_gptoss import GptOssError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response

    from langchain_gptoss import ChatGptOss
    from langchain_gptoss.testing import TirEmulator

PAGE = (Path(__file__).parent / "chat_app.html").read_text(encoding="utf-8")
COOKIE = "chat_session"
MAX_SESSIONS = 1000  # the oldest history is dropped beyond this many browsers
MAX_MESSAGE = 8000  # characters in one question
SYSTEM = "You are a helpful assistant. Answer briefly."

log = logging.getLogger("chat_app")


def sse(event: str, data: Any) -> bytes:
    """One server-sent event whose data is `data` as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class Sessions:
    """Each browser's history, newest sessions kept, at most `limit` of them."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit = limit
        self._histories: OrderedDict[str, list[BaseMessage]] = OrderedDict()

    def history(self, session: str) -> list[BaseMessage]:
        history = self._histories.pop(session, [])
        self._histories[session] = history
        while len(self._histories) > self.limit:
            self._histories.popitem(last=False)
        return history


async def answer_events(
    model: ChatGptOss, history: list[BaseMessage], question: str
) -> AsyncIterator[bytes]:
    """Stream one turn as SSE, and add it to `history` as far as it got."""
    asked = [*history, HumanMessage(question)]
    answer: list[str] = []
    usage = None
    try:
        async with aclosing(model.astream(asked)) as stream:
            async for chunk in stream:
                reasoning = chunk.additional_kwargs.get("reasoning_content")
                if reasoning:
                    yield sse("reasoning", reasoning)
                if chunk.text:
                    answer.append(chunk.text)
                    yield sse("answer", chunk.text)
                usage = chunk.usage_metadata or usage
        yield sse("usage", usage)
    except GptOssError as exc:  # TIR said no, or the stream broke: tell the page
        yield sse("error", str(exc))
    finally:  # on cancellation too: the history holds what the user saw
        history += [HumanMessage(question), AIMessage("".join(answer))]
        log.info("turn ended after %d answer pieces", len(answer))
    yield sse("done", None)


def build_app(model: ChatGptOss) -> Starlette:
    """The page and its SSE endpoint, answering with `model`."""
    sessions = Sessions()

    async def page(request: Request) -> Response:
        response = HTMLResponse(PAGE)
        if COOKIE not in request.cookies:
            response.set_cookie(
                COOKIE, secrets.token_urlsafe(16), httponly=True, samesite="strict"
            )
        return response

    async def chat(request: Request) -> Response:
        session = request.cookies.get(COOKIE)
        if not session:
            return JSONResponse({"error": "no session: load the page first"}, 400)
        try:
            question = (await request.json())["message"]
        except (ValueError, KeyError, TypeError):
            question = None
        if not isinstance(question, str) or not question.strip():
            return JSONResponse({"error": 'send {"message": "your question"}'}, 400)
        if len(question) > MAX_MESSAGE:
            error = f"the question is {len(question)} characters; at most {MAX_MESSAGE}"
            return JSONResponse({"error": error}, 400)
        history = sessions.history(session)
        if not history:
            history.append(SystemMessage(SYSTEM))
        return StreamingResponse(
            answer_events(model, history, question),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return Starlette(routes=[Route("/", page), Route("/chat", chat, methods=["POST"])])


def human_pace(emulator: TirEmulator) -> None:
    """Emulator only: stream at about a real model's speed, so the page shows it."""
    emulator.step_seconds = 0.01


def main() -> None:
    import uvicorn  # noqa: PLC0415 - the server, only when run as a program

    parser = argparse.ArgumentParser(description="Serve the chat page on localhost.")
    parser.add_argument("--port", type=int, default=8000)
    port = parser.parse_args().port
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    with chat_model(on_emulator=human_pace, reasoning_effort="low") as model:
        print(f"Chat page: http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
        uvicorn.run(build_app(model), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
