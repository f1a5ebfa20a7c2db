"""Two checkouts' hot paths side by side: is a refactor slower?

    python benchmarks/ab.py OLD_CHECKOUT NEW_CHECKOUT [--rounds N]

Each round runs `_ab_child.py` once per checkout, in fresh interpreters with
that checkout first on the path, alternating which goes first; both talk to one
emulator in its own process. Prints, per hot path, each side's median over the
rounds and NEW / OLD (below 1: the new one is faster). No target: a ratio near 1
within the spread between rounds says "not slower".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _harness import HERE, emulator_process, ms


def round_of(checkout: Path, url: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    done = subprocess.run(
        [sys.executable, str(HERE / "_ab_child.py"), url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sides: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    with emulator_process() as url:
        for number in range(args.rounds):
            order = ("old", "new") if number % 2 == 0 else ("new", "old")
            for side in order:
                sides[side].append(round_of(getattr(args, side), url))
    print(f"{args.rounds} rounds; old = {args.old}, new = {args.new}")
    for path in sides["old"][0]:
        old = [run[path] for run in sides["old"]]
        new = [run[path] for run in sides["new"]]
        ratios = sorted(n / o for n, o in zip(new, old, strict=True))
        print(
            f"  {path:14s} old {ms(statistics.median(old)):>9s}  "
            f"new {ms(statistics.median(new)):>9s}  "
            f"new/old {statistics.median(new) / statistics.median(old):.3f} "
            f"(rounds {ratios[0]:.3f} to {ratios[-1]:.3f})"
        )


if __name__ == "__main__":
    main()
