"""Calibrate a checkpoint's open-set threshold on its own held-out training clips.

Training keeps ``HOLDOUT_SHARE`` of the seen clips out of the model's training (their
names are in the checkpoint); those clips, of classes the model knows but recordings it
never fitted, are what :func:`dynapurls_ros.rejection.calibrate` draws its vocabularies
from. Without held-out clips (a tiny dataset) all seen clips are used, which sets the
threshold higher than unseen recordings need (they score lower), so more is rejected.

    dynapurls calibrate CHECKPOINT      # writes the threshold into the checkpoint
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dynapurls_ros.checkpoint import RunInfo, load_checkpoint, save_checkpoint
from dynapurls_ros.model.dynapurls import DynaPURLS
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.rejection import Calibration, calibrate, load_background
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.training.data import class_descriptions, load_clips
from dynapurls_ros.training.windows import evaluation_windows


def calibrate_model(model: DynaPURLS, info: RunInfo) -> Calibration | None:
    """The rejection calibration of a trained model; None when it saw no labelled clip."""
    if not info.datasets or not info.seen_labels:
        return None
    options = info.settings.get("dataset_options") or {}
    clipset, origin = load_clips(info.datasets, info.frame_rate, options)
    seen = {name: i for i, name in enumerate(info.seen_labels)}
    names = [clipset.class_names[int(y)] for y in clipset.labels]
    heldout = set(info.heldout)
    use = [i for i, n in enumerate(names) if n in seen and clipset.names[i] in heldout]
    if not use:
        use = [i for i, n in enumerate(names) if n in seen]
    windows = torch.from_numpy(
        np.stack([evaluation_windows(clipset.clips[i], info.window_length, 1)[0] for i in use])
    )
    labels = np.array([seen[names[i]] for i in use])
    origin_of = dict(zip(clipset.class_names, origin, strict=True))
    groups = np.array([origin_of[name] for name in info.seen_labels])
    encoder = make_text_encoder(model.config.text_encoder, cache_dir=cache_dir() / "text")
    descriptions = class_descriptions(info.seen_labels, list(groups), info.description_source)
    text = encode_descriptions(encoder, descriptions)
    label_vectors = F.normalize(encoder.encode(list(info.seen_labels)), dim=-1)
    background = load_background(encoder)
    return calibrate(model, windows, labels, groups, text, label_vectors, background)


def calibrate_file(path: str | Path) -> Calibration | None:
    """Calibrate the checkpoint at ``path`` and store the result in it."""
    model, info = load_checkpoint(path)
    calibration = calibrate_model(model, info)
    if calibration is not None:
        info.rejection = calibration.to_dict()
        save_checkpoint(path, model, info)
    return calibration
