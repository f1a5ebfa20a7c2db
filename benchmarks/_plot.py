"""The chart and the JSON of a run: every line's ratio against its target."""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

from _harness import Line


def write_json(lines: list[Line], path: Path, *, quick: bool) -> None:
    data = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "quick": quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "lines": [line.as_dict() for line in lines],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def plot(lines: list[Line], path: Path, *, quick: bool) -> None:
    """Horizontal bars of ratio / target (turned so that left of 1 is met)."""
    import matplotlib as mpl

    mpl.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    rows = list(reversed(lines))  # first line on top
    worst = max((line.score for line in rows if not math.isnan(line.score)), default=1)
    error_at = max(worst, 1.0) * 1.3  # where a failed measurement's bar ends
    scores = [error_at if math.isnan(line.score) else line.score for line in rows]
    colours = [
        "#9e9e9e" if line.error else "#2e7d32" if line.ok else "#c62828"
        for line in rows
    ]
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(rows) + 1.6))
    bars = ax.barh(range(len(rows)), scores, color=colours)
    for bar, line in zip(bars, rows, strict=True):
        bar.set_hatch("//" if line.error else "")
    ax.axvline(1, color="black", linewidth=1)
    ax.set_yticks(range(len(rows)), [line.spec.name for line in rows], fontsize=8)
    for y, (score, line) in enumerate(zip(scores, rows, strict=True)):
        label = (
            "failed to run"
            if line.error
            else f"{line.ratio:.2f} (target {line.spec.target_text})"
        )
        ax.text(score, y, f"  {label}", va="center", fontsize=7)
    ax.set_xlim(0, max(scores) * 1.45)
    ax.set_xlabel(
        "ratio / target (speed-ups: target / ratio); left of 1 is met", fontsize=8
    )
    met = sum(line.ok for line in lines)
    kind = "--quick run" if quick else "full run"
    ax.set_title(
        f"ChatGptOss benchmarks: {met} of {len(lines)} targets met ({kind}, "
        f"{time.strftime('%Y-%m-%d')}); green met, red missed, grey failed",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
