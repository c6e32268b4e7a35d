"""Zero-shot evaluation of a checkpoint on the unseen classes of a split.

ZSL: every unseen-class clip is scored against the unseen classes only (top-1, top-5,
per-class accuracy, confusion matrix). GZSL: the unseen clips and the seen clips the
training run held out are scored against all classes; seen, unseen and harmonic mean.
The class texts come from the chosen description source; no label of a test clip is
used to score it.

Refinement (``evaluate_refinement``): the unseen clips are streamed in a shuffled order
(or class by class: ``blocked``, as a robot sees one action for a long stretch)
through a :class:`~dynapurls_ros.refinement.TextRefiner`, each batch predicted with the
texts as refined so far and then observed, as the live recognizer does; top-1 of those
online predictions is compared with the encoded texts' top-1 on the same clips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo
from dynapurls_ros.model.dynapurls import Candidates, DynaPURLS
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.refinement import RefinementConfig, TextRefiner
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


def stacked_windows(
    clips: Sequence[np.ndarray], window_length: int
) -> tuple[torch.Tensor, np.ndarray]:
    """Evaluation windows of all clips ``(W, 3, T, 25)`` and the clip each belongs to."""
    windows = [evaluation_windows(clip, window_length) for clip in clips]
    owner = np.repeat(np.arange(len(clips)), [len(w) for w in windows])
    return torch.from_numpy(np.concatenate(windows)), owner


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
    stacked, owner = stacked_windows(clips, window_length)
    logits = torch.cat(
        [model(stacked[i : i + batch_size], class_text) for i in range(0, len(stacked), batch_size)]
    )
    return clip_means(logits.double(), np.bincount(owner, minlength=len(clips))).numpy()


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


def class_text(model: DynaPURLS, setup: EvalSetup) -> torch.Tensor:
    """``(K, 8, d)`` texts of all classes of ``setup`` in the model's text space."""
    encoder = make_text_encoder(model.config.text_encoder, cache_dir=cache_dir() / "text")
    return encode_descriptions(encoder, setup.descriptions)


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
    text = class_text(model, setup)
    clips, labels, names = setup.clipset.clips, setup.clipset.labels, setup.clipset.class_names

    unseen_mask = np.isin(labels, setup.unseen)
    unseen_clips, unseen_labels = unseen_test(setup)
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


@dataclass
class StreamFeatures:
    """Slot features of every evaluation window of a test stream (computed once: they
    do not depend on the refinement); clip c owns windows ``starts[c]`` to
    ``starts[c] + counts[c]``; clip labels."""

    features: torch.Tensor
    starts: np.ndarray
    counts: np.ndarray
    labels: np.ndarray

    def windows_of(self, clips: np.ndarray) -> np.ndarray:
        """Indices of the windows of ``clips``, clip by clip."""
        spans = zip(self.starts[clips], self.counts[clips], strict=True)
        return np.concatenate([np.arange(s, s + n) for s, n in spans])


def _first_windows(counts: np.ndarray) -> np.ndarray:
    """Index of each clip's first window when clips own ``counts`` consecutive windows."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


@torch.inference_mode()
def stream_features(
    model: DynaPURLS,
    candidates: Candidates,
    clips: Sequence[np.ndarray],
    labels: np.ndarray,
    window_length: int,
    batch_size: int = 256,
) -> StreamFeatures:
    model.eval()
    stacked, owner = stacked_windows(clips, window_length)
    parts = [
        model.slot_features(model.tokens(stacked[i : i + batch_size]), candidates)
        for i in range(0, len(stacked), batch_size)
    ]
    counts = np.bincount(owner, minlength=len(clips))
    return StreamFeatures(torch.cat(parts).clone(), _first_windows(counts), counts, labels)


def sub_vocabulary(
    candidates: Candidates, stream: StreamFeatures, classes: Sequence[int]
) -> tuple[Candidates, StreamFeatures]:
    """The same test stream with a smaller vocabulary: only ``classes`` (indices into
    ``candidates``) are candidates, only their clips are streamed, labels renumbered in
    the order given. Exact, not an approximation: a class's slot features depend only on
    its own attention queries, so they are the cached ones."""
    index = list(classes)
    if len(set(index)) != len(index) or not all(0 <= c < len(candidates) for c in index):
        raise ValueError(f"sub_vocabulary(): classes {index} are not distinct candidates")
    keep = np.flatnonzero(np.isin(stream.labels, index))
    counts = stream.counts[keep]
    windows = stream.windows_of(keep)
    renumber = {c: i for i, c in enumerate(index)}
    labels = np.array([renumber[int(y)] for y in stream.labels[keep]], dtype=np.int64)
    features = stream.features[torch.from_numpy(windows)][:, index]
    sub = Candidates(candidates.text[index], candidates.queries[index])
    return sub, StreamFeatures(features, _first_windows(counts), counts, labels)


def clip_means(window_values: torch.Tensor, counts: np.ndarray) -> torch.Tensor:
    """Per-clip means ``(C, ...)`` of per-window values ``(W, ...)`` when clip ``c`` owns
    the next ``counts[c]`` windows (a clip is scored by its windows' mean logits)."""
    owner = torch.from_numpy(np.repeat(np.arange(len(counts)), counts))
    sums = torch.zeros(len(counts), *window_values.shape[1:], dtype=window_values.dtype)
    sums.index_add_(0, owner, window_values)
    return sums / torch.from_numpy(counts).to(sums).view(-1, *[1] * (sums.dim() - 1))


def stream_predictions(
    refiner: TextRefiner, stream: StreamFeatures, order: np.ndarray, batch_clips: int
) -> np.ndarray:
    """Online predictions, one per clip (indexed like ``stream.labels``): clips arrive in
    ``order``, ``batch_clips`` at a time; each batch is scored with the texts refined so
    far (a clip's logits are the mean of its windows'), then every window is observed
    with its clip's probabilities."""
    predicted = np.full(len(stream.labels), -1, dtype=np.int64)
    for first in range(0, len(order), batch_clips):
        batch = order[first : first + batch_clips]
        counts = stream.counts[batch]
        windows = stream.windows_of(batch)
        features = stream.features[windows]
        logits = clip_means(refiner.logits(features), counts)
        predicted[batch] = logits.argmax(1).numpy()
        refiner.observe(
            features, logits.softmax(dim=1).repeat_interleave(torch.from_numpy(counts), 0)
        )
    return predicted


def class_top1(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> list[float]:
    """Per-class top-1 (%) as a JSON-ready list (NaN for a class with no clips)."""
    return per_class_accuracy(confusion_matrix(predicted, labels, num_classes)).tolist()


STREAM_ORDERS = ("shuffled", "blocked")


def stream_order(labels: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Clip indices in the order a stream shows them. ``shuffled``: a random
    permutation; ``blocked``: all clips of one class, then all of the next (classes and
    the clips within each in random order) -- what a robot sees when people keep doing
    one action for a while, and the case in which a stream's own class histogram says
    nothing about the vocabulary's."""
    rng = np.random.default_rng(seed)
    if kind == "shuffled":
        return rng.permutation(len(labels))
    if kind == "blocked":
        classes = rng.permutation(np.unique(labels))
        return np.concatenate([rng.permutation(np.flatnonzero(labels == c)) for c in classes])
    raise ValueError(f"stream order must be one of {STREAM_ORDERS}, got {kind!r}")


def stream_orders(
    model: DynaPURLS,
    candidates: Candidates,
    stream: StreamFeatures,
    config: RefinementConfig,
    orders: int = 5,
    stream_batch: int = 1,
    kind: str = "shuffled",
) -> tuple[float, list[dict[str, Any]]]:
    """Top-1 with the encoded texts, and one row per stream order (seed ``i``, see
    :func:`stream_order`) with the online top-1 under refinement and its per-class top-1
    (``class_top1``; a gain in top-1 can come from dropping a class, which this shows)."""
    if orders < 1 or stream_batch < 1:
        raise ValueError("need at least one stream order and a stream batch of >= 1 clip")
    everything = np.arange(len(stream.labels))
    k = candidates.text.shape[0]
    fixed = TextRefiner(model, candidates, replace(config, enabled=False))
    encoded = stream_predictions(fixed, stream, everything, len(everything))
    baseline = 100.0 * float(np.mean(encoded == stream.labels))
    encoded_classes = class_top1(encoded, stream.labels, k)
    rows = []
    for seed in range(orders):
        refiner = TextRefiner(model, candidates, replace(config, enabled=True))
        order = stream_order(stream.labels, kind, seed)
        predicted = stream_predictions(refiner, stream, order, stream_batch)
        top1 = 100.0 * float(np.mean(predicted == stream.labels))
        rows.append(
            {
                "order": seed,
                "top1": top1,
                "delta": top1 - baseline,
                "class_top1": class_top1(predicted, stream.labels, k),
                "class_top1_encoded": encoded_classes,
                **refiner.stats(),
            }
        )
    return baseline, rows


def evaluate_refinement(
    model: DynaPURLS,
    info: RunInfo,
    setup: EvalSetup,
    config: RefinementConfig,
    orders: int = 5,
    stream_batch: int = 1,
    kind: str = "shuffled",
) -> dict[str, Any]:
    """Top-1 on the unseen classes without and with online refinement, for ``orders``
    stream orders of ``kind`` (:func:`stream_order`, seeds 0..orders-1)."""
    candidates = model.prepare(class_text(model, setup)[setup.unseen])
    clips, labels = unseen_test(setup)
    stream = stream_features(model, candidates, clips, labels, info.window_length)
    baseline, rows = stream_orders(model, candidates, stream, config, orders, stream_batch, kind)
    return {
        "num_clips": int(len(labels)),
        "top1_encoded": baseline,
        "orders": rows,
        "config": config.to_dict(),
        "stream_batch": stream_batch,
        "stream": kind,
    }
