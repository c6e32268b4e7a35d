"""Zero-shot evaluation of a checkpoint on the unseen classes of a split.

ZSL: every unseen-class clip is scored against the unseen classes only (top-1, top-5,
per-class accuracy, confusion matrix). GZSL: the unseen clips and the seen clips the
training run held out are scored against all classes; seen, unseen and harmonic mean.
The class texts come from the chosen description source; no label of a test clip is
used to score it. (Streaming evaluation with online refinement is
:mod:`dynapurls_ros.refinement.stream`.)
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
from dynapurls_ros.text.descriptions import ActionDescription
from dynapurls_ros.training.data import ClipSet, load_clips, split_classes
from dynapurls_ros.training.metrics import (
    confusion_matrix,
    gzsl_accuracy,
    per_class_accuracy,
    save_confusion_png,
    top_k_accuracy,
)
from dynapurls_ros.training.texts import ClassTexts, encode_class_texts, phrasings
from dynapurls_ros.training.windows import evaluation_windows


def stacked_windows(
    clips: Sequence[np.ndarray], window_length: int
) -> tuple[torch.Tensor, np.ndarray]:
    """Evaluation windows of all clips ``(W, 3, T, 25)`` and the clip each belongs to."""
    windows = [evaluation_windows(clip, window_length) for clip in clips]
    owner = np.repeat(np.arange(len(clips)), [len(w) for w in windows])
    return torch.from_numpy(np.concatenate(windows)), owner


def phrasing_logits(model: DynaPURLS, tokens: torch.Tensor, texts: ClassTexts) -> torch.Tensor:
    """Class logits ``(N, K)`` of tokens, each class's logit the mean over its phrasings
    (one phrasing: the plain logit)."""
    total = torch.zeros(len(tokens), len(texts.counts))
    for r in range(texts.variants.shape[1]):
        used = (texts.counts > r).to(total)
        total += model.fuse(model.token_similarities(tokens, texts.variants[:, r])) * used
    return total / texts.counts.to(total)


@torch.inference_mode()
def clip_logits(
    model: DynaPURLS,
    clips: Sequence[np.ndarray],
    texts: ClassTexts,
    window_length: int,
    batch_size: int = 256,
) -> np.ndarray:
    """Fused class logits ``(N, K)`` per clip, averaged over its evaluation windows (and
    over each class's phrasings)."""
    model.eval()
    stacked, owner = stacked_windows(clips, window_length)
    logits = torch.cat(
        [
            phrasing_logits(model, model.tokens(stacked[i : i + batch_size]), texts)
            for i in range(0, len(stacked), batch_size)
        ]
    )
    return clip_means(logits.double(), np.bincount(owner, minlength=len(clips))).numpy()


def clip_means(window_values: torch.Tensor, counts: np.ndarray) -> torch.Tensor:
    """Per-clip means ``(C, ...)`` of per-window values ``(W, ...)`` when clip ``c`` owns
    the next ``counts[c]`` windows (a clip is scored by its windows' mean logits)."""
    owner = torch.from_numpy(np.repeat(np.arange(len(counts)), counts))
    sums = torch.zeros(len(counts), *window_values.shape[1:], dtype=window_values.dtype)
    sums.index_add_(0, owner, window_values)
    return sums / torch.from_numpy(counts).to(sums).view(-1, *[1] * (sums.dim() - 1))


@dataclass
class EvalSetup:
    """Test clips, classes and texts of one evaluation."""

    clipset: ClipSet
    seen: list[int]
    unseen: list[int]
    descriptions: list[list[ActionDescription]]  # the phrasings of every class


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
    descriptions = phrasings(clipset.class_names, origin, description_source)
    return EvalSetup(clipset, seen, unseen, descriptions)


def class_texts(model: DynaPURLS, setup: EvalSetup) -> ClassTexts:
    """The phrasings of all classes of ``setup`` in the model's text space."""
    return encode_class_texts(setup.descriptions, model.config.text_encoder)


def unseen_test(setup: EvalSetup) -> tuple[list[np.ndarray], np.ndarray]:
    """The unseen-class clips and their labels as indices into ``setup.unseen``."""
    labels = setup.clipset.labels
    mask = np.isin(labels, setup.unseen)
    clips = [c for c, keep in zip(setup.clipset.clips, mask, strict=True) if keep]
    remap = {cls: i for i, cls in enumerate(setup.unseen)}
    return clips, np.array([remap[int(y)] for y in labels[mask]], dtype=np.int64)


def evaluate(
    model: DynaPURLS,
    info: RunInfo,
    setup: EvalSetup,
    output_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of ``model`` on ``setup``; with ``output_dir``, also ``metrics.json`` and
    ``confusion.png`` there."""
    texts = class_texts(model, setup)
    clips, labels, names = setup.clipset.clips, setup.clipset.labels, setup.clipset.class_names

    unseen_mask = np.isin(labels, setup.unseen)
    unseen_clips, unseen_labels = unseen_test(setup)
    logits = clip_logits(model, unseen_clips, texts.select(setup.unseen), info.window_length)
    matrix = confusion_matrix(logits.argmax(1), unseen_labels, len(setup.unseen))
    unseen_names = [names[c] for c in setup.unseen]
    result: dict[str, Any] = {
        "classes": unseen_names,
        "num_clips": int(len(unseen_labels)),
        # what the data gave that could not be scored as it was (docs/DATA.md)
        "num_skipped": len(setup.clipset.skipped),
        "num_repaired": len(setup.clipset.repaired),
        "num_short": sum(len(clip) < info.window_length for clip in unseen_clips),
        "skipped": [{"clip": n, "reason": why} for n, why in setup.clipset.skipped],
        "repaired": [{"clip": n, "repair": what} for n, what in setup.clipset.repaired],
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
        all_logits = clip_logits(model, test_clips, texts, info.window_length)
        gzsl = gzsl_accuracy(all_logits, labels[test], setup.seen, setup.unseen)
        result["gzsl"] = {"seen": gzsl.seen, "unseen": gzsl.unseen, "harmonic": gzsl.harmonic}

    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result, indent=2))
        title = f"zero-shot top-1 {result['top1']:.1f}% on {len(unseen_names)} unseen classes"
        save_confusion_png(matrix, unseen_names, out / "confusion.png", title)
    return result
