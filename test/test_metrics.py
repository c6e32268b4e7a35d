"""Evaluation metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from dynapurls_ros.training.metrics import (
    confusion_matrix,
    gzsl_accuracy,
    harmonic_mean,
    per_class_accuracy,
    save_confusion_png,
    top_k_accuracy,
)

SCORES = np.array(
    [
        [0.9, 0.05, 0.05],  # true 0, top1 0
        [0.5, 0.4, 0.1],  # true 1, top1 0, top2 has 1
        [0.1, 0.2, 0.7],  # true 2, top1 2
        [0.3, 0.3, 0.4],  # true 0, top1 2, top2 ambiguous
    ]
)
LABELS = np.array([0, 1, 2, 0])


def test_top_k() -> None:
    assert top_k_accuracy(SCORES, LABELS, 1) == pytest.approx(50.0)
    assert top_k_accuracy(SCORES, LABELS, 2) >= 75.0
    assert top_k_accuracy(SCORES, LABELS, 5) == pytest.approx(100.0)  # k capped at classes


def test_top_k_rejects_mismatch_and_empty() -> None:
    with pytest.raises(ValueError, match="do not match"):
        top_k_accuracy(SCORES, LABELS[:2], 1)
    with pytest.raises(ValueError, match="no samples"):
        top_k_accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int), 1)


def test_confusion_and_per_class() -> None:
    matrix = confusion_matrix(SCORES.argmax(1), LABELS, 3)
    assert matrix.tolist() == [[1, 0, 1], [1, 0, 0], [0, 0, 1]]
    assert per_class_accuracy(matrix).tolist() == [50.0, 0.0, 100.0]


def test_gzsl_harmonic_mean() -> None:
    result = gzsl_accuracy(SCORES, LABELS, seen_classes=[0], unseen_classes=[1, 2])
    assert result.seen == pytest.approx(50.0)
    assert result.unseen == pytest.approx(50.0)
    assert result.harmonic == pytest.approx(50.0)
    assert harmonic_mean(0.0, 80.0) == 0.0
    assert harmonic_mean(60.0, 40.0) == pytest.approx(48.0)


def test_confusion_png_is_written(tmp_path) -> None:
    path = tmp_path / "cm.png"
    save_confusion_png(np.array([[3, 1], [0, 4]]), ["wave", "clap"], path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
