"""Which clips and which class texts a training or evaluation run uses.

A run names datasets and (optionally) a zero-shot split; this module turns that into
clips at the model's frame rate, labels over a class list, and one eight-slot
description per class from the chosen source:

- ``bank``: this project's banks (the dataset's own bank first), then label resolution;
- ``labels``: the label name alone in every slot frame (no descriptions);
- ``template``: the deterministic template built from the label's words;
- ``reference``: the paper authors' descriptions in ``$DYNAPURLS_DATA/reference``
  (comparison runs only; NW-UCLA and NTU).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dynapurls_ros.datasets import SkeletonDataset, load_dataset, zero_shot_split
from dynapurls_ros.paths import config_dir, data_root
from dynapurls_ros.text.descriptions import ActionDescription, label_only_description
from dynapurls_ros.text.resolve import DescriptionResolver, default_bank_paths
from dynapurls_ros.text.template import template_description
from dynapurls_ros.training.windows import usable_clips

DESCRIPTION_SOURCES = ("bank", "labels", "template", "reference")
# Sheets of the authors' description file, by our dataset names.
REFERENCE_SHEETS = {"nw_ucla": "NW-UCLA", "ntu60": "NTU-RGB+D", "ntu120": "NTU-RGB+D"}
REFERENCE_KEYS = ("Head", "Hands", "Torso", "Legs", "Start", "Middle", "End", "Global Desc")


@dataclass
class ClipSet:
    """Clips at the model frame rate with labels indexing ``class_names``, and what was
    left out or repaired on the way (``dataset/name``, reason), which a run reports."""

    clips: list[np.ndarray]
    labels: np.ndarray
    names: list[str]
    class_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    repaired: list[tuple[str, str]] = field(default_factory=list)

    def subset(self, mask: np.ndarray) -> ClipSet:
        keep = np.flatnonzero(mask)
        return ClipSet(
            [self.clips[i] for i in keep],
            self.labels[keep],
            [self.names[i] for i in keep],
            self.class_names,
            self.skipped,
            self.repaired,
        )


def load_clips(
    datasets: Sequence[str],
    frame_rate: float,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[ClipSet, list[str]]:
    """All clips of the named datasets, classes concatenated in dataset order.

    ``options[name]`` are passed to :func:`load_dataset` (e.g. ``root``, ``labels`` and
    ``layout`` of an ``npy_folder``). Returns the clip set and, per class, the dataset it
    comes from (used to pick the dataset's own description bank). Unreadable files and
    clips without a tracked body are left out and listed in ``skipped``; ValueError only
    when no clip at all is usable.
    """
    options = options or {}
    clipset = ClipSet([], np.zeros(0, dtype=np.int64), [], [])
    labels: list[int] = []
    origin: list[str] = []
    for name in datasets:
        dataset: SkeletonDataset = load_dataset(name, **options.get(name, {}))
        offset = len(clipset.class_names)
        usable = usable_clips(dataset.samples, dataset.layout, frame_rate)
        kept = [dataset.samples[i] for i in usable.kept]
        clipset.clips += usable.clips
        labels += [offset + s.label for s in kept]
        clipset.names += [f"{name}/{s.name}" for s in kept]
        clipset.class_names += dataset.class_names
        clipset.skipped += [(f"{name}/{n}", why) for n, why in dataset.skipped + usable.skipped]
        clipset.repaired += [(f"{name}/{n}", what) for n, what in usable.repaired]
        origin += [name] * len(dataset.class_names)
    if len(set(clipset.class_names)) != len(clipset.class_names):
        raise ValueError(f"datasets {list(datasets)} share class names; train them separately")
    if not clipset.clips:
        reasons = "; ".join(f"{n}: {why}" for n, why in clipset.skipped[:3])
        raise ValueError(f"no usable clip in {list(datasets)} ({reasons})")
    clipset.labels = np.asarray(labels, dtype=np.int64)
    return clipset, origin


def report_left_out(clipset: ClipSet) -> None:
    """Name every clip left out or repaired on stderr, so a user can find and fix them."""
    for name, why in clipset.skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    for name, what in clipset.repaired:
        print(f"repaired {name}: {what}", file=sys.stderr)


def split_classes(dataset: str, split: str | None, num_classes: int) -> tuple[list[int], list[int]]:
    """(seen, unseen) class indices; no split means every class is seen.

    Besides the published splits (``"5/5"``, ``"ru5"``, ...), ``"random<U>-<seed>"`` draws
    ``U`` unseen classes with ``numpy.random.default_rng(seed)``: the random-split
    protocol, reproducible from its name alone.
    """
    if split is None:
        return list(range(num_classes)), []
    drawn = re.fullmatch(r"random(\d+)-(\d+)", split)
    if drawn:
        count, seed = int(drawn.group(1)), int(drawn.group(2))
        if not 0 < count < num_classes:
            raise ValueError(f"split {split!r}: need 0 < unseen < {num_classes}")
        unseen = sorted(np.random.default_rng(seed).choice(num_classes, count, replace=False))
        unseen = [int(c) for c in unseen]
        return [c for c in range(num_classes) if c not in unseen], unseen
    return zero_shot_split(dataset, split)


def holdout_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Stratified random choice of ``fraction`` of each class's clips (at least one
    clip of a class is always kept for training)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = min(len(members) - 1, round(fraction * len(members)))
        if count > 0:
            mask[rng.choice(members, size=count, replace=False)] = True
    return mask


def class_descriptions(
    class_names: Sequence[str], origin: Sequence[str], source: str
) -> list[ActionDescription]:
    """One description per class, from ``source`` (see module docstring)."""
    if source == "labels":
        return [label_only_description(name) for name in class_names]
    if source == "template":
        return [template_description(name) for name in class_names]
    if source == "reference":
        pairs = zip(class_names, origin, strict=True)
        return [reference_description(dataset, name) for name, dataset in pairs]
    if source != "bank":
        raise ValueError(f"unknown description source {source!r}; use one of {DESCRIPTION_SOURCES}")
    resolvers: dict[str, DescriptionResolver] = {}
    result = []
    for name, dataset in zip(class_names, origin, strict=True):
        if dataset not in resolvers:
            own = config_dir() / "descriptions" / f"{dataset}.yaml"
            banks = [own] if own.is_file() else []
            banks += [p for p in default_bank_paths() if p != own]
            resolvers[dataset] = DescriptionResolver(bank_paths=banks)
        result.append(resolvers[dataset].resolve([name])[0].description)
    return result


def reference_description(dataset: str, label: str) -> ActionDescription:
    """The paper authors' eight texts for ``label`` (benchmark comparisons only)."""
    sheet = REFERENCE_SHEETS.get(dataset)
    if sheet is None:
        raise ValueError(f"the reference descriptions have no sheet for {dataset!r}")
    path = data_root() / "reference" / "purls_gpt3_descriptions.json"
    rows = json.loads(path.read_text())[sheet]
    for row in rows:
        if row["Action Labels"].strip().lower() == label.strip().lower():
            texts = tuple(" ".join(str(row[key]).split()) for key in REFERENCE_KEYS)
            return ActionDescription(label=label, texts=texts)
    raise ValueError(f"{path}: no {sheet} entry for {label!r}")
