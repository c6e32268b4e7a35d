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
  (:func:`add_jitter`) and a random torso-to-limb ratio (:func:`scale_bones`);
- a trial may carry more than one text (CMU's own description and, for 654 trials, a
  crowd-sourced KIT Motion-Language sentence): all of them are its positives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.datasets.cmu_mocap import kitml_texts
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS
from dynapurls_ros.model.losses import multi_positive_contrastive
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.descriptions import label_only_description
from dynapurls_ros.text.encoder import make_text_encoder
from dynapurls_ros.training.augment import add_jitter, scale_bones
from dynapurls_ros.training.windows import clips_for, random_window

DEFAULT_MERGE = 0.9  # MiniLM cosine above which two descriptions count as one text
MAX_REPEATS = 3  # windows per trial and epoch, for the longest trials
SPAN_FACTOR = 2  # frames read per window frame: the slowest speed (0.8x) needs 1.25, plus margin
CORPUS_WEIGHT = 1.0  # weight of the corpus loss against the labelled-data losses
# Readers of further sentences for a corpus' trials (trial name -> texts).
EXTRA_TEXTS: dict[str, Callable[..., dict[str, tuple[str, ...]]]] = {"cmu_mocap": kitml_texts}


def same_text_mask(embeddings: torch.Tensor, threshold: float) -> torch.Tensor:
    """``(M, M)`` bool: pairs of unit text embeddings with cosine >= ``threshold``
    (the diagonal is always set)."""
    same = embeddings @ embeddings.T >= threshold
    return same | torch.eye(len(embeddings), dtype=torch.bool)


@dataclass
class TextMotionCorpus:
    """Canonical clips at the model rate and the texts that describe each of them."""

    name: str
    clips: list[np.ndarray]
    texts: list[str]
    embeddings: torch.Tensor  # (M, d) unit text embeddings
    own: torch.Tensor  # (N, M) bool: the texts written for each clip
    positives: torch.Tensor  # (N, M) bool: own texts and every text merged with one

    def epoch(self, window_length: int, rng: np.random.Generator) -> np.ndarray:
        """Shuffled clip indices of one epoch; a long trial appears once per ten
        windows of length, at most ``MAX_REPEATS`` times (each time a new crop)."""
        lengths = np.array([len(c) for c in self.clips])
        repeats = np.clip(lengths // (10 * window_length), 1, MAX_REPEATS)
        return rng.permutation(np.repeat(np.arange(len(self.clips)), repeats))

    def to(self, device: torch.device | str) -> TextMotionCorpus:
        """The same corpus with its text tensors on ``device`` (clips stay numpy)."""
        return replace(
            self,
            embeddings=self.embeddings.to(device),
            own=self.own.to(device),
            positives=self.positives.to(device),
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
        return add_jitter(np.stack(crops), rng)

    def loss(self, model: DynaPURLS, mean_tokens: torch.Tensor, index: np.ndarray) -> torch.Tensor:
        """Contrastive loss of the global projection of ``mean_tokens`` ``(B, C)`` (the
        mean token of each window of clips ``index``) against the batch's own texts."""
        rows = torch.from_numpy(np.asarray(index)).to(self.own.device)
        texts = self.own[rows].any(dim=0).nonzero().squeeze(1)
        logits = model.global_logits(mean_tokens, self.embeddings[texts])
        return multi_positive_contrastive(logits, self.positives[rows][:, texts])


def load_corpus(
    name: str,
    frame_rate: float,
    text_encoder: str,
    options: Mapping[str, Any] | None = None,
) -> TextMotionCorpus:
    """Dataset ``name`` as a corpus: its class names are the trials' descriptions, plus
    the further sentences ``EXTRA_TEXTS`` reads for it (KIT-ML's for CMU), every text
    encoded by ``text_encoder`` (cached on disk). Descriptions are framed like a
    label-only vocabulary entry; full sentences are kept as written."""
    dataset = load_dataset(name, **(options or {}))
    reader = EXTRA_TEXTS.get(name)
    extra = reader((options or {}).get("root")) if reader else {}
    sentences = sorted({text for sample in dataset for text in extra.get(sample.name, ())})
    texts = list(dataset.class_names) + sentences
    framed = [label_only_description(text).texts[GLOBAL_INDEX] for text in dataset.class_names]
    encoder = make_text_encoder(text_encoder, cache_dir=cache_dir() / "text")
    embeddings = F.normalize(encoder.encode(framed + sentences).float(), dim=-1)
    index = {text: i for i, text in enumerate(texts)}
    own = torch.zeros(len(dataset), len(texts), dtype=torch.bool)
    for row, sample in enumerate(dataset):
        own[row, sample.label] = True
        for text in extra.get(sample.name, ()):
            own[row, index[text]] = True
    same = same_text_mask(embeddings, DEFAULT_MERGE).float()
    return TextMotionCorpus(
        name=name,
        clips=clips_for(dataset.samples, dataset.layout, frame_rate),
        texts=texts,
        embeddings=embeddings,
        own=own,
        positives=(own.float() @ same) > 0,
    )
