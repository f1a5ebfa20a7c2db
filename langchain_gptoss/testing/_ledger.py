"""State shared between the caller's thread and the server thread."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_gptoss.testing._types import Fault, RecordedRequest, Reply


class Ledger:
    """Thread-safe shared state: recorded requests, queued faults, connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._replies: deque[Reply] = deque()
        self.open_connections = 0
        self.total_connections = 0

    def record(self, request: RecordedRequest) -> None:
        """Remember one received request."""
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        """Return a copy of the recorded requests."""
        with self._lock:
            return list(self._requests)

    def inject(self, faults: tuple[Fault, ...]) -> None:
        """Queue faults in order."""
        with self._lock:
            self._faults.extend(faults)

    def pop_fault(self) -> Fault | None:
        """Take the oldest queued fault, if any."""
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def script(self, replies: tuple[Reply, ...]) -> None:
        """Queue scripted answers in order."""
        with self._lock:
            self._replies.extend(replies)

    def pop_reply(self) -> Reply | None:
        """Take the oldest scripted answer, if any."""
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def clear(self) -> None:
        """Forget requests, faults and scripted answers."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._replies.clear()

    def connection_changed(self, delta: int) -> None:
        """Count a connection opening (+1) or closing (-1)."""
        with self._lock:
            self.open_connections += delta
            self.total_connections += max(delta, 0)
