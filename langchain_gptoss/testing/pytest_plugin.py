"""The ``tir_emulator`` pytest fixture, for testing apps built on ``ChatGptOss``.

Installing ``langchain-gptoss`` registers this module with pytest (a ``pytest11``
entry point), so any test can ask for ``tir_emulator``: a fresh, running
`TirEmulator` on loopback, stopped after the test. Set it up per test with the
``tir_emulator`` marker (any ``TirEmulator`` keyword, plus ``faults`` to inject
and ``replies`` to script), or for a whole run with ``--tir-vllm RELEASE``::

    import pytest
    from langchain_gptoss.testing import Fault


    @pytest.mark.tir_emulator(vllm="0.20.1", replies=["Paris."])
    def test_capital(tir_emulator):
        model = tir_emulator.chat_model(max_retries=0)
        assert model.invoke("Capital of France?").content == "Paris."
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from langchain_gptoss.testing._emulator import TirEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_gptoss.testing._types import Fault, Reply

MARKER = "tir_emulator"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--tir-vllm``: the vLLM release every ``tir_emulator`` plays."""
    group = parser.getgroup("tir-emulator", "langchain-gptoss TIR emulator")
    group.addoption(
        "--tir-vllm",
        metavar="RELEASE",
        default=None,
        help="vLLM release the tir_emulator fixture plays, e.g. 0.20.1 (default: "
        "the emulator's; a test's tir_emulator marker overrides it)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker, so ``--strict-markers`` suites accept it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): set up the tir_emulator fixture: any TirEmulator "
        "keyword (vllm=, reasoning_field=, tokens_per_chunk=, responder=, ...), "
        "faults=[Fault(...)] to inject and replies=[Reply(...) or str] to script",
    )


@pytest.fixture
def tir_emulator(request: pytest.FixtureRequest) -> Iterator[TirEmulator]:
    """A running TIR emulator for this test; ``.chat_model()`` gives a client."""
    settings, faults, replies = _settings(request)
    try:
        emulator = TirEmulator(**settings)
    except (TypeError, ValueError) as exc:
        where = request.node.nodeid
        msg = f"{where}: bad {MARKER} settings {settings!r}: {exc}"
        pytest.fail(msg, pytrace=False)
    with emulator:
        emulator.inject(*faults)
        emulator.script(*replies)
        yield emulator


def _settings(
    request: pytest.FixtureRequest,
) -> tuple[dict[str, Any], list[Fault], list[Reply | str]]:
    """The option's release, then the closest marker's keywords over it."""
    settings: dict[str, Any] = {}
    release = request.config.getoption("tir_vllm")
    if release:
        settings["vllm"] = release
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            msg = (
                f"{request.node.nodeid}: the {MARKER} marker takes keywords only, "
                f"e.g. @pytest.mark.{MARKER}(vllm='0.20.1'); got {marker.args!r}"
            )
            pytest.fail(msg, pytrace=False)
        settings |= marker.kwargs
    faults = list(settings.pop("faults", ()))
    replies = list(settings.pop("replies", ()))
    return settings, faults, replies
