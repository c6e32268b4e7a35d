"""Recognizer: score skeleton windows against a vocabulary of (unseen) actions. No ROS.

The ROS node, the demo and users' own scripts share this one inference path:

    rec = Recognizer.from_checkpoint()                 # the package's default model
    vocab = rec.encode_vocabulary(["wave", "clap"])    # slow: text encoder; any thread
    rec.set_vocabulary(vocab)                          # atomic swap
    preds = rec.predict(windows)                       # (N, T, 25, 3) canonical, metres

Encoding and swapping are separate so a node can encode a new vocabulary off its
executor thread while recognition continues on the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dynapurls_ros.checkpoint import RunInfo, load_checkpoint
from dynapurls_ros.model.dynapurls import Candidates, DynaPURLS
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.skeleton.preprocess import clean
from dynapurls_ros.text.encoder import TextEncoder, encode_descriptions, make_text_encoder
from dynapurls_ros.text.resolve import DescriptionResolver, normalize_name
from dynapurls_ros.training.windows import to_input

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
    queries projected once), and where each label's description came from."""

    labels: tuple[str, ...]
    text: torch.Tensor
    candidates: Candidates
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Prediction:
    """Best label and its probability; the k best labels and probabilities, best first."""

    label: str
    confidence: float
    top_labels: tuple[str, ...]
    top_scores: tuple[float, ...]


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
        self.text_encoder = text_encoder or make_text_encoder(
            model.config.text_encoder, cache_dir=cache_dir() / "text"
        )
        self.resolver = resolver or DescriptionResolver()
        self._vocabulary: Vocabulary | None = None
        self._encode_lock = threading.Lock()

    @classmethod
    def from_checkpoint(
        cls, path: str | Path | None = None, description_files: Sequence[str | Path] = ()
    ) -> Recognizer:
        """Load a checkpoint (``None``: the shipped default model). Label descriptions
        come from ``description_files`` first, then the shipped banks, then a template."""
        model, info = load_checkpoint(path)
        return cls(model, info, resolver=DescriptionResolver(user_files=description_files))

    @property
    def window_length(self) -> int:
        return self.info.window_length

    @property
    def frame_rate(self) -> float:
        return self.info.frame_rate

    @property
    def vocabulary(self) -> Vocabulary | None:
        return self._vocabulary

    def encode_vocabulary(
        self, labels: Iterable[str], resolver: DescriptionResolver | None = None
    ) -> Vocabulary:
        """Resolve and encode ``labels`` (validated); does not change the active one."""
        clean_labels = validate_vocabulary(labels)
        resolved = (resolver or self.resolver).resolve(clean_labels)
        with self._encode_lock:  # one text model, possibly called from several threads
            text = encode_descriptions(self.text_encoder, [r.description for r in resolved])
        with torch.inference_mode():
            candidates = self.model.prepare(text)
        sources = tuple(r.source for r in resolved)
        return Vocabulary(tuple(clean_labels), text, candidates, sources)

    def set_vocabulary(self, vocabulary: Vocabulary | Iterable[str]) -> Vocabulary:
        """Make ``vocabulary`` (encoded, or labels to encode now) the active one."""
        if not isinstance(vocabulary, Vocabulary):
            vocabulary = self.encode_vocabulary(vocabulary)
        self._vocabulary = vocabulary
        return vocabulary

    def prepare(self, windows: np.ndarray) -> torch.Tensor:
        """Raw canonical windows ``(N, T, 25, 3)`` -> normalised model input."""
        windows = np.asarray(windows, dtype=np.float32)
        expected = (self.window_length, 25, 3)
        if windows.ndim != 4 or windows.shape[1:] != expected:
            raise ValueError(f"windows must be (N, {expected[0]}, 25, 3); got {windows.shape}")
        return torch.from_numpy(np.stack([to_input(clean(w)) for w in windows]))

    @torch.inference_mode()
    def logits(self, windows: np.ndarray, vocabulary: Vocabulary) -> torch.Tensor:
        return self.model(self.prepare(windows), vocabulary.candidates)

    def predict(self, windows: np.ndarray, top_k: int = 5) -> list[Prediction]:
        """One prediction per window against the active vocabulary."""
        vocabulary = self._vocabulary  # read once: a concurrent swap cannot mix two
        if vocabulary is None:
            raise RuntimeError("no vocabulary set: call set_vocabulary() first")
        if len(windows) == 0:
            return []
        probs = self.logits(windows, vocabulary).softmax(dim=1)
        return predictions(probs, vocabulary.labels, top_k)


def predictions(probs: torch.Tensor, labels: Sequence[str], top_k: int) -> list[Prediction]:
    """Rows of class probabilities -> :class:`Prediction` objects."""
    k = max(1, min(top_k, len(labels)))
    scores, index = probs.topk(k, dim=1)
    result = []
    for row_scores, row_index in zip(scores.tolist(), index.tolist(), strict=True):
        top = tuple(labels[i] for i in row_index)
        result.append(Prediction(top[0], row_scores[0], top, tuple(row_scores)))
    return result
