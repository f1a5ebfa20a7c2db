"""Fixtures: the call mode, and hostile servers stopped at teardown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.hostile.server import HostileServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """`invoke`/`stream` or `await ainvoke`/`astream`."""
    return str(request.param)


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    """Start hostile servers for this test: `serve(script, tls=None)`.

    Every server started here is stopped at teardown, which also ends any call a
    watchdog gave up on (its connections are shut down), and the test fails if a
    handler broke (a bug in the test's script, not in the client).
    """
    started: list[HostileServer] = []

    def start(script: Any, **options: Any) -> HostileServer:
        server = HostileServer(script, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    errors = [e for server in started for e in server.errors]
    if errors:
        pytest.fail("a server handler failed:\n" + errors[0])
