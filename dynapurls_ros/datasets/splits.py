"""Zero-shot class splits: which classes are seen in training and which are held out.

NTU-60, NTU-120, NW-UCLA and UTD-MHAD use the published splits stored in ``splits/splits.json``
(the SynSE / SMIE / PURLS ones: keys ``ru<N>`` unseen and ``rs<N>`` seen). GTU-3D has no
published split; the project's two were drawn once, before any experiment, with
``numpy.random.default_rng(0).choice(14, size=k, replace=False)`` for k = 3 and 7, and
are fixed here.

Split names are ``"<seen>/<unseen>"`` counts, e.g. ``"55/5"``; ``"ru5"`` (the key of the
unseen list in the split files) is accepted as well.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .base import resolve_root

NUM_CLASSES = {"ntu60": 60, "ntu120": 120, "nw_ucla": 10, "gtu3d": 14, "utd_mhad": 27}
_FILE_KEYS = {"ntu60": "ntu60", "ntu120": "ntu120", "nw_ucla": "nw-ucla", "utd_mhad": "utd-mhad"}
_ALIASES = {"nw-ucla": "nw_ucla", "utd-mhad": "utd_mhad"}

# Unseen GTU-3D classes (indices into datasets.gtu3d.CLASS_NAMES).
GTU3D_UNSEEN = {
    # right and left 8-step motion, neck relaxation, right and left waist stretch
    "11/3": (7, 8, 10),
    # opening and closing the arms, left handed shaking, one right-left step, crouching,
    # sit and applause, lower back (stretch), right handed shaking
    "7/7": (0, 1, 2, 3, 5, 6, 9),
}


@lru_cache(maxsize=2)
def _split_file(path: Path) -> dict[str, dict[str, list[int]]]:
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def _unseen_lists(dataset: str, root: Path | str | None) -> dict[int, list[int]]:
    """Unseen class list of every split of ``dataset``, keyed by its unseen count."""
    if dataset == "gtu3d":
        return {len(unseen): list(unseen) for unseen in GTU3D_UNSEEN.values()}
    table = _split_file(resolve_root(root, "splits").resolve() / "splits.json")[_FILE_KEYS[dataset]]
    return {int(key[2:]): value for key, value in table.items() if key.startswith("ru")}


def _dataset_key(dataset_name: str) -> str:
    key = _ALIASES.get(dataset_name, dataset_name)
    if key not in NUM_CLASSES:
        raise ValueError(
            f"no zero-shot splits for {dataset_name!r}; known: {', '.join(NUM_CLASSES)}"
        )
    return key


def available_splits(dataset_name: str, root: Path | str | None = None) -> list[str]:
    """Names (``"<seen>/<unseen>"``) of the splits of ``dataset_name``, most seen first."""
    key = _dataset_key(dataset_name)
    total = NUM_CLASSES[key]
    return [f"{total - n}/{n}" for n in sorted(_unseen_lists(key, root))]


def zero_shot_split(
    dataset_name: str, split_name: str, root: Path | str | None = None
) -> tuple[list[int], list[int]]:
    """``(seen, unseen)`` sorted class-index lists of one split.

    ``root`` is the folder holding ``splits.json`` (default ``data_root()/splits``).
    """
    key = _dataset_key(dataset_name)
    total = NUM_CLASSES[key]
    counts = re.fullmatch(r"(\d+)/(\d+)", split_name)
    alias = re.fullmatch(r"ru(\d+)", split_name)
    if counts and int(counts.group(1)) + int(counts.group(2)) == total:
        unseen_count = int(counts.group(2))
    elif alias:
        unseen_count = int(alias.group(1))
    else:
        unseen_count = -1
    lists = _unseen_lists(key, root)
    if unseen_count not in lists:
        raise ValueError(
            f"unknown split {split_name!r} for {key}; "
            f"known: {', '.join(available_splits(key, root))}"
        )
    unseen = sorted(lists[unseen_count])
    if len(set(unseen)) != len(unseen) or not set(unseen) <= set(range(total)):
        raise ValueError(f"split {split_name!r} of {key} is not a set of class indices")
    seen = sorted(set(range(total)) - set(unseen))
    return seen, unseen
