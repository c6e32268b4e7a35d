"""Northwestern-UCLA Multiview Action3D: ``nw_ucla/all_sqe/aAA_sSS_eEE_vVV.json``.

Each file holds ``{"file_name": ..., "skeletons": [T][20][3]}``: one Kinect v1 body in
metres, camera coordinates (y up, z depth). Action, subject and view come from the name.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .base import DataFileError, SkeletonDataset, SkeletonSample, read_only, resolve_root

# Action ids in class-index order, and their names (the dataset skips a07 and a10).
ACTIONS = ("a01", "a02", "a03", "a04", "a05", "a06", "a08", "a09", "a11", "a12")
CLASS_NAMES = (
    "pick up with one hand",
    "pick up with two hands",
    "drop trash",
    "walk around",
    "sit down",
    "stand up",
    "donning",
    "doffing",
    "throw",
    "carry",
)
_NAME = re.compile(r"(a\d\d)_s(\d\d)_e(\d\d)_v(\d\d)")
_JOINTS = 20


def read_sequence(path: Path) -> np.ndarray:
    """The ``(T, 20, 3)`` float32 skeleton of one NW-UCLA JSON file."""
    try:
        with open(path, encoding="utf-8") as stream:
            content = json.load(stream)
    except json.JSONDecodeError as error:
        raise DataFileError(path, error.lineno, f"invalid JSON: {error.msg}") from None
    if not isinstance(content, dict) or "skeletons" not in content:
        raise DataFileError(path, 1, 'expected an object with a "skeletons" list')
    try:
        joints = np.array(content["skeletons"], dtype=np.float32)
    except (ValueError, TypeError):
        raise DataFileError(path, 1, '"skeletons" is not a [T][20][3] array of numbers') from None
    if joints.ndim != 3 or joints.shape[1:] != (_JOINTS, 3) or len(joints) == 0:
        raise DataFileError(path, 1, f'"skeletons" has shape {joints.shape}, expected (T>0, 20, 3)')
    return joints


@lru_cache(maxsize=2)
def _load(root: Path) -> tuple[SkeletonSample, ...]:
    files = sorted((root / "all_sqe").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no NW-UCLA .json files in {root / 'all_sqe'}")
    samples = []
    for path in files:
        match = _NAME.fullmatch(path.stem)
        if match is None or match.group(1) not in ACTIONS:
            raise DataFileError(path, None, "file name is not aAA_sSS_eEE_vVV with a known action")
        action, subject, _, view = match.groups()
        samples.append(
            SkeletonSample(
                name=path.stem,
                joints=read_only(read_sequence(path)),
                label=ACTIONS.index(action),
                subject=int(subject),
                view=int(view),
            )
        )
    return tuple(samples)


def load_nw_ucla(root: Path | str | None = None) -> SkeletonDataset:
    """All NW-UCLA sequences under ``root`` (default ``data_root()/nw_ucla``), layout
    ``kinect_v1``. Cached in-process: a second call costs nothing."""
    samples = _load(resolve_root(root, "nw_ucla").resolve())
    return SkeletonDataset("nw_ucla", "kinect_v1", list(CLASS_NAMES), list(samples))
