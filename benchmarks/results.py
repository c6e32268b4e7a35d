"""JSON-lines result files shared by the training benchmarks: append, read, summarise.

Each benchmark appends one row per (configuration, seed) so that runs split over
processes or sessions add up; ``--summary`` then groups the rows and prints mean ± std.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from pathlib import Path


def append_rows(path: Path, rows: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mean_std(values: list[float]) -> str:
    """``"mean ± std"`` (std 0 for a single value), as the summaries print it."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):5.1f} ± {spread:4.1f}"
