"""What the benchmarks share: where results go, JSON-lines result files (append, read,
summarise), mean ± std, the training-recipe flags (defaults: ``TrainConfig``'s, i.e.
the shipped recipe) and the ``--dataset-option`` flag.

Each benchmark appends one row per (configuration, seed) so that runs split over
processes or sessions add up; ``--summary`` then groups the rows and prints mean ± std.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dynapurls_ros.training.augment import Augmentation
from dynapurls_ros.training.texts import DESCRIPTION_CHOICES
from dynapurls_ros.training.train import TrainConfig

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "runs"  # results and checkpoints of benchmark runs (ignored by git)


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


# TrainConfig fields a recipe flag sets (the data of a run is the benchmark's to choose).
RECIPE_FIELDS = (
    "corpus",
    "descriptions",
    "text_weight",
    "encoder_epochs",
    "align_epochs",
    "views",
    "window_length",
    "device",
)


def _default(spec: dataclasses.Field) -> Any:
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the training recipe: the ``TrainConfig`` fields in ``RECIPE_FIELDS`` and
    every ``Augmentation`` field, with the library's defaults and help."""
    group = parser.add_argument_group("training recipe (defaults: the shipped recipe)")
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for name in RECIPE_FIELDS:
        spec, default = fields[name], _default(fields[name])
        extra: dict[str, Any] = {"choices": DESCRIPTION_CHOICES} if name == "descriptions" else {}
        group.add_argument(
            "--" + name.replace("_", "-"),
            type=type(default) if default is not None else str,
            default=default,
            help=spec.metadata.get("help"),
            **extra,
        )
    for spec in dataclasses.fields(Augmentation):
        default = _default(spec)
        flag = "--augment-" + spec.name.replace("_", "-")
        if isinstance(default, tuple):
            group.add_argument(flag, type=float, nargs=len(default), default=default)
        elif isinstance(default, bool):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            group.add_argument(flag, type=type(default), default=default)


def recipe(args: argparse.Namespace, **run: Any) -> TrainConfig:
    """The ``TrainConfig`` the recipe flags name, for the data and seed in ``run``."""
    augmentation = Augmentation(
        **{f.name: getattr(args, "augment_" + f.name) for f in dataclasses.fields(Augmentation)}
    )
    chosen = {name: getattr(args, name) for name in RECIPE_FIELDS}
    return TrainConfig(**chosen, augmentation=augmentation, **run)


def recipe_tag(config: TrainConfig) -> str:
    """Short name of what ``config``'s recipe changes from the default recipe."""
    default = TrainConfig(datasets=config.datasets)
    parts = [
        f"{name}={getattr(config, name)}"
        for name in RECIPE_FIELDS
        if name != "device" and getattr(config, name) != getattr(default, name)
    ]
    parts += [
        f"{f.name}={getattr(config.augmentation, f.name)}"
        for f in dataclasses.fields(Augmentation)
        if getattr(config.augmentation, f.name) != getattr(default.augmentation, f.name)
    ]
    return ",".join(parts) or "default"
