"""Run the TIR emulator in the foreground: ``python -m langchain_gptoss.testing``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from langchain_gptoss.testing._emulator import TirEmulator
from langchain_gptoss.testing._releases import DEFAULT_RELEASE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m langchain_gptoss.testing",
        description="Serve a local emulator of the E2E TIR gpt-oss chat endpoint.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--project-id", type=int, default=12345)
    parser.add_argument("--model", default="gpt_oss_120b")
    parser.add_argument(
        "--era",
        choices=["reasoning_content", "both", "reasoning"],
        default=None,
        help="force these reasoning field names (default: the release's)",
    )
    parser.add_argument(
        "--require-project-query",
        action="store_true",
        help="answer 400 when the ?project_id query parameter is missing",
    )
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument(
        "--vllm",
        default=DEFAULT_RELEASE,
        help=f"the vLLM release to play, e.g. 0.20.1 (default {DEFAULT_RELEASE})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print how to reach it, serve until Ctrl-C."""
    args = _parser().parse_args(argv)
    # A process started in the background of a script inherits SIGINT ignored,
    # and Python keeps it so; the emulator must still stop on Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    emulator = TirEmulator(
        token=args.token,
        project_id=args.project_id,
        model=args.model,
        reasoning_field=args.era,
        require_project_query=args.require_project_query,
        tokens_per_chunk=args.tokens_per_chunk,
        vllm=args.vllm,
        host=args.host,
        port=args.port,
    )
    with emulator:
        # Announce only inside the try: whoever reads the banner may send
        # Ctrl-C at once, and one arriving before the try would end the
        # process with a traceback and exit status 1.
        try:
            sys.stdout.write(
                f"TIR emulator listening on {emulator.base_url}\n"
                f"OpenAI base URL: {emulator.openai_base_url}\n\n"
                f"export E2E_TIR_BASE_URL={emulator.base_url}\n"
                f"export E2E_TIR_ACCESS_TOKEN={emulator.token}\n"
                f"export E2E_TIR_PROJECT_ID={emulator.project_id}\n\n"
                "Press Ctrl-C to stop.\n"
            )
            sys.stdout.flush()
            threading.Event().wait()
        except KeyboardInterrupt:
            sys.stdout.write("stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
