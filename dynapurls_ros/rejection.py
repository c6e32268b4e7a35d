"""Open-set rejection: is the person doing any action of the vocabulary at all?

A softmax over the vocabulary is confident about anything: with three labels, standing
idle still gets one of them at 0.5. What says "none of these" is how well a window
matches each label *compared with how well other motions match that label*. Every
checkpoint carries reference motions: the unit global-slot vectors of up to
``REFERENCE_WINDOWS`` windows of its training clips. For a vocabulary of K labels,
label k's threshold is the ``level ** (1 / K)`` quantile of its scores (cosine between
the global description and the motion) over those references, and

    known_score = scale * max_k (cos(g, text_k) - threshold_k)

for a window with global vector ``g`` (``scale``: the global slot's learned
temperature, so the score is in logit units). Below 0 the window matches no label
better than the references do: "unknown".

Why these choices (``benchmarks/stream.py`` and docs/OUTPUT.md have the figures):

- the threshold is per label and relative, so it holds for labels the model never
  trained on, whose texts score lower on everything: an absolute threshold, or a
  comparison with a bank of other actions' descriptions, calibrated on the training
  classes, rejected almost every window of a zero-shot model's new classes;
- the quantile depends on K only: if the labels' scores on a motion outside the
  vocabulary were independent and distributed like the references', such a motion
  passes with probability ``1 - level``, whatever the vocabulary's size; no
  per-vocabulary tuning;
- only the global slot: one dot product per label and window.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS

# Windows of training clips whose global vectors a checkpoint keeps as references.
REFERENCE_WINDOWS = 512
# Share of out-of-vocabulary motions (distributed like the references) said "unknown".
DEFAULT_LEVEL = 0.5


@torch.no_grad()
def reference_motions(model: DynaPURLS, windows: torch.Tensor) -> torch.Tensor:
    """Unit global-slot vectors ``(N, d)`` of model inputs ``(N, 3, T, 25)``."""
    model.eval()
    vectors = [
        model.global_vector(model.tokens(windows[i : i + 64]).mean(dim=1))
        for i in range(0, len(windows), 64)
    ]
    return torch.cat(vectors)


def reference_scores(reference: torch.Tensor, label_global: torch.Tensor) -> torch.Tensor:
    """Each label's scores over the references, sorted ascending ``(N, K)``."""
    return (reference.float() @ label_global.T).sort(dim=0).values


def thresholds(sorted_scores: torch.Tensor, level: float) -> torch.Tensor:
    """Per-label thresholds ``(K,)``: the ``level ** (1/K)`` quantile (nearest rank)."""
    if not 0.0 <= level < 1.0:
        raise ValueError(f"rejection level must be in [0, 1), got {level}")
    count, labels = sorted_scores.shape
    rank = math.ceil(level ** (1.0 / labels) * count) - 1
    return sorted_scores[min(count - 1, max(0, rank))]


def known_scores(
    model: DynaPURLS, tokens: torch.Tensor, label_global: torch.Tensor, limits: torch.Tensor
) -> torch.Tensor:
    """``known_score`` ``(N,)`` of tokens ``(N, L, C)`` (see the module docstring)."""
    g = model.global_vector(tokens.mean(dim=1))
    return ((g @ label_global.T) - limits).amax(dim=1) * model.temperature()[GLOBAL_INDEX]


def pick_reference_windows(count: int, limit: int = REFERENCE_WINDOWS, seed: int = 0) -> np.ndarray:
    """Which of ``count`` clips give the references (all, or a seeded sample)."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))
