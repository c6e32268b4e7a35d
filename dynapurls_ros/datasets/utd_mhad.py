"""UTD-MHAD skeletons: ``utd_mhad/aA_sS_tT_skeleton.mat`` (MATLAB v5, variable ``d_skel``).

``d_skel`` is ``(20, 3, T)``: Kinect v1 joints x xyz x frames, metres, camera coordinates
(y up, z away from the camera), 30 fps, one person facing the camera. The joints are in
the dataset's own order (``Skeleton_joint_order.txt``: head, shoulder centre, spine, hip
centre, then the arms and legs as in the usual Kinect v1 order). The reader reorders them
into the ``kinect_v1`` layout NW-UCLA uses, so both datasets share one joint map.

27 actions (class index = a - 1), 8 subjects x 4 trials; three trials are missing from
the release (861 clips). Performers used the right hand, and the left foot forward in the
lunge, so the class names keep their sides. Research use; cite Chen, Jafari and
Kehtarnavaz, ICIP 2015.
"""

from __future__ import annotations

import re
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

CLASS_NAMES = (
    "right arm swipe to the left",
    "right arm swipe to the right",
    "right hand wave",
    "two hand front clap",
    "right arm throw",
    "cross arms in the chest",
    "basketball shoot",
    "right hand draw x",
    "right hand draw circle (clockwise)",
    "right hand draw circle (counter clockwise)",
    "draw triangle",
    "bowling (right hand)",
    "front boxing",
    "baseball swing from right",
    "tennis right hand forehand swing",
    "arm curl (two arms)",
    "tennis serve",
    "two hand push",
    "right hand knock on door",
    "right hand catch an object",
    "right hand pick up and throw",
    "jogging in place",
    "walking in place",
    "sit to stand",
    "stand to sit",
    "forward lunge (left foot forward)",
    "squat (two arms stretch out)",
)
# kinect_v1 joint i is UTD-MHAD joint _TO_KINECT_V1[i]: the first four are reversed
# (hip centre, spine, shoulder centre, head), arms and legs are in the same order.
_TO_KINECT_V1 = (3, 2, 1, 0, *range(4, 20))
_NAME = re.compile(r"a(\d+)_s(\d+)_t(\d+)_skeleton")
_JOINTS = 20
FPS = 30.0


def read_sequence(path: Path) -> np.ndarray:
    """The ``(T, 20, 3)`` float32 skeleton of one file, in ``kinect_v1`` joint order."""
    from scipy.io import loadmat  # only this reader needs scipy: imported on use

    # scipy raises many kinds of error on a corrupt file; all mean "unreadable"
    from scipy.io.matlab import MatReadError

    try:
        content = loadmat(path, variable_names=["d_skel"])
    except (MatReadError, ValueError, OSError, TypeError, IndexError, KeyError, EOFError) as error:
        raise DataFileError(path, None, f"not a readable MATLAB file: {error}") from None
    skeleton = content.get("d_skel")
    if skeleton is None:
        raise DataFileError(path, None, "no variable 'd_skel'")
    if skeleton.ndim != 3 or skeleton.shape[:2] != (_JOINTS, 3) or skeleton.shape[2] == 0:
        raise DataFileError(path, None, f"d_skel has shape {skeleton.shape}, expected (20, 3, T>0)")
    if not np.issubdtype(skeleton.dtype, np.number):
        raise DataFileError(path, None, f"d_skel holds {skeleton.dtype}, not numbers")
    joints = np.ascontiguousarray(skeleton.transpose(2, 0, 1), dtype=np.float32)
    return joints[:, list(_TO_KINECT_V1)]


@lru_cache(maxsize=2)
def _load(root: Path) -> tuple[tuple[SkeletonSample, ...], tuple[tuple[str, str], ...]]:
    """The readable samples and the (file, reason) of each unreadable one."""
    files = sorted(root.glob("a*_s*_t*_skeleton.mat"))
    if not files:
        raise FileNotFoundError(f"no UTD-MHAD a*_s*_t*_skeleton.mat files in {root}")
    samples, skips = [], Skips()
    for path in files:
        with skips.item(path.name):
            match = _NAME.fullmatch(path.stem)
            action = int(match.group(1)) if match else 0
            if match is None or not 1 <= action <= len(CLASS_NAMES):
                raise DataFileError(
                    path, None, "file name is not aA_sS_tT_skeleton with A in 1..27"
                )
            samples.append(
                SkeletonSample(
                    name=path.stem.removesuffix("_skeleton"),
                    joints=read_only(read_sequence(path)),
                    label=action - 1,
                    subject=int(match.group(2)),
                    fps=FPS,
                    trial=int(match.group(3)),
                )
            )
    return tuple(samples), tuple(skips.skipped)


def load_utd_mhad(root: Path | str | None = None) -> SkeletonDataset:
    """All UTD-MHAD skeleton clips under ``root`` (default ``data_root()/utd_mhad``),
    layout ``kinect_v1``; unreadable files are skipped and named. Cached in-process."""
    directory = resolve_root(root, "utd_mhad").resolve()
    samples, skipped = _load(directory)
    return readable_dataset(directory, "utd_mhad", "kinect_v1", CLASS_NAMES, samples, skipped)
