"""GTU-3D-Actions: ``gtu3d/<folder>/movementN.txt``, 25 rows of ``x y z`` per frame.

The joints are the NTU RGB+D / Kinect v2 layout in metres, camera coordinates (y up, z
depth). The recordings are left/right mirrored with respect to the class names: in
"right handed shaking" the joint labelled *left* hand moves. By default the reader mirrors
every sequence (``skeleton.preprocess.mirror``: x negated and left/right joints swapped),
so that a sample of "right handed shaking" moves the canonical right hand and the class
names, descriptions and the model agree. There are no subject ids.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..skeleton.preprocess import mirror as mirror_joints
from .base import (
    DataFileError,
    SkeletonDataset,
    SkeletonSample,
    Skips,
    parse_rows,
    read_data_lines,
    read_only,
    readable_dataset,
    resolve_root,
)

# Class k is folder k + 1. Folders 13 and 14 share one name in the source; they bend
# opposite legs.
CLASS_NAMES = (
    "opening and closing the arms",
    "left handed shaking",
    "one right-left step",
    "crouching",
    "standing on the sandal",
    "sit and applause",
    "lower back (stretch)",
    "right and left 8-step motion",
    "neck relaxation",
    "right handed shaking",
    "right and left waist stretch",
    "walking",
    "bend the leg (one side)",
    "bend the leg (other side)",
)
_JOINTS = 25
_FILE = re.compile(r"movement(\d+)\.txt")


def read_sequence(path: Path) -> np.ndarray:
    """The ``(T, 25, 3)`` float32 joints of one GTU-3D text file, as recorded."""
    lines = read_data_lines(path)
    if len(lines) % _JOINTS:
        complete = len(lines) // _JOINTS
        raise DataFileError(
            path,
            complete * _JOINTS + 1,
            f"truncated frame {complete + 1}: {len(lines) % _JOINTS} of {_JOINTS} joint rows",
        )
    return parse_rows(path, lines, 3).astype(np.float32).reshape(-1, _JOINTS, 3)


@lru_cache(maxsize=2)
def _read_all(
    root: Path,
) -> tuple[tuple[tuple[str, int, np.ndarray], ...], tuple[tuple[str, str], ...]]:
    """``(name, label, joints as recorded)`` of every readable sequence under ``root``,
    and the (file, reason) of each unreadable one."""
    recorded, skips = [], Skips()
    for label in range(len(CLASS_NAMES)):
        folder = root / str(label + 1)
        numbered = ((_FILE.fullmatch(p.name), p) for p in folder.glob("movement*.txt"))
        files = [p for _, p in sorted((int(m.group(1)), p) for m, p in numbered if m)]
        if not files:
            raise FileNotFoundError(f"no GTU-3D movement*.txt files in {folder}")
        for path in files:
            name = f"{folder.name}_{path.stem}"
            with skips.item(name):
                recorded.append((name, label, read_only(read_sequence(path))))
    return tuple(recorded), tuple(skips.skipped)


@lru_cache(maxsize=4)
def _load(root: Path, mirror: bool) -> tuple[SkeletonSample, ...]:
    return tuple(
        SkeletonSample(
            name=name,
            joints=read_only(mirror_joints(joints, "ntu25")) if mirror else joints,
            label=label,
        )
        for name, label, joints in _read_all(root)[0]
    )


def load_gtu3d(root: Path | str | None = None, mirror: bool = True) -> SkeletonDataset:
    """All GTU-3D sequences under ``root`` (default ``data_root()/gtu3d``), layout ``ntu25``.

    ``mirror=False`` keeps the recorded sides (see the module docstring). Sample names are
    ``<folder>_movementN`` because the file names repeat across folders. Cached in-process.
    """
    directory = resolve_root(root, "gtu3d").resolve()
    samples, skipped = _load(directory, mirror), _read_all(directory)[1]
    return readable_dataset(directory, "gtu3d", "ntu25", CLASS_NAMES, samples, skipped)
