"""Any skeleton data converted to a folder of ``.npy`` arrays plus a ``file,label`` CSV.

The simplest way to bring new recordings (e.g. a robot's own ROS bags, exported by the
replay tool) to training and evaluation: one ``(T, V, 3)`` float array per sequence in
the joint order of a named layout, and a CSV whose rows name the file (relative to the
folder) and its class. Optional ``subject`` and ``view`` columns hold integers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..skeleton.layouts import get_layout
from .base import (
    DataFileError,
    SkeletonDataset,
    SkeletonSample,
    Skips,
    read_csv,
    read_only,
    readable_dataset,
)


def _optional_int(row: dict[str, str], column: str, path: Path, line: int) -> int | None:
    value = row.get(column, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise DataFileError(path, line, f"{column} must be an integer, found {value!r}") from None


def _read_array(path: Path, line: int, num_joints: int, layout: str) -> np.ndarray:
    """The ``(T, V, 3)`` array of ``path`` (listed on CSV line ``line``), or why not."""
    try:
        joints = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataFileError(path, None, f"cannot load (listed on line {line}): {error}") from None
    if joints.ndim != 3 or joints.shape[1:] != (num_joints, 3) or len(joints) == 0:
        raise DataFileError(
            path, None, f"shape {joints.shape} is not (T>0, {num_joints}, 3) for {layout}"
        )
    return joints


def load_npy_folder(
    root: Path | str | None = None,
    *,
    labels: str = "labels.csv",
    layout: str = "ntu25",
    class_names: list[str] | None = None,
    fps: float = 30.0,
    name: str = "npy_folder",
) -> SkeletonDataset:
    """Sequences listed in ``root/labels``; class names are the sorted distinct labels
    unless ``class_names`` fixes them (then every label must be one of them)."""
    if root is None:
        raise ValueError("npy_folder needs root=<folder holding the .npy files and CSV>")
    directory = Path(root).expanduser()
    csv_path = directory / labels
    if not csv_path.is_file():
        raise FileNotFoundError(f"label file not found: {csv_path}")
    num_joints = get_layout(layout).num_joints
    rows = read_csv(csv_path, ("file", "label"))
    if not rows:
        raise DataFileError(csv_path, None, "no sequences listed")
    names = (
        sorted({row["label"].strip() for _, row in rows}) if class_names is None else class_names
    )
    index = {label: i for i, label in enumerate(names)}
    samples, skips = [], Skips()
    for line, row in rows:
        label = row["label"].strip()
        if label not in index:
            raise DataFileError(csv_path, line, f"label {label!r} is not among the class names")
        relative = Path(row["file"].strip())
        path = directory / relative
        with skips.item(relative.as_posix()):
            joints = _read_array(path, line, num_joints, layout)
            samples.append(
                SkeletonSample(
                    name=relative.with_suffix("").as_posix(),
                    joints=read_only(joints.astype(np.float32)),
                    label=index[label],
                    subject=_optional_int(row, "subject", csv_path, line),
                    view=_optional_int(row, "view", csv_path, line),
                    fps=fps,
                )
            )
    return readable_dataset(directory, name, layout, names, samples, skips.skipped)
