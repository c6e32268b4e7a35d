"""The reference motions of a checkpoint's open-set rejection, from its training clips.

One centred window of each seen-class clip of the checkpoint's training datasets (a
seeded sample of ``REFERENCE_WINDOWS`` when there are more), encoded by the model into
global-slot vectors (:mod:`dynapurls_ros.rejection`). Training stores them in the
checkpoint; ``dynapurls calibrate CHECKPOINT`` adds them to one trained without.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo, load_checkpoint, save_checkpoint
from dynapurls_ros.model.dynapurls import DynaPURLS
from dynapurls_ros.rejection import pick_reference_windows, reference_motions
from dynapurls_ros.training.data import load_clips
from dynapurls_ros.training.windows import evaluation_windows


def training_references(model: DynaPURLS, info: RunInfo) -> torch.Tensor | None:
    """Reference motions ``(N, d)`` of a trained model; None when it saw no labelled clip."""
    if not info.datasets or not info.seen_labels:
        return None
    options = info.settings.get("dataset_options") or {}
    clipset, _ = load_clips(info.datasets, info.frame_rate, options)
    seen = set(info.seen_labels)
    usable = [i for i, y in enumerate(clipset.labels) if clipset.class_names[int(y)] in seen]
    chosen = [usable[i] for i in pick_reference_windows(len(usable))]
    windows = np.stack(
        [evaluation_windows(clipset.clips[i], info.window_length, 1)[0] for i in chosen]
    )
    return reference_motions(model, torch.from_numpy(windows))


def calibrate_file(path: str | Path) -> int:
    """Store the reference motions in the checkpoint at ``path``; how many (0: none)."""
    model, info = load_checkpoint(path)
    references = training_references(model, info)
    if references is None:
        return 0
    info.reference_motions = references.half()
    save_checkpoint(path, model, info)
    return len(references)
