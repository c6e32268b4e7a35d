"""Streaming evaluation of the online refinement on a labelled test set.

The unseen clips of a split are streamed in a shuffled order (or class by class,
``blocked``, as a robot sees one action for a long stretch) through a
:class:`~dynapurls_ros.refinement.refiner.TextRefiner`; each batch is predicted with the
texts refined so far and then observed, as the live recognizer does. Top-1 of those
online predictions is compared with the encoded texts' top-1 on the same clips. Slot
features do not depend on the refinement, so they are computed once per stream
(:func:`stream_features`) and every order replays them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo
from dynapurls_ros.model.dynapurls import Candidates, DynaPURLS
from dynapurls_ros.refinement.refiner import RefinementConfig, TextRefiner
from dynapurls_ros.training.evaluate import (
    EvalSetup,
    class_texts,
    clip_means,
    stacked_windows,
    unseen_test,
)
from dynapurls_ros.training.metrics import confusion_matrix, per_class_accuracy


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
    candidates = model.prepare(class_texts(model, setup).select(setup.unseen).first)
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
