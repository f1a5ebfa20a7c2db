"""A LangGraph agent with two tools, streamed step by step.

Shows `langchain.agents.create_agent` (a LangGraph graph) driving ChatGptOss with a
calculator and a small in-memory lookup. Every step is printed as it happens: the
model's reasoning (dimmed), each tool call with its arguments, each tool result,
then the final answer.

Run from the repository root, after `pip install -e '.[cookbook]'`:

    python cookbook/agent.py

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

import operator
import sys
from typing import Literal

from _connect import chat_model
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

DIM, RESET = ("\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "")

OPERATIONS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
}

CAPITALS = {
    "france": "Paris",
    "india": "New Delhi",
    "japan": "Tokyo",
    "kenya": "Nairobi",
    "peru": "Lima",
}


@tool
def calculator(
    a: float, b: float, operation: Literal["add", "subtract", "multiply", "divide"]
) -> str:
    """Do exact arithmetic on two numbers: add, subtract, multiply or divide."""
    if operation == "divide" and b == 0:
        return "error: division by zero"
    result = OPERATIONS[operation](a, b)
    return str(int(result)) if float(result).is_integer() else str(result)


@tool
def capital_lookup(country: str) -> str:
    """Look up the capital city of a country."""
    return CAPITALS.get(country.strip().lower(), f"unknown country: {country}")


QUESTION = (
    'Use the calculator to multiply 1234 by 5678, then use capital_lookup for "Japan". '
    "Answer with both results."
)


def show(message: object) -> None:
    """Print one new message of the agent's state."""
    if isinstance(message, AIMessage):
        reasoning = message.additional_kwargs.get("reasoning_content")
        if reasoning:
            print(f"{DIM}  thinking: {reasoning}{RESET}")
        for call in message.tool_calls:
            print(f"  -> calls {call['name']}({call['args']})")
        if message.content:
            print(f"  answer: {message.content}")
    elif isinstance(message, ToolMessage):
        print(f"  <- {message.name} returned {message.content}")


def main() -> None:
    with chat_model(reasoning_effort="low") as model:
        agent = create_agent(
            model,
            tools=[calculator, capital_lookup],
            system_prompt="Use the tools for arithmetic and facts; never guess.",
        )
        print(f"question: {QUESTION}")
        steps = agent.stream(
            {"messages": [{"role": "user", "content": QUESTION}]},
            stream_mode="updates",
        )
        for step in steps:
            for node, update in step.items():
                print(f"[{node}]")
                for message in update.get("messages", []):
                    show(message)


if __name__ == "__main__":
    main()
