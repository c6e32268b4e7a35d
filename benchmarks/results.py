"""What the training benchmarks share: JSON-lines result files (append, read,
summarise) and the ``--dataset-option`` flag.

Each benchmark appends one row per (configuration, seed) so that runs split over
processes or sessions add up; ``--summary`` then groups the rows and prints mean ± std.
"""

from __future__ import annotations

import argparse
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


def dataset_option(text: str) -> tuple[str, str, float | str]:
    """``DATASET.OPTION=VALUE`` -> (dataset, option, value); numbers become floats."""
    name, _, rest = text.partition(".")
    key, equals, value = rest.partition("=")
    if not (name and key and equals and value):
        raise argparse.ArgumentTypeError(f"expected DATASET.OPTION=VALUE, got {text!r}")
    try:
        return name, key, float(value)
    except ValueError:
        return name, key, value


def add_dataset_option(parser: argparse.ArgumentParser) -> None:
    """``--dataset-option`` (repeatable): a reader option such as ``nw_ucla.fps=15``."""
    parser.add_argument(
        "--dataset-option",
        type=dataset_option,
        action="append",
        default=[],
        metavar="DATASET.OPTION=VALUE",
        help="reader option of a dataset, e.g. nw_ucla.fps=15 (repeatable)",
    )


def dataset_options(pairs: Iterable[tuple[str, str, float | str]]) -> dict[str, dict]:
    """``load_dataset`` options per dataset from parsed ``--dataset-option`` values."""
    options: dict[str, dict] = {}
    for name, key, value in pairs:
        options.setdefault(name, {})[key] = value
    return options
