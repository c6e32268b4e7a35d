"""CMU Graphics Lab motion capture as NTU-25 joints: ``cmu_mocap/index.csv`` + ``SS_TT.npy``.

Each trial is a float16 ``(T, 25, 3)`` array, 30 fps, metres, y up with the floor at
y = 0, facing direction not aligned across trials. The class of a trial is its free-text
description (1056 distinct strings), so this is material for text-aligned pre-training
rather than a classification benchmark. Long trials are kept whole; cutting them into
windows belongs to training. ``kitml_texts`` reads the second, crowd-sourced sentence
that 654 trials have (KIT Motion-Language dataset).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .base import (
    DataFileError,
    SkeletonDataset,
    SkeletonSample,
    Skips,
    read_csv,
    read_only,
    readable_dataset,
    resolve_root,
)


def load_cmu_mocap(
    root: Path | str | None = None, *, subjects: Iterable[int] | None = None
) -> SkeletonDataset:
    """Trials listed in ``root/index.csv`` (default ``data_root()/cmu_mocap``).

    ``subjects`` keeps only those CMU subjects (all 2129 trials take ~270 MB as float32).
    Class names are the sorted distinct descriptions of the whole index, so label indices
    do not depend on the subject selection.
    """
    directory = resolve_root(root, "cmu_mocap")
    index_path = directory / "index.csv"
    rows = read_csv(index_path, ("file", "subject", "description", "frames"))
    class_names = sorted({row["description"] for _, row in rows})
    label = {description: i for i, description in enumerate(class_names)}
    wanted = None if subjects is None else set(subjects)
    samples, skips = [], Skips()
    for line, row in rows:
        try:
            subject, frames = int(row["subject"]), int(row["frames"])
        except ValueError:
            raise DataFileError(index_path, line, "subject and frames must be integers") from None
        if wanted is not None and subject not in wanted:
            continue
        path = directory / row["file"]
        with skips.item(path.name):
            try:
                joints = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise DataFileError(index_path, line, f"cannot load {path}: {error}") from None
            if joints.shape != (frames, 25, 3):
                raise DataFileError(
                    index_path,
                    line,
                    f"{path.name} has shape {joints.shape}, index says {frames} frames",
                )
            samples.append(
                SkeletonSample(
                    name=path.stem,
                    joints=read_only(joints.astype(np.float32)),
                    label=label[row["description"]],
                    subject=subject,
                )
            )
    return readable_dataset(directory, "cmu_mocap", "ntu25", class_names, samples, skips.skipped)


KITML_FILE = "kitml_texts.csv"


def kitml_texts(root: Path | str | None = None) -> dict[str, tuple[str, ...]]:
    """Crowd-sourced KIT Motion-Language sentences of CMU trials, trial name -> texts,
    from ``root/kitml_texts.csv`` (``file,kitml_id,text,start_s,end_s``); empty when the
    file is absent. Each sentence describes a clip the KIT dataset cut from the whole
    trial, so it counts as a description of the trial (Plappert et al., 2016)."""
    path = resolve_root(root, "cmu_mocap") / KITML_FILE
    if not path.is_file():
        return {}
    texts: dict[str, list[str]] = {}
    for line, row in read_csv(path, ("file", "text")):
        text = " ".join(row["text"].split())
        if not text:
            raise DataFileError(path, line, "empty text")
        texts.setdefault(Path(row["file"]).stem, []).append(text)
    return {name: tuple(values) for name, values in texts.items()}
