"""Skeleton datasets behind one interface (numpy only).

``load_dataset(name, root=None, **options)`` returns a ``SkeletonDataset``;
``zero_shot_split(dataset_name, split_name)`` gives ``(seen, unseen)`` class indices.
docs/DATA.md describes every reader, its options and its conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from .base import DataFileError, SkeletonDataset, SkeletonSample
from .cmu_mocap import load_cmu_mocap
from .gtu3d import load_gtu3d
from .npy_folder import load_npy_folder
from .ntu import load_ntu
from .nw_ucla import load_nw_ucla
from .pku_mmd import load_pku_mmd
from .splits import available_splits, zero_shot_split
from .utd_mhad import load_utd_mhad

LOADERS: dict[str, Callable[..., SkeletonDataset]] = {
    "nw_ucla": load_nw_ucla,
    "gtu3d": load_gtu3d,
    "ntu60": partial(load_ntu, num_classes=60),
    "ntu120": partial(load_ntu, num_classes=120),
    "pku_mmd": load_pku_mmd,
    "npy_folder": load_npy_folder,
    "cmu_mocap": load_cmu_mocap,
    "utd_mhad": load_utd_mhad,
}


def load_dataset(name: str, root: Path | str | None = None, **options) -> SkeletonDataset:
    """Load dataset ``name`` from ``root`` (default: its folder under ``data_root()``)."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}") from None
    return loader(root, **options)


__all__ = [
    "DataFileError",
    "LOADERS",
    "SkeletonDataset",
    "SkeletonSample",
    "available_splits",
    "load_dataset",
    "zero_shot_split",
]
