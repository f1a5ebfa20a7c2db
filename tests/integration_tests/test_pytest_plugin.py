"""The `tir_emulator` fixture, as a user's own test suite gets it.

Each test writes a user's test file into a fresh directory and runs pytest on it
in a subprocess, so the fixture arrives through the installed `pytest11` entry
point and nothing of this suite's conftest files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

USER_TEST = """
from pathlib import Path

import pytest
from langchain_gptoss.testing import Fault, Reply


@pytest.mark.tir_emulator(vllm="0.20.1", replies=["Paris.", Reply("Hm.", "Rome.")])
def test_scripted_answers_in_order(tir_emulator):
    model = tir_emulator.chat_model(max_retries=0)
    assert model.invoke("Capital of France?").content == "Paris."
    second = model.invoke("Capital of Italy?")
    assert second.content == "Rome."
    assert second.additional_kwargs["reasoning_content"] == "Hm."
    assert tir_emulator.vllm == "0.20.1"


@pytest.mark.tir_emulator(faults=[Fault(status=503)])
def test_faults_are_injected(tir_emulator):
    model = tir_emulator.chat_model(max_retries=1)
    assert model.invoke("Hi").content
    assert len(tir_emulator.requests) == 2  # the 503, then the retry


def test_release_from_the_command_line(tir_emulator, pytestconfig):
    assert tir_emulator.vllm == (pytestconfig.getoption("tir_vllm") or "0.13.0")


async def test_async_client(tir_emulator):
    tir_emulator.script("Async answer.")
    chunks = [c async for c in tir_emulator.chat_model().astream("Hi")]
    assert "".join(c.text for c in chunks) == "Async answer."
"""


def test_the_fixture_comes_with_the_package(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("--asyncio-mode=auto")
    result.assert_outcomes(passed=4)


def test_tir_vllm_sets_every_fixtures_release(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
def test_release(tir_emulator):
    assert tir_emulator.vllm == "0.11.0"
"""
    )
    result = pytester.runpytest_subprocess("--tir-vllm", "0.11.0")
    result.assert_outcomes(passed=1)


def test_the_marker_is_declared_for_strict_suites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
from pathlib import Path

import pytest

@pytest.mark.tir_emulator(tokens_per_chunk=2)
def test_strict(tir_emulator):
    assert tir_emulator.tokens_per_chunk == 2
"""
    )
    result = pytester.runpytest_subprocess("--strict-markers")
    result.assert_outcomes(passed=1)


def test_a_wrong_setting_says_which_test_and_what(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
from pathlib import Path

import pytest

@pytest.mark.tir_emulator(tokens_per_step=2)
def test_typo(tir_emulator):
    pass

@pytest.mark.tir_emulator("0.20.1")
def test_positional(tir_emulator):
    pass
"""
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_user.py::test_typo: bad tir_emulator settings*tokens_per_step*",
            "*test_user.py::test_positional: the tir_emulator marker takes keywords*",
        ]
    )


def readme_example() -> str:
    """The complete example test in the README's emulator section."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In your own tests", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme=readme_example())
    result = pytester.runpytest_subprocess("--strict-markers")
    result.assert_outcomes(passed=1)
