"""Keep a long conversation inside a token budget, counted the way vLLM counts.

Shows `model.get_num_tokens_from_messages` (gpt-oss's real tokenizer and harmony
framing: the same number vLLM reports as `prompt_tokens`), `trim_messages` with
that count inside a `create_agent` agent (a `@before_model` middleware), and
`context_check=True` refusing a request before it is sent.

Run from the repository root, after `pip install -e '.[cookbook]'` (which brings
openai-harmony and the offline vocabulary; without them counts are approximate):

    python cookbook/trim_history.py

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

from typing import Any

from _connect import chat_model
from langchain.agents import create_agent
from langchain.agents.middleware import AgentState, before_model
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.tools import tool
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from langchain_gptoss import GptOssContextOverflowError

# Small enough that trimming shows; in real use leave room for the answer:
# 131,072 (model.profile["max_input_tokens"], shared by prompt and output)
# minus max_tokens.
BUDGET = 1_500
SYSTEM = "You are a helpful travel desk. Use the tools; never guess."


@tool
def flight_status(flight: str) -> str:
    """Look up the status of a flight by its number, e.g. LH123."""
    return f"{flight.upper()} is on time, gate B12."


TOOLS = [flight_status]


def old_conversation(turns: int) -> list[BaseMessage]:
    """A long chat that happened before today's question."""
    history: list[BaseMessage] = []
    for turn in range(turns):
        history.append(
            HumanMessage(
                f"Earlier question {turn}: which lounges does terminal {turn} have?"
            )
        )
        history.append(
            AIMessage(
                f"Terminal {turn} has the Sky lounge and the Quiet lounge; both open "
                "at 05:00 and need a business ticket or a paid day pass.",
                additional_kwargs={"reasoning_content": "List the lounges briefly."},
            )
        )
    return history


def main() -> None:
    with chat_model(
        reasoning_effort="low", max_tokens=512, context_check=True
    ) as model:
        history = old_conversation(40)
        exact = model.get_num_tokens_from_messages(history, tools=TOOLS)
        rough = count_tokens_approximately(history)
        print(f"history: {len(history)} messages, {exact:,} tokens exact ", end="")
        print(
            f"(vLLM {model.vllm_version} framing; the 4-characters rule says {rough:,})"
        )

        def count(messages: list[BaseMessage]) -> int:
            """The prompt a model call sends: system prompt, messages and tools."""
            return model.get_num_tokens_from_messages(
                [SystemMessage(SYSTEM), *messages], tools=TOOLS
            )

        @before_model
        def keep_within_budget(state: AgentState, runtime: object) -> dict[str, Any]:
            """Trim the oldest turns so that the prompt fits BUDGET tokens."""
            del runtime
            messages = state["messages"]
            kept = trim_messages(
                messages,
                token_counter=count,
                max_tokens=BUDGET,
                strategy="last",
                start_on="human",
            )
            print(
                f"  trimmed {len(messages)} -> {len(kept)} messages: "
                f"{count(messages):,} -> {count(kept):,} tokens (budget {BUDGET:,})"
            )
            return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *kept]}

        agent = create_agent(
            model, tools=TOOLS, system_prompt=SYSTEM, middleware=[keep_within_budget]
        )
        question = 'What is the status of flight "LH123"? Use flight_status.'
        result = agent.invoke({"messages": [*history, HumanMessage(question)]})
        *sent, answer = result["messages"]
        print(f"answer: {answer.content}")
        served = (answer.usage_metadata or {}).get("input_tokens", 0)
        # Equal on TIR (with the right vllm_version); the emulator only estimates.
        print(
            f"last call: counted {count(sent):,} prompt tokens, server said {served:,}"
        )

        huge = [HumanMessage("Summarise this log: " + "ok " * 140_000)]
        try:
            model.invoke(huge)
        except GptOssContextOverflowError as refused:
            print(f"refused before sending: {refused}")


if __name__ == "__main__":
    main()
