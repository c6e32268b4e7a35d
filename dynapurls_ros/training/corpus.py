"""Text-motion pre-training material: a motion corpus whose trials carry free text.

Labelled action datasets give a few dozen classes; a corpus such as CMU mocap gives
thousands of trials of many kinds of motion, each with a short description. Aligning
windows of those trials with their descriptions (through the model's global slot)
teaches the encoder and the global projection a far broader motion vocabulary than the
seen classes alone, which is what zero-shot recognition of new labels needs.

What such a corpus is like shapes this module:

- descriptions repeat with small variations ("walk", "walking"), so texts whose
  embeddings nearly coincide are treated as the same text: they count as positives of
  each other's samples instead of false negatives (:func:`same_text_mask`);
- descriptions are short action phrases ("walk", "punch/strike"), the same kind of text
  as a user's labels; both are framed by the same sentence before encoding
  (:func:`~dynapurls_ros.text.descriptions.label_only_description`'s global slot), so
  a label is compared with what the model learned in the form it learned it;
- every CMU subject was retargeted to one body, so body proportions never vary; each
  trial gets a random bone-length scaling per window (:func:`scale_bones`) so that the
  encoder does not learn one body's proportions;
- motion capture is smooth and has one skeleton model; depth-camera trackers jitter and
  place the spine joints their own way, so windows also get sensor noise
  (:func:`add_jitter`) and a random torso-to-limb ratio (:func:`scale_bones`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS
from dynapurls_ros.model.losses import multi_positive_contrastive
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS, NTU25_JOINTS
from dynapurls_ros.text.descriptions import label_only_description
from dynapurls_ros.text.encoder import make_text_encoder
from dynapurls_ros.training.windows import clips_for, random_window

DEFAULT_MERGE = 0.9  # MiniLM cosine above which two descriptions count as one text
BONE_SPREAD = 0.1  # bone lengths are scaled by a factor in [1 - spread, 1 + spread]
TORSO_RANGE = (0.65, 1.15)  # the spine's share of the body: log-uniform factor on its bones
MAX_JITTER = 0.03  # sensor noise: per-window std up to this, in torso lengths
DRIFT_SPAN = 9  # frames over which tracking wobble is correlated (0.3 s at 30 fps)
MAX_REPEATS = 3  # windows per trial and epoch, for the longest trials
SPAN_FACTOR = 2  # frames read per window frame: the slowest speed (0.8x) needs 1.25, plus margin


def _tree_order(parents: tuple[int, ...]) -> list[int]:
    """Joints ordered so that every parent comes before its children."""
    order = [j for j, p in enumerate(parents) if p < 0]
    for joint in order:  # grows while iterating: breadth-first
        order += [j for j, p in enumerate(parents) if p == joint]
    return order


CANONICAL_ORDER = _tree_order(CANONICAL_PARENTS)
SPINE_BONES = [NTU25_JOINTS.index(j) for j in ("spine_mid", "spine_shoulder")]  # by child


def scale_bones(
    clip: np.ndarray,
    rng: np.random.Generator,
    spread: float = BONE_SPREAD,
    torso_range: tuple[float, float] = TORSO_RANGE,
) -> np.ndarray:
    """``(T, 25, 3)`` canonical clip with every bone's length scaled by its own random
    factor (constant over the clip), rebuilt from the root outwards so that children
    follow their scaled parents; the root trajectory is unchanged.

    The two spine bones also share one factor from ``torso_range`` (log-uniform):
    windows are measured in torso lengths, and trackers place the spine joints
    differently (Kinect v1's hip centre sits high: NW-UCLA's legs measure 2.1 torso
    lengths, CMU's and GTU-3D's 1.4-1.6), so the corpus' single body must not teach the
    encoder one limb-to-torso ratio."""
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=len(CANONICAL_PARENTS))
    low, high = np.log(torso_range[0]), np.log(torso_range[1])
    factors[SPINE_BONES] *= float(np.exp(rng.uniform(low, high)))
    out = clip.copy()
    for joint in CANONICAL_ORDER:
        parent = CANONICAL_PARENTS[joint]
        if parent >= 0:
            out[:, joint] = out[:, parent] + factors[joint] * (clip[:, joint] - clip[:, parent])
    return out


def add_jitter(
    windows: np.ndarray, rng: np.random.Generator, max_std: float = MAX_JITTER
) -> np.ndarray:
    """Normalised windows ``(B, 3, T, V)`` plus white sensor noise, each window with its
    own std drawn from ``[0, max_std]`` torso lengths.

    Motion capture is smooth; depth-camera trackers are not (frame-to-frame
    acceleration of NW-UCLA joints is ~12x CMU's, GTU-3D's ~4x). An encoder that has
    only seen mocap reads that jitter as violent motion (NW-UCLA clips then retrieve
    CMU's hops and cartwheels), so corpus windows get a random amount of it."""
    std = rng.uniform(0.0, max_std, size=(len(windows), 1, 1, 1))
    return (windows + std * rng.standard_normal(windows.shape)).astype(np.float32)


def add_drift(
    windows: np.ndarray, rng: np.random.Generator, max_std: float, span: int = DRIFT_SPAN
) -> np.ndarray:
    """Normalised windows ``(B, 3, T, V)`` plus slow tracking wobble: every joint
    coordinate drifts by Gaussian noise averaged over ``span`` frames (rescaled to unit
    std), each window with its own std drawn from ``[0, max_std]`` torso lengths.

    White jitter changes a joint frame by frame; a depth tracker also misplaces joints
    for several frames at a time, so bone lengths wobble within a clip (their std is
    10.4 % of the length in NW-UCLA, 3.4 % in GTU-3D, 0.1 % in CMU, whose bodies are
    retargeted and rigid: ``benchmarks/tracking_noise.py``)."""
    b, c, t, v = windows.shape
    noise = rng.standard_normal((b, c, t + span - 1, v))
    sums = np.cumsum(noise, axis=2)
    sums = np.concatenate([np.zeros((b, c, 1, v)), sums], axis=2)
    smooth = (sums[:, :, span:] - sums[:, :, :-span]) / np.sqrt(span)  # unit std
    std = rng.uniform(0.0, max_std, size=(b, 1, 1, 1))
    return (windows + std * smooth).astype(np.float32)


def same_text_mask(embeddings: torch.Tensor, threshold: float) -> torch.Tensor:
    """``(M, M)`` bool: pairs of unit text embeddings with cosine >= ``threshold``
    (the diagonal is always set)."""
    same = embeddings @ embeddings.T >= threshold
    return same | torch.eye(len(embeddings), dtype=torch.bool)


@dataclass
class TextMotionCorpus:
    """Canonical clips at the model rate, each with the index of its text."""

    name: str
    clips: list[np.ndarray]
    text_ids: np.ndarray  # (N,) into texts
    texts: list[str]
    embeddings: torch.Tensor  # (M, d) unit text embeddings
    same_text: torch.Tensor  # (M, M) bool, see same_text_mask
    drift: float = 0.0  # max std of the slow tracking wobble (add_drift); 0 = none

    def epoch(self, window_length: int, rng: np.random.Generator) -> np.ndarray:
        """Shuffled clip indices of one epoch; a long trial appears once per ten
        windows of length, at most ``MAX_REPEATS`` times (each time a new crop)."""
        lengths = np.array([len(c) for c in self.clips])
        repeats = np.clip(lengths // (10 * window_length), 1, MAX_REPEATS)
        return rng.permutation(np.repeat(np.arange(len(self.clips)), repeats))

    def to(self, device: torch.device | str) -> TextMotionCorpus:
        """The same corpus with its text tensors on ``device`` (clips stay numpy)."""
        return replace(
            self, embeddings=self.embeddings.to(device), same_text=self.same_text.to(device)
        )

    def windows(
        self, index: np.ndarray, window_length: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Normalised model inputs ``(B, 3, T, 25)`` of random, bone-scaled windows.

        Each trial is first cut to the span the slowest playback speed needs (bone
        scaling is per frame, so cutting first gives the same windows for a fraction
        of the work on long trials)."""
        span = SPAN_FACTOR * window_length + 1
        crops = []
        for i in index:
            clip = self.clips[i]
            if len(clip) > span:
                start = int(rng.integers(0, len(clip) - span + 1))
                clip = clip[start : start + span]
            crops.append(random_window(scale_bones(clip, rng), window_length, rng))
        windows = add_jitter(np.stack(crops), rng)
        return add_drift(windows, rng, self.drift) if self.drift > 0 else windows

    def loss(self, model: DynaPURLS, mean_tokens: torch.Tensor, index: np.ndarray) -> torch.Tensor:
        """Contrastive loss of the global projection of ``mean_tokens`` ``(B, C)`` (the
        mean token of each window of clips ``index``) against the batch's texts."""
        ids = torch.from_numpy(self.text_ids[index]).to(self.embeddings.device)
        unique = torch.unique(ids)
        logits = model.global_logits(mean_tokens, self.embeddings[unique])
        return multi_positive_contrastive(logits, self.same_text[ids][:, unique])


def load_corpus(
    name: str,
    frame_rate: float,
    text_encoder: str,
    merge_threshold: float = DEFAULT_MERGE,
    options: Mapping[str, Any] | None = None,
) -> TextMotionCorpus:
    """Dataset ``name`` (its class names are the trials' descriptions) as a corpus,
    with its texts encoded by ``text_encoder`` (cached on disk)."""
    dataset = load_dataset(name, **(options or {}))
    encoder = make_text_encoder(text_encoder, cache_dir=cache_dir() / "text")
    framed = [label_only_description(text).texts[GLOBAL_INDEX] for text in dataset.class_names]
    embeddings = F.normalize(encoder.encode(framed).float(), dim=-1)
    return TextMotionCorpus(
        name=name,
        clips=clips_for(dataset.samples, dataset.layout, frame_rate),
        text_ids=np.array([s.label for s in dataset.samples], dtype=np.int64),
        texts=list(dataset.class_names),
        embeddings=embeddings,
        same_text=same_text_mask(embeddings, merge_threshold),
    )
