"""Benchmarks: ChatGptOss against ChatOpenAI, raw httpx and LangChain's own floor.

Run from the repository root (see the README):

    python benchmarks/run.py [--quick] [--plot FILE.png] [--json FILE.json]

The emulator runs in its own process. Every number that matters is a ratio of
timings taken side by side in this one run, interleaved, as medians, since
absolute times on shared machines drift; each line says its target and whether
it was met. `--quick` runs fewer and smaller samples, for development only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _concurrent import bench_concurrent_invoke, bench_concurrent_stream
from _fresh import bench_cold_start, bench_import, bench_memory
from _harness import Report, emulator_process
from _steady import (
    STREAM_LIMIT,
    STREAM_OPENAI,
    bench_small_invoke,
    bench_streaming,
    small_invoke_spec,
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller samples")
    parser.add_argument("--plot", type=Path, help="write a chart of the ratios (PNG)")
    parser.add_argument("--json", type=Path, help="write the lines as JSON")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    quick = args.quick
    report = Report()
    print("Each line: ChatGptOss measured against a reference in this same run.\n")
    with emulator_process() as url:
        with report.guard(STREAM_LIMIT, STREAM_OPENAI):
            bench_streaming(url, report, repeats=3 if quick else 21)
        calls = 100 if quick else 300
        with report.guard(small_invoke_spec(calls)):
            bench_small_invoke(url, report, calls=calls, repeats=5 if quick else 15)
        for count in (200, 1000):
            bench_concurrent_invoke(url, report, count, repeats=1 if quick else 5)
        bench_concurrent_stream(url, report, count=200, repeats=1 if quick else 3)
        bench_cold_start(url, report, samples=5 if quick else 21)
        bench_memory(url, report, count=200)
    bench_import(report, runs=5 if quick else 31)
    print()
    if args.json:
        from _plot import write_json

        write_json(report.lines, args.json, quick=quick)
    if args.plot:
        from _plot import plot

        plot(report.lines, args.plot, quick=quick)
    if report.failed:
        print(f"targets missed: {', '.join(report.failed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
