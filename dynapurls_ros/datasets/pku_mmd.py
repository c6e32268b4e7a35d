"""PKU-MMD v1: long Kinect v2 recordings with labelled action intervals.

- Skeletons (``PKU_Skeleton_Renew/<video>.txt``): one line per frame with 150 numbers,
  two bodies x 25 NTU-order joints x (x, y, z) in metres; an absent second body is all
  zeros, which the reader turns into NaN ("not tracked").
- Labels (``Train_Label_PKU_final/<video>.txt``): one line per action instance,
  ``class,start,end,confidence`` with 1-based class ids (1-51) and 0-based frame indices;
  the clip is ``frames[start:end + 1]``.

Each labelled interval becomes one sample named ``<video>_<k>`` (k = label line, 1-based).
Video names end in the view: ``-L``/``-M``/``-R`` -> view 1/2/3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..skeleton.preprocess import motion_energy
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

CLASS_NAMES = (
    "bow",
    "brushing hair",
    "brushing teeth",
    "check time (from watch)",
    "cheer up",
    "clapping",
    "cross hands in front (say stop)",
    "drink water",
    "drop",
    "eat meal/snack",
    "falling",
    "giving something to other person",
    "hand waving",
    "handshaking",
    "hopping (one foot jumping)",
    "hugging other person",
    "jump up",
    "kicking other person",
    "kicking something",
    "make a phone call/answer phone",
    "pat on back of other person",
    "pickup",
    "playing with phone/tablet",
    "point finger at the other person",
    "pointing to something with finger",
    "punching/slapping other person",
    "pushing other person",
    "put on a hat/cap",
    "put something inside pocket",
    "reading",
    "rub two hands together",
    "salute",
    "sitting down",
    "standing up",
    "take off a hat/cap",
    "take off glasses",
    "take off jacket",
    "take out something from pocket",
    "taking a selfie",
    "tear up paper",
    "throw",
    "touch back (backache)",
    "touch chest (stomachache/heart pain)",
    "touch head (headache)",
    "touch neck (neckache)",
    "typing on a keyboard",
    "use a fan (with hand or paper)/feeling warm",
    "wear jacket",
    "wear on glasses",
    "wipe face",
    "writing",
)
VIEWS = {"L": 1, "M": 2, "R": 3}
_BODIES, _JOINTS = 2, 25


def read_skeleton_file(path: Path) -> np.ndarray:
    """``(2, T, 25, 3)`` float32 bodies of one PKU-MMD skeleton file (absent body: NaN)."""
    lines = read_data_lines(path, "skeleton file")
    rows = parse_rows(path, lines, _BODIES * _JOINTS * 3).astype(np.float32)
    bodies = rows.reshape(len(rows), _BODIES, _JOINTS, 3).transpose(1, 0, 2, 3).copy()
    bodies[(bodies == 0).all(axis=(2, 3))] = np.nan
    return bodies


def read_label_file(path: Path, frame_count: int) -> list[tuple[int, int, int, int]]:
    """``(line, label, start, end)`` of every action in a label file; label is 0-based and
    ``start``/``end`` are checked against the video's ``frame_count``."""
    actions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        try:
            label, start, end = (int(field) for field in fields[:3])
            float(fields[3])
        except (ValueError, IndexError):
            raise DataFileError(
                path, number, f"expected 'class,start,end,confidence', found {line!r}"
            ) from None
        if len(fields) != 4:
            raise DataFileError(path, number, f"expected 4 fields, found {len(fields)}")
        if not 1 <= label <= len(CLASS_NAMES):
            raise DataFileError(path, number, f"class {label} is not in 1..{len(CLASS_NAMES)}")
        if not 0 <= start <= end < frame_count:
            raise DataFileError(
                path, number, f"interval {start}..{end} is outside the {frame_count} frames"
            )
        actions.append((number, label - 1, start, end))
    return actions


def _ranked_bodies(bodies: np.ndarray) -> np.ndarray:
    """The bodies tracked in at least one frame, the one that moves most first."""
    energy = motion_energy(bodies)
    return bodies[[i for i in np.argsort(-energy, kind="stable") if energy[i] >= 0]]


def load_pku_mmd(
    root: Path | str | None = None,
    *,
    skeleton_dir: str = "PKU_Skeleton_Renew",
    label_dir: str = "Train_Label_PKU_final",
) -> SkeletonDataset:
    """One sample per labelled action of every video under ``root`` (default
    ``data_root()/pku_mmd``); ``skeleton_dir`` and ``label_dir`` are relative to it."""
    directory = resolve_root(root, "pku_mmd")
    label_files = sorted((directory / label_dir).glob("*.txt"))
    if not label_files:
        raise FileNotFoundError(f"no PKU-MMD label files in {directory / label_dir}")
    samples, skips = [], Skips()
    for label_path in label_files:
        video = label_path.stem
        skeleton_path = directory / skeleton_dir / label_path.name
        intervals = None
        with skips.item(video):
            if not skeleton_path.is_file():
                raise FileNotFoundError(f"{label_path}: no skeleton file {skeleton_path}")
            bodies = read_skeleton_file(skeleton_path)
            intervals = read_label_file(label_path, bodies.shape[1])
        if intervals is None:  # unreadable: skipped with its reason
            continue
        view = VIEWS.get(video.rsplit("-", 1)[-1])
        for line, label, start, end in intervals:
            with skips.item(f"{video}_{line}"):
                clip = read_only(_ranked_bodies(bodies[:, start : end + 1]))
                if not len(clip):
                    raise DataFileError(label_path, line, "no body is tracked in this interval")
                samples.append(
                    SkeletonSample(
                        name=f"{video}_{line}",
                        joints=clip[0],
                        label=label,
                        view=view,
                        bodies=clip if len(clip) > 1 else None,
                    )
                )
    return readable_dataset(directory, "pku_mmd", "ntu25", CLASS_NAMES, samples, skips.skipped)
