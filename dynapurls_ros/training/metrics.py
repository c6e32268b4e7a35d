"""Zero-shot evaluation metrics: top-k, per-class accuracy, GZSL harmonic mean.

Kept free of torch and of any model so that the same numbers can be computed from
saved score matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def top_k_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Percentage of rows whose true label is among the k highest scores."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or len(scores) != len(labels):
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} do not match")
    if len(labels) == 0:
        raise ValueError("no samples to score")
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(100.0 * np.mean(np.any(top == labels[:, None], axis=1)))


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class in percent (NaN for a class with no samples)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * np.diag(matrix) / totals


def harmonic_mean(seen: float, unseen: float) -> float:
    return 0.0 if seen + unseen == 0 else 2.0 * seen * unseen / (seen + unseen)


@dataclass(frozen=True)
class GZSLResult:
    """Generalised zero-shot: every test sample is scored against seen + unseen classes."""

    seen: float
    unseen: float
    harmonic: float


def gzsl_accuracy(
    scores: np.ndarray,
    labels: np.ndarray,
    seen_classes: Sequence[int],
    unseen_classes: Sequence[int],
) -> GZSLResult:
    """Top-1 over all classes, averaged separately over seen- and unseen-class samples.

    `scores` has one column per class of the full label space; `labels` index it.
    """
    predicted = np.asarray(scores).argmax(axis=1)
    labels = np.asarray(labels)
    correct = predicted == labels

    def mean_over(classes: Sequence[int]) -> float:
        mask = np.isin(labels, list(classes))
        return float(100.0 * correct[mask].mean()) if mask.any() else float("nan")

    seen, unseen = mean_over(seen_classes), mean_over(unseen_classes)
    return GZSLResult(seen, unseen, harmonic_mean(seen, unseen))


def save_confusion_png(
    matrix: np.ndarray, class_names: Sequence[str], path: Path, title: str
) -> None:
    """Row-normalised confusion matrix as a PNG, with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = np.where(rows > 0, matrix / np.maximum(rows, 1), 0.0)
    size = max(4.0, 0.55 * len(class_names) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(class_names)), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if normalised[i, j] > 0.5 else "black"
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
