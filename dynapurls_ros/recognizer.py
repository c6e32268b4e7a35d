"""Recognizer: score skeleton windows against a vocabulary of (unseen) actions. No ROS.

The ROS node, the demo and users' own scripts share this one inference path:

    rec = Recognizer.from_checkpoint()                 # the package's default model
    vocab = rec.encode_vocabulary(["wave", "clap"])    # slow: text encoder; any thread
    rec.set_vocabulary(vocab)                          # atomic swap
    preds = rec.predict(windows)                       # (N, T, 25, 3) canonical, metres

Encoding and swapping are separate so a node can encode a new vocabulary off its
executor thread while recognition continues on the old one.

Every prediction also carries an open-set score (:mod:`dynapurls_ros.rejection`):
``known_score`` below 0 says the window matches no label better than the checkpoint's
reference motions do at ``rec.rejection_level`` (none of the labels).

Online adaptation (dynamic refinement, :mod:`dynapurls_ros.refinement`) is off unless
``rec.adaptation`` enables it; then every ``predict`` scores with the texts refined so
far and afterwards feeds the batch to the refiner. The refiner belongs to one
vocabulary: swapping the vocabulary, changing the settings or ``reset_adaptation()``
installs a fresh one together with it, so a prediction never mixes the two.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo, load_checkpoint
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, Candidates, DynaPURLS
from dynapurls_ros.model.frozen import Encoder, frozen_encoder
from dynapurls_ros.model.int8 import int8_model
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.refinement import RefinementConfig, TextRefiner
from dynapurls_ros.rejection import DEFAULT_LEVEL, known_scores, reference_scores, thresholds
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS
from dynapurls_ros.skeleton.preprocess import clean, resample, to_input
from dynapurls_ros.text.encoder import TextEncoder, encode_descriptions, make_text_encoder
from dynapurls_ros.text.resolve import DescriptionResolver, normalize_name

MAX_VOCABULARY = 512


def validate_vocabulary(labels: Iterable[object], max_size: int = MAX_VOCABULARY) -> list[str]:
    """The labels as a clean list, or ValueError saying what is wrong with them."""
    if isinstance(labels, str):
        raise ValueError("vocabulary must be a list of labels, not one string")
    labels = list(labels)
    if not labels:
        raise ValueError("vocabulary is empty")
    if len(labels) > max_size:
        raise ValueError(f"vocabulary has {len(labels)} labels; at most {max_size} allowed")
    seen: dict[str, str] = {}
    clean_labels = []
    for label in labels:
        if not isinstance(label, str):
            raise ValueError(f"vocabulary entry {label!r} is not a string")
        text = " ".join(label.split())
        if not normalize_name(text):
            raise ValueError(f"vocabulary entry {label!r} is blank")
        key = normalize_name(text)
        if key in seen:
            raise ValueError(f"vocabulary entries {seen[key]!r} and {label!r} are duplicates")
        seen[key] = label
        clean_labels.append(text)
    return clean_labels


@dataclass(frozen=True)
class Vocabulary:
    """Encoded class texts ``(K, 8, d)``, the same prepared for matching (attention
    queries projected once), where each label's description came from, and each
    label's scores over the checkpoint's reference motions, sorted ``(N, K)`` (``None``
    without references: no rejection)."""

    labels: tuple[str, ...]
    text: torch.Tensor
    candidates: Candidates
    sources: tuple[str, ...]
    reference_scores: torch.Tensor | None = None


@dataclass(frozen=True)
class Prediction:
    """Best label and its probability; the k best labels and probabilities, best first;
    ``known_score``: open-set score (< 0: none of the labels; ``inf`` when the
    checkpoint has no reference motions); ``adapted``: scored with online-refined
    texts (not the encoded ones)."""

    label: str
    confidence: float
    top_labels: tuple[str, ...]
    top_scores: tuple[float, ...]
    known_score: float
    adapted: bool = False


@dataclass(frozen=True)
class _Active:
    """The vocabulary in use and its refiner (None when adaptation is off), swapped as
    one reference so a reader always gets a matching pair."""

    vocabulary: Vocabulary
    refiner: TextRefiner | None = field(default=None)


class Recognizer:
    """A trained model plus the active vocabulary."""

    def __init__(
        self,
        model: DynaPURLS,
        info: RunInfo,
        text_encoder: TextEncoder | None = None,
        resolver: DescriptionResolver | None = None,
    ) -> None:
        self.model = model.eval()
        self.info = info
        self._text_encoder = text_encoder
        self.resolver = resolver or DescriptionResolver()
        self._active: _Active | None = None
        # Share of out-of-vocabulary motions said "unknown" (dynapurls_ros.rejection).
        self.rejection_level = DEFAULT_LEVEL
        self._adaptation = RefinementConfig()
        self._encode_lock = threading.Lock()
        self._encoder: Encoder | None = None  # frozen on first use (encoder_for_inference)
        self._encoder_lock = threading.Lock()
        self._swap_lock = threading.Lock()  # writers of _active: read-modify-write

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path | None = None,
        description_files: Sequence[str | Path] = (),
        int8: bool = False,
    ) -> Recognizer:
        """Load a checkpoint (``None``: the shipped default model). Label descriptions
        come from ``description_files`` first, then the shipped banks, then a template.
        ``int8``: quantized linear layers (:mod:`dynapurls_ros.model.int8`), faster on
        a CPU."""
        model, info = load_checkpoint(path)
        if int8:
            model = int8_model(model)
        return cls(model, info, resolver=DescriptionResolver(user_files=description_files))

    @property
    def window_length(self) -> int:
        return self.info.window_length

    @property
    def frame_rate(self) -> float:
        return self.info.frame_rate

    @property
    def vocabulary(self) -> Vocabulary | None:
        active = self._active
        return None if active is None else active.vocabulary

    @property
    def text_encoder(self) -> TextEncoder:
        """The checkpoint's text model, loaded on first use (seconds; any thread)."""
        with self._encode_lock:
            if self._text_encoder is None:
                self._text_encoder = make_text_encoder(
                    self.model.config.text_encoder, cache_dir=cache_dir() / "text"
                )
            return self._text_encoder

    def encode_vocabulary(
        self, labels: Iterable[str], resolver: DescriptionResolver | None = None
    ) -> Vocabulary:
        """Resolve and encode ``labels`` (validated); does not change the active one."""
        clean_labels = validate_vocabulary(labels)
        resolved = (resolver or self.resolver).resolve(clean_labels)
        encoder = self.text_encoder
        with self._encode_lock:  # one text model, possibly called from several threads
            text = encode_descriptions(encoder, [r.description for r in resolved])
        # no_grad, not inference_mode: online refinement later computes gradients
        # through expressions that use these texts as constants.
        with torch.no_grad():
            candidates = self.model.prepare(text)
        references = self.info.reference_motions
        scores = None
        if references is not None:
            scores = reference_scores(references, candidates.text[:, GLOBAL_INDEX])
        sources = tuple(r.source for r in resolved)
        return Vocabulary(tuple(clean_labels), text, candidates, sources, scores)

    def set_vocabulary(self, vocabulary: Vocabulary | Iterable[str]) -> Vocabulary:
        """Make ``vocabulary`` (encoded, or labels to encode now) the active one."""
        if not isinstance(vocabulary, Vocabulary):
            vocabulary = self.encode_vocabulary(vocabulary)
        with self._swap_lock:
            self._active = self._activate(vocabulary, self._adaptation)
        return vocabulary

    # --- online adaptation ----------------------------------------------------------------

    def _activate(self, vocabulary: Vocabulary, config: RefinementConfig) -> _Active:
        """``vocabulary`` with a fresh refiner for it (or none when adaptation is off)."""
        refiner = TextRefiner(self.model, vocabulary.candidates, config) if config.enabled else None
        return _Active(vocabulary, refiner)

    @property
    def adaptation(self) -> RefinementConfig:
        """Settings of the online refinement (``enabled=False``: off, the default)."""
        return self._adaptation

    @adaptation.setter
    def adaptation(self, config: RefinementConfig) -> None:
        """New settings take effect at once and restart the adaptation (unless equal)."""
        if not isinstance(config, RefinementConfig):
            raise TypeError(f"adaptation must be a RefinementConfig, not {type(config).__name__}")
        with self._swap_lock:
            if config == self._adaptation:
                return
            self._adaptation = config
            if self._active is not None:
                self._active = self._activate(self._active.vocabulary, config)

    @property
    def adaptation_active(self) -> bool:
        """Whether predictions now use refined texts (adaptation on and updated)."""
        active = self._active
        return bool(active and active.refiner and active.refiner.adapted)

    def adaptation_stats(self) -> dict[str, int]:
        """Refiner counters (updates, bank entries, collapses, blocked); empty when off."""
        active = self._active
        return {} if active is None or active.refiner is None else active.refiner.stats()

    def reset_adaptation(self) -> None:
        """Forget what was learnt online: back to the encoded texts, empty memory."""
        with self._swap_lock:
            if self._active is not None:
                self._active = self._activate(self._active.vocabulary, self._adaptation)

    def prepare(self, windows: np.ndarray) -> torch.Tensor:
        """Raw canonical windows ``(N, T, 25, 3)`` -> normalised model input."""
        windows = np.asarray(windows, dtype=np.float32)
        expected = (self.window_length, 25, 3)
        if windows.ndim != 4 or windows.shape[1:] != expected:
            raise ValueError(f"windows must be (N, {expected[0]}, 25, 3); got {windows.shape}")
        return torch.from_numpy(np.stack([to_input(self._complete(w)) for w in windows]))

    def _complete(self, window: np.ndarray) -> np.ndarray:
        """Fill NaN/inf joints from time (or the skeleton tree); frames with no joint
        at all are dropped and the window stretched back to its length."""
        filled = clean(window, parents=CANONICAL_PARENTS)
        return filled if len(filled) == len(window) else resample(filled, len(window))

    def predict(self, windows: np.ndarray, top_k: int = 5) -> list[Prediction]:
        """One prediction per window against the active vocabulary.

        With adaptation on, the windows are scored with the texts refined so far and
        then observed by the refiner (the encoder runs once: the refiner learns from
        the slot features computed for scoring).
        """
        active = self._active  # read once: a concurrent swap cannot mix two
        if active is None:
            raise RuntimeError("no vocabulary set: call set_vocabulary() first")
        if len(windows) == 0:
            return []
        x = self.prepare(windows)
        refiner = active.refiner
        vocabulary = active.vocabulary
        with torch.no_grad():
            tokens = self.model.tokens(x, self.encoder_for_inference())
            known = self._known_scores(tokens, vocabulary)
            if refiner is None:
                sims = self.model.token_similarities(tokens, active.vocabulary.candidates)
                probs = self.model.fuse(sims).softmax(dim=1)
            else:
                adapted = refiner.adapted
                features = refiner.features(tokens)
                probs = refiner.logits(features).softmax(dim=1)
        if refiner is None:
            return predictions(probs, known, vocabulary.labels, top_k)
        refiner.observe(features, probs)
        return predictions(probs, known, vocabulary.labels, top_k, adapted)

    def encoder_for_inference(self) -> Encoder:
        """The encoder as a frozen graph (same output, faster), built once (0.3-0.5 s
        on a 2-core machine) by the first caller: the first prediction, unless the
        caller builds it ahead (the node does, while it encodes a vocabulary)."""
        if self._encoder is not None:
            return self._encoder
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = frozen_encoder(self.model.encoder, self.window_length)
            return self._encoder

    def _known_scores(self, tokens: torch.Tensor, vocabulary: Vocabulary) -> list[float]:
        if vocabulary.reference_scores is None:
            return [math.inf] * len(tokens)
        limits = thresholds(vocabulary.reference_scores, self.rejection_level)
        label_global = vocabulary.candidates.text[:, GLOBAL_INDEX]
        return known_scores(self.model, tokens, label_global, limits).tolist()


def predictions(
    probs: torch.Tensor,
    known_scores: Sequence[float],
    labels: Sequence[str],
    top_k: int,
    adapted: bool = False,
) -> list[Prediction]:
    """Rows of class probabilities and their open-set scores -> :class:`Prediction`."""
    k = max(1, min(top_k, len(labels)))
    scores, index = probs.topk(k, dim=1)
    result = []
    rows = zip(scores.tolist(), index.tolist(), known_scores, strict=True)
    for row_scores, row_index, known in rows:
        top = tuple(labels[i] for i in row_index)
        result.append(Prediction(top[0], row_scores[0], top, tuple(row_scores), known, adapted))
    return result
