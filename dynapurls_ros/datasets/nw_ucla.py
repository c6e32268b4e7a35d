"""Northwestern-UCLA Multiview Action3D: ``nw_ucla/all_sqe/aAA_sSS_eEE_vVV.json``.

Each file holds ``{"file_name": ..., "skeletons": [T][20][3]}``: one Kinect v1 body in
metres, camera coordinates (y up, z depth). Action, subject and view come from the name.

The files carry no frame rate. Read at a Kinect's nominal 30 fps, the motion is about
twice as fast as people move: walking clips take 4 steps/s (CMU and GTU-3D walks, read
the same way, 2), a person sits down in 0.8 s and puts on a jacket in 2.8 s
(``benchmarks/frame_rate.py``). Every published NW-UCLA result resamples clips to a
fixed length, where the rate does not matter; here windows have a duration, so
``fps=15`` reads the clips at the measured speed (``docs/DATA.md``).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .base import (
    DataFileError,
    SkeletonDataset,
    SkeletonSample,
    Skips,
    read_only,
    readable_dataset,
    resolve_root,
)

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


NOMINAL_FPS = 30.0  # the Kinect v1 rate the files are usually read at


@lru_cache(maxsize=2)
def _load(root: Path) -> tuple[tuple[SkeletonSample, ...], tuple[tuple[str, str], ...]]:
    """The readable samples and the (file, reason) of each unreadable one."""
    files = sorted((root / "all_sqe").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no NW-UCLA .json files in {root / 'all_sqe'}")
    samples, skips = [], Skips()
    for path in files:
        with skips.item(path.name):
            match = _NAME.fullmatch(path.stem)
            if match is None or match.group(1) not in ACTIONS:
                raise DataFileError(
                    path, None, "file name is not aAA_sSS_eEE_vVV with a known action"
                )
            action, subject, _, view = match.groups()
            samples.append(
                SkeletonSample(
                    name=path.stem,
                    joints=read_only(read_sequence(path)),
                    label=ACTIONS.index(action),
                    subject=int(subject),
                    view=int(view),
                    fps=NOMINAL_FPS,
                )
            )
    return tuple(samples), tuple(skips.skipped)


def load_nw_ucla(root: Path | str | None = None, fps: float = NOMINAL_FPS) -> SkeletonDataset:
    """All NW-UCLA sequences under ``root`` (default ``data_root()/nw_ucla``), layout
    ``kinect_v1``, each sample read at ``fps`` frames per second (see the module
    docstring). Cached in-process: a second call costs nothing."""
    if isinstance(fps, bool) or not (isinstance(fps, int | float) and 0 < fps <= 1000):
        raise ValueError(f"nw_ucla: fps must be a number in (0, 1000], got {fps!r}")
    directory = resolve_root(root, "nw_ucla").resolve()
    samples, skipped = _load(directory)
    if fps != NOMINAL_FPS:  # the same read-only arrays, another clock
        samples = tuple(replace(sample, fps=float(fps)) for sample in samples)
    return readable_dataset(directory, "nw_ucla", "kinect_v1", CLASS_NAMES, samples, skipped)
