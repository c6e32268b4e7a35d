"""Open-set rejection: is the person doing any action of the vocabulary at all?

A softmax over the vocabulary is confident about anything: with three labels, standing
idle still gets one of them at 0.5. What says "none of these" is a comparison with the
actions the vocabulary does *not* hold. The recognizer keeps a fixed *background* of
general actions (the shipped NTU-120, everyday and AVA bank entries, standing and
waiting among them) and scores each window's global motion vector against both:

    margin = scale * (max_k cos(g, vocabulary_k) - max_b cos(g, background_b))

with ``g`` the window's unit global-slot vector and the texts the global descriptions.
A window whose best vocabulary label explains it less well than some background action
gets a low margin. Only the global slot is used: it is one dot product per background
entry (the part/phase slots would pool the tokens once per entry, ~300 times the cost),
and on the default model's data it separates nearly as well (``benchmarks/stream.py``).

Background entries that mean the same as a vocabulary label are left out for that
vocabulary (name or synonym within ``SAME_ACTION_COSINE`` of the label, or the very
description the label resolved to), so "wave" is never rejected for looking like
"hand waving".

The threshold is calibrated per checkpoint from its own training data, with no test
data and no per-vocabulary tuning (:func:`calibrate`): vocabularies are drawn from the
seen classes, each training clip is scored once with its class in the vocabulary and
once with it held out, and the threshold keeps ``KEEP_SHARE`` of the windows that are
labelled correctly while in the vocabulary. The result is stored in the checkpoint's
run info (``rejection``); a checkpoint without it uses ``DEFAULT_THRESHOLD`` (a window
is unknown when a background action beats every label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS
from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.descriptions import GLOBAL_SLOT, ActionDescription
from dynapurls_ros.text.encoder import TextEncoder
from dynapurls_ros.text.resolve import entry_names, load_bank_cached

# Banks of general, whole-body everyday actions (the background a robot meets).
BACKGROUND_BANKS = ("ntu120.yaml", "everyday.yaml", "ava.yaml")
# Names this close (MiniLM cosine) are the same action: the benchmarks' "new class" rule.
SAME_ACTION_COSINE = 0.67
# Share of correctly labelled in-vocabulary training windows the threshold keeps.
KEEP_SHARE = 0.9
# Without a calibration: unknown exactly when a background action beats every label.
DEFAULT_THRESHOLD = 0.0
# Vocabulary sizes the calibration draws (a robot's vocabularies are small).
CALIBRATION_SIZES = (3, 5, 8)


@dataclass(frozen=True)
class Background:
    """The background actions: labels, unit global-description vectors ``(B, d)`` and,
    per entry, its unit name vectors (label and synonyms) as a ``(B, M, d)`` tensor
    padded with zeros."""

    labels: tuple[str, ...]
    global_text: torch.Tensor
    names: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def same_action(self, label_vectors: torch.Tensor, label_global: torch.Tensor) -> torch.Tensor:
        """``(K, B)``: background entry b is label k (a name or synonym within
        ``SAME_ACTION_COSINE`` of its name, or the very global description it uses).

        ``label_vectors``: unit name vectors of the labels ``(K, d)``; ``label_global``:
        unit global descriptions the labels were encoded with ``(K, d)``.
        """
        name_cos = torch.einsum("kd,bmd->kbm", label_vectors, self.names).amax(dim=2)
        return (name_cos >= SAME_ACTION_COSINE) | (label_global @ self.global_text.T > 0.999)

    def excluding(self, label_vectors: torch.Tensor, label_global: torch.Tensor) -> torch.Tensor:
        """Global vectors ``(B', d)`` of the entries that are none of the labels."""
        return self.global_text[~self.same_action(label_vectors, label_global).any(dim=0)]


def background_descriptions(banks: Sequence[str] = BACKGROUND_BANKS) -> list[ActionDescription]:
    """The background entries, each once (first bank wins), in bank order."""
    seen: dict[str, ActionDescription] = {}
    for name in banks:
        for label, description in load_bank_cached(
            Path(config_dir()) / "descriptions" / name
        ).items():
            seen.setdefault(label, description)
    return list(seen.values())


def load_background(encoder: TextEncoder, banks: Sequence[str] = BACKGROUND_BANKS) -> Background:
    """Encode the background's global descriptions and names (shipped index: fast)."""
    descriptions = background_descriptions(banks)
    global_text = F.normalize(encoder.encode([d[GLOBAL_SLOT] for d in descriptions]), dim=-1)
    names = [list(entry_names(d)) for d in descriptions]
    width = max(len(n) for n in names)
    flat = F.normalize(encoder.encode([n for group in names for n in group]), dim=-1)
    padded = torch.zeros(len(descriptions), width, flat.shape[1])
    start = 0
    for i, group in enumerate(names):
        padded[i, : len(group)] = flat[start : start + len(group)]
        start += len(group)
    return Background(tuple(d.label for d in descriptions), global_text, padded)


def margins(
    model: DynaPURLS,
    tokens: torch.Tensor,
    vocabulary_global: torch.Tensor,
    background: torch.Tensor,
) -> torch.Tensor:
    """Rejection margins ``(N,)`` of tokens ``(N, L, C)``: see the module docstring.

    ``vocabulary_global``: unit global descriptions of the labels ``(K, d)``;
    ``background``: the kept background's ``(B', d)`` (may be empty: margin = best score).
    """
    g = model.global_vector(tokens.mean(dim=1))
    best = (g @ vocabulary_global.T).amax(dim=1)
    if len(background):
        best = best - (g @ background.T).amax(dim=1)
    return best * model.temperature()[GLOBAL_INDEX]


@dataclass(frozen=True)
class Calibration:
    """A checkpoint's rejection threshold and how it was found."""

    threshold: float
    keep_share: float
    windows: int

    def to_dict(self) -> dict[str, float]:
        return {"threshold": self.threshold, "keep_share": self.keep_share, "windows": self.windows}


@torch.no_grad()
def calibrate(
    model: DynaPURLS,
    windows: torch.Tensor,
    labels: np.ndarray,
    groups: np.ndarray,
    class_text: torch.Tensor,
    label_vectors: torch.Tensor,
    background: Background,
    keep_share: float = KEEP_SHARE,
    trials: int = 4000,
    seed: int = 0,
) -> Calibration:
    """Threshold keeping ``keep_share`` of the correctly labelled in-vocabulary windows.

    ``windows``: model inputs ``(N, 3, T, 25)`` of training clips with class ``labels``;
    ``groups``: per class, the dataset it comes from (vocabularies are drawn within one
    dataset, whose classes do not repeat each other); ``class_text``: the classes'
    encoded descriptions ``(K, 8, d)``; ``label_vectors``: their unit name vectors.
    """
    model.eval()
    candidates = model.prepare(class_text)
    unit_global = candidates.text[:, GLOBAL_INDEX]
    fused, global_vecs = [], []
    for start in range(0, len(windows), 64):
        tokens = model.tokens(windows[start : start + 64])
        fused.append(model.fuse(model.token_similarities(tokens, candidates)))
        global_vecs.append(model.global_vector(tokens.mean(dim=1)))
    fused_all, g = torch.cat(fused), torch.cat(global_vecs)
    scale = float(model.temperature()[GLOBAL_INDEX])
    vocab_cos = (g @ unit_global.T).numpy()
    same = background.same_action(label_vectors, unit_global).numpy()
    background_cos = (g @ background.global_text.T).numpy()
    rng = np.random.default_rng(seed)
    kept: list[float] = []
    for _ in range(trials):
        i = int(rng.integers(len(labels)))
        own = int(labels[i])
        pool = np.flatnonzero((groups == groups[own]) & (np.arange(len(groups)) != own))
        size = min(int(rng.choice(CALIBRATION_SIZES)), len(pool) + 1)
        vocabulary = np.concatenate([[own], rng.choice(pool, size - 1, replace=False)])
        if vocabulary[fused_all[i, vocabulary].argmax()] != own:
            continue  # wrong anyway: rejecting it loses nothing
        rivals = background_cos[i, ~same[vocabulary].any(axis=0)]
        margin = vocab_cos[i, vocabulary].max() - (rivals.max() if rivals.size else 0.0)
        kept.append(scale * float(margin))
    if not kept:
        raise ValueError("calibration: no training window is labelled correctly")
    threshold = float(np.quantile(kept, 1.0 - keep_share))
    return Calibration(threshold, keep_share, len(kept))
