"""Zero-shot evaluation of a checkpoint on the unseen classes of a split.

ZSL: every unseen-class clip is scored against the unseen classes only (top-1, top-5,
per-class accuracy, confusion matrix). GZSL: the unseen clips and the seen clips the
training run held out are scored against all classes; seen, unseen and harmonic mean.
The class texts come from the chosen description source; no label of a test clip is
used to score it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo
from dynapurls_ros.model.dynapurls import DynaPURLS
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.descriptions import ActionDescription
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.training.data import ClipSet, class_descriptions, load_clips, split_classes
from dynapurls_ros.training.metrics import (
    confusion_matrix,
    gzsl_accuracy,
    per_class_accuracy,
    save_confusion_png,
    top_k_accuracy,
)
from dynapurls_ros.training.windows import evaluation_windows


@torch.inference_mode()
def clip_logits(
    model: DynaPURLS,
    clips: Sequence[np.ndarray],
    class_text: torch.Tensor,
    window_length: int,
    batch_size: int = 256,
) -> np.ndarray:
    """Fused class logits ``(N, K)`` per clip, averaged over its evaluation windows."""
    model.eval()
    windows = [evaluation_windows(clip, window_length) for clip in clips]
    owner = np.repeat(np.arange(len(clips)), [len(w) for w in windows])
    stacked = torch.from_numpy(np.concatenate(windows))
    logits = torch.cat(
        [model(stacked[i : i + batch_size], class_text) for i in range(0, len(stacked), batch_size)]
    ).numpy()
    sums = np.zeros((len(clips), logits.shape[1]))
    np.add.at(sums, owner, logits)
    return sums / np.bincount(owner, minlength=len(clips))[:, None]


@dataclass
class EvalSetup:
    """Test clips, classes and texts of one evaluation."""

    clipset: ClipSet
    seen: list[int]
    unseen: list[int]
    descriptions: list[ActionDescription]


def prepare(
    info: RunInfo,
    datasets: Sequence[str],
    split: str | None,
    description_source: str,
    options: dict[str, dict[str, Any]] | None = None,
) -> EvalSetup:
    clipset, origin = load_clips(datasets, info.frame_rate, options)
    seen, unseen = split_classes(datasets[0], split, len(clipset.class_names))
    if split is None:  # a dataset the model never saw: all of its classes are unseen
        seen, unseen = [], list(range(len(clipset.class_names)))
    descriptions = class_descriptions(clipset.class_names, origin, description_source)
    return EvalSetup(clipset, seen, unseen, descriptions)


def evaluate(
    model: DynaPURLS,
    info: RunInfo,
    setup: EvalSetup,
    output_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of ``model`` on ``setup``; with ``output_dir``, also ``metrics.json`` and
    ``confusion.png`` there."""
    encoder = make_text_encoder(model.config.text_encoder, cache_dir=cache_dir() / "text")
    text = encode_descriptions(encoder, setup.descriptions)
    clips, labels, names = setup.clipset.clips, setup.clipset.labels, setup.clipset.class_names

    unseen_mask = np.isin(labels, setup.unseen)
    unseen_clips = [c for c, keep in zip(clips, unseen_mask, strict=True) if keep]
    remap = {cls: i for i, cls in enumerate(setup.unseen)}
    unseen_labels = np.array([remap[int(y)] for y in labels[unseen_mask]])
    logits = clip_logits(model, unseen_clips, text[setup.unseen], info.window_length)
    matrix = confusion_matrix(logits.argmax(1), unseen_labels, len(setup.unseen))
    unseen_names = [names[c] for c in setup.unseen]
    result: dict[str, Any] = {
        "classes": unseen_names,
        "num_clips": int(len(unseen_labels)),
        "top1": top_k_accuracy(logits, unseen_labels, 1),
        "top5": top_k_accuracy(logits, unseen_labels, 5),
        "per_class": dict(zip(unseen_names, per_class_accuracy(matrix).tolist(), strict=True)),
        "confusion": matrix.tolist(),
    }

    heldout = set(info.heldout)
    keys = [f"{d}/" for d in info.datasets]
    seen_test = np.array(
        [
            y in setup.seen and any(n.startswith(k) for k in keys) and n in heldout
            for y, n in zip(labels, setup.clipset.names, strict=True)
        ],
        dtype=bool,
    )
    if setup.seen and seen_test.any():
        test = seen_test | unseen_mask
        test_clips = [c for c, keep in zip(clips, test, strict=True) if keep]
        all_logits = clip_logits(model, test_clips, text, info.window_length)
        gzsl = gzsl_accuracy(all_logits, labels[test], setup.seen, setup.unseen)
        result["gzsl"] = {"seen": gzsl.seen, "unseen": gzsl.unseen, "harmonic": gzsl.harmonic}

    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result, indent=2))
        title = f"zero-shot top-1 {result['top1']:.1f}% on {len(unseen_names)} unseen classes"
        save_confusion_png(matrix, unseen_names, out / "confusion.png", title)
    return result
