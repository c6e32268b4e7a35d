"""Dynamic refinement: online test-time adaptation of the class text features.

While the recognizer runs, its own confident predictions become pseudo-labels. A
class-balanced memory bank keeps the most confident recent windows per predicted class,
and a learnable element-wise scale (init 1) and shift (init 0) on every class's eight
slot texts is trained on the bank with cross-entropy against those pseudo-labels. The
skeleton model is never changed (it stays in eval mode: no dropout, frozen BatchNorm);
only the ``(K, 8, d)`` scale and shift learn.

What is refined, and why the update is cheap: a slot's score is the cosine between the
sample's projected slot feature and the slot text. The refinement adapts the text the
features are *compared with* and keeps the attention queries (which body parts and
phases each description pools) on the encoded descriptions. The projected slot features
of a window then do not depend on the refinement, so the bank stores them (computed
once, while predicting) and an update is a few dot products on stored vectors: no
encoder, attention or projection pass, and stored entries never go stale. Predictions
use the same function: refined texts as cosine targets, encoded queries
(:attr:`TextRefiner.candidates`, rebuilt once per update).

Guards against self-training going wrong:

- gate: a window enters the bank only above a confidence threshold; a full class
  replaces its least confident entry only;
- class balance: at most ``bank_size`` entries per class and a class-averaged loss,
  so a long run of one action cannot take over the bank;
- bank balance: no update until the bank's class histogram is nearly even (normalised
  entropy at least ``min_balance``, 0.9 by default: every class of a small
  vocabulary has confident windows). The loss teaches a class missing from the bank
  only to lose, so without this a class the model is never confident about is trained
  away (measured: it turned NW-UCLA "throw" into "never predicted");
- collapse: running histograms of the argmax under the refined and under the encoded
  texts are compared; when the refined predictions are markedly more concentrated than
  the encoded ones would be on the same windows (the refinement, not the stream, is
  narrowing them), or have moved too far from them (total variation), the refinement
  is undone (parameters, optimiser and bank cleared);
- bounded learning: at most ``steps`` optimiser steps per update, a cosine learning-rate
  decay over ``max_updates`` updates, after which the texts stay as they are; weight
  decay pulls scale and shift back towards the identity.

The recognizer and the stream evaluation use only :class:`TextRefiner`'s small
interface: ``features`` (slot features of a batch's tokens), ``logits`` (scores with the
refined texts), ``observe`` (bank and update), ``adapted`` and ``stats``.

An update is written out by hand, gradient and AdamW step alike, over one stacked
``(2, K, 8, d)`` parameter tensor: at these sizes the fixed cost of autograd and of
``torch.optim`` (dozens of small ops and Python frames) was most of an update's time.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

from dynapurls_ros.model.dynapurls import Candidates, DynaPURLS

# Fixed parts of the method (chosen once; their alternatives were measured and removed,
# docs/research/2026-11-research-log.md).
WEIGHT_DECAY = 1e-3  # AdamW decay pulling scale and shift back towards the identity
UPDATE_BATCH = 16  # bank slots one update trains on (a cyclic, contiguous window)
MAX_ENTROPY_DROP = 0.25  # collapse guard: refined vs encoded prediction entropy
MAX_SHIFT = 0.3  # collapse guard: total variation between the two histograms
GUARD_DECAY = 0.98  # collapse guard: forgetting factor of its running histograms
GUARD_WARMUP = 20  # collapse guard: windows seen before it may judge


@dataclass(frozen=True)
class RefinementConfig:
    """Settings of the online refinement (all bounded; checked on construction).

    ``bank_size`` = entries kept per class; ``threshold``: top probability a window must
    exceed to enter the bank; ``min_balance``: normalised entropy of the bank's class
    histogram below which no update runs (1 = every class equally present); ``lr`` and
    ``steps``: AdamW learning rate and steps per update, with a cosine decay over
    ``max_updates`` updates; ``memory_mb``: ceiling on the bank's features (an entry
    holds ``K x 8 x d`` floats, so a large vocabulary gets fewer entries per class).
    """

    enabled: bool = False
    bank_size: int = 16
    threshold: float = 0.5
    min_balance: float = 0.9
    lr: float = 1e-3
    steps: int = 1
    max_updates: int = 2000
    memory_mb: float = 64.0

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.bank_size <= 4096, "bank_size must be in [1, 4096]"),
            (0.0 <= self.threshold <= 1.0, "threshold must be in [0, 1]"),
            (0.0 <= self.min_balance <= 1.0, "min_balance must be in [0, 1]"),
            (0.0 <= self.lr <= 1.0, "lr must be in [0, 1]"),
            (1 <= self.steps <= 10, "steps must be in [1, 10]"),
            (1 <= self.max_updates <= 1_000_000, "max_updates must be in [1, 1e6]"),
            (0.0 < self.memory_mb <= 4096.0, "memory_mb must be in (0, 4096]"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"RefinementConfig: {message}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefinementConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"RefinementConfig: unknown settings {sorted(unknown)}")
        return cls(**data)


def normalized_entropy(histogram: torch.Tensor | list[float]) -> float:
    """Entropy of a histogram divided by log(len): 0 = one class, 1 = uniform (also for
    an empty one). Plain Python: histograms here are short, and a handful of tiny torch
    ops per window would cost more than the arithmetic."""
    values = histogram.tolist() if isinstance(histogram, torch.Tensor) else histogram
    total = sum(values)
    if len(values) < 2 or total <= 0:
        return 1.0
    entropy = -sum(v / total * math.log(v / total) for v in values if v > 0)
    return entropy / math.log(len(values))


class MemoryBank:
    """Gated, class-balanced store of pseudo-labelled windows in fixed-size tensors.

    At most ``per_class`` entries of a class; a full class replaces its least confident
    entry when a more confident one arrives; when the whole bank is full (``capacity``
    below ``K * per_class``), a class with fewer entries than the largest class takes
    the place of that class's least confident entry.

    Features are stored class-major, ``(K, 8, capacity, d)``: for each candidate class
    and slot, the entries' vectors form one contiguous matrix, so the loss and its
    gradient over the whole bank are two batched matrix products with small outputs
    (no per-update copies of the bank). Entries are only ever added or replaced until
    :meth:`clear`, so the used slots are always the first ``len(bank)``; the class
    histogram is kept as it changes (both spare a few tensor ops per window).
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        per_class: int,
        capacity: int,
        threshold: float,
    ) -> None:
        self.num_classes, slots, dim = shape
        self.per_class = per_class
        self.capacity = max(1, min(capacity, per_class * self.num_classes))
        self.threshold = threshold
        self.features = torch.zeros(self.num_classes, slots, self.capacity, dim)
        self.labels = torch.zeros(self.capacity, dtype=torch.long)
        self.confidence = torch.zeros(self.capacity)
        self._size = 0
        self._counts = [0] * self.num_classes

    def __len__(self) -> int:
        return self._size

    @property
    def used(self) -> torch.Tensor:
        """``(capacity,)`` mask of the slots holding an entry."""
        return torch.arange(self.capacity) < self._size

    @property
    def nbytes(self) -> int:
        """Memory held by the bank (fixed by its capacity, whatever it contains)."""
        tensors = (self.features, self.labels, self.confidence)
        return sum(t.numel() * t.element_size() for t in tensors)

    def class_counts(self) -> list[int]:
        """Entries per class."""
        return list(self._counts)

    def clear(self) -> None:
        self._size = 0
        self._counts = [0] * self.num_classes

    def _least_confident(self, label: int | None = None) -> int:
        """Slot of the least confident entry (of class ``label`` when given)."""
        confidence = self.confidence[: self._size]
        if label is not None:
            confidence = torch.where(self.labels[: self._size] == label, confidence, torch.inf)
        return int(confidence.argmin())

    def _slot_for(self, label: int, confidence: float) -> int | None:
        """Where an admitted entry goes (free or replaced slot), or None to drop it."""
        counts = self._counts
        if counts[label] >= self.per_class:
            victim = self._least_confident(label)
        elif self._size < self.capacity:
            return self._size
        else:
            largest = max(range(self.num_classes), key=counts.__getitem__)
            if counts[largest] > counts[label] + 1:  # rebalance, whatever the confidence
                return self._least_confident(largest)
            victim = self._least_confident(label if counts[label] else None)
        return victim if confidence > float(self.confidence[victim]) else None

    def offer(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        confidence: torch.Tensor,
    ) -> int:
        """Store the windows more confident than the threshold: ``features``
        ``(n, K, 8, d)``, their pseudo-``labels`` and top probability ``(n,)``. Returns
        how many were stored."""
        stored = 0
        rows = zip(labels.tolist(), confidence.tolist(), strict=True)
        for i, (label, conf) in enumerate(rows):
            if conf <= self.threshold:
                continue
            slot = self._slot_for(label, conf)
            if slot is None:
                continue
            if slot == self._size:
                self._size += 1
            else:
                self._counts[int(self.labels[slot])] -= 1
            self._counts[label] += 1
            self.features[:, :, slot] = features[i]
            self.labels[slot] = label
            self.confidence[slot] = conf
            stored += 1
        return stored

    def batch(self, start: int, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Slots ``start .. start + size`` (a view, no copy): features ``(K, 8, n, d)``,
        labels and loss weights ``(n,)``. Weights are class-averaged over the whole bank
        (so every class counts alike in expectation) and sum to 1 over the batch, which
        ends at the last entry."""
        window = slice(start, min(start + size, self._size))
        labels = self.labels[window]
        weights = 1.0 / torch.tensor(self._counts, dtype=torch.float32)[labels]
        return self.features[:, :, window], labels, weights / weights.sum()


class CollapseGuard:
    """Running histograms of the predicted class under the refined and the encoded texts.

    Both see the same windows, so a stream that really shows one action skews both
    alike. The refinement is judged to have gone wrong when its histogram's normalised
    entropy falls ``max_drop`` below the encoded one's (it narrows its own predictions)
    or the two histograms are more than ``max_shift`` apart in total variation (it has
    moved that share of the predictions to other classes, e.g. handed one class's
    windows to another, which the entropy does not see).
    """

    def __init__(
        self, num_classes: int, decay: float, max_drop: float, max_shift: float, warmup: int
    ) -> None:
        self.decay, self.max_drop, self.max_shift, self.warmup = decay, max_drop, max_shift, warmup
        self.refined = [0.0] * num_classes
        self.encoded = [0.0] * num_classes
        self.seen = 0

    def record(self, refined: list[int], encoded: list[int]) -> None:
        """Argmax classes of the same windows under both texts."""
        for hist, classes in ((self.refined, refined), (self.encoded, encoded)):
            for c in classes:
                hist[:] = [v * self.decay for v in hist]
                hist[c] += 1 - self.decay
        self.seen += len(refined)

    def collapsed(self) -> bool:
        if self.seen < max(1, self.warmup):
            return False
        drop = normalized_entropy(self.encoded) - normalized_entropy(self.refined)
        refined, encoded = sum(self.refined), sum(self.encoded)
        pairs = zip(self.refined, self.encoded, strict=True)
        shift = 0.5 * sum(abs(r / refined - e / encoded) for r, e in pairs)
        return drop > self.max_drop or shift > self.max_shift

    def restart(self) -> None:
        """After an undo the refined texts equal the encoded ones: share their history."""
        self.refined[:] = self.encoded


class TextRefiner:
    """Online refinement of one vocabulary's class texts (see the module docstring).

    Built per vocabulary (``candidates`` = the vocabulary's prepared texts); a new
    vocabulary needs a new refiner (the recognizer builds one on every vocabulary change
    and reset). ``observe`` and ``stats`` are thread-safe.

        features = refiner.features(model.tokens(x))    # once per batch
        probs = refiner.logits(features).softmax(1)     # refined texts (if any update)
        refiner.observe(features, probs)                # bank + at most one update
    """

    def __init__(self, model: DynaPURLS, candidates: Candidates, config: RefinementConfig) -> None:
        self.model = model
        self.config = config
        self.base = candidates
        k, slots, dim = candidates.text.shape
        self.num_classes = k
        with torch.no_grad():
            self._slot_scale = (model.temperature() * model.slot_weights).detach().clone()
        # [0] = scale - 1, [1] = shift; AdamW's first and second moments alike.
        self._params = torch.zeros(2, k, slots, dim)
        self._moments = torch.zeros(2, 2, k, slots, dim)
        entry_bytes = k * slots * dim * 4
        self.bank = MemoryBank(
            (k, slots, dim),
            config.bank_size,
            int(config.memory_mb * 2**20) // entry_bytes,
            config.threshold,
        )
        self.guard = self._new_guard()
        self._lock = threading.RLock()
        self.updates = 0  # accepted updates since the last reset
        self._cursor = 0  # first bank slot of the next update's batch
        self.collapses = 0  # undos by the collapse guard
        self.blocked = 0  # updates skipped because the bank was too concentrated
        self._candidates = candidates
        self._norm = candidates.text.norm(dim=-1, keepdim=True)  # of the unnormalised text

    def _new_guard(self) -> CollapseGuard:
        return CollapseGuard(
            self.num_classes, GUARD_DECAY, MAX_ENTROPY_DROP, MAX_SHIFT, GUARD_WARMUP
        )

    # --- scoring ------------------------------------------------------------------------

    @property
    def candidates(self) -> Candidates:
        """Refined texts with the encoded attention queries (rebuilt once per update)."""
        return self._candidates

    @property
    def adapted(self) -> bool:
        """Whether predictions now use refined texts (an update since the last reset)."""
        return self.updates > 0

    @torch.no_grad()
    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(N, K, 8, d)`` slot features of tokens (:meth:`DynaPURLS.slot_features`
        against the encoded queries; the model is not changed)."""
        return self.model.slot_features(tokens, self.base)

    def _fuse(self, features: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return ((features * text).sum(dim=-1) * self._slot_scale).sum(dim=-1)

    @torch.no_grad()
    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, K)`` of features against the current refined texts."""
        return self._fuse(features, self._candidates.text)

    @property
    def scale(self) -> torch.Tensor:
        """Learnt element-wise scale of the encoded texts, ``(K, 8, d)`` (1 = identity)."""
        return self._params[0] + 1

    @property
    def shift(self) -> torch.Tensor:
        """Learnt element-wise shift of the encoded texts, ``(K, 8, d)``."""
        return self._params[1]

    def _refresh(self) -> None:
        """Rebuild the texts predictions use from the parameters (after a step or a
        restore); keeps the norm before re-normalisation for the next gradient."""
        raw = torch.addcmul(self._params[1], self.base.text, self._params[0] + 1)
        self._norm = raw.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        self._candidates = Candidates(raw / self._norm, self.base.queries)

    def adapted_text(self) -> torch.Tensor:
        """The refined ``(K, 8, d)`` unit texts (the encoded ones before any update)."""
        return self._candidates.text.clone()

    # --- learning -----------------------------------------------------------------------

    def _text_gradient(
        self, features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Gradient of the weighted cross-entropy of pseudo-labelled windows with respect
        to the current refined unit texts, ``(K, 8, d)``.

        ``features``: class-major ``(K, 8, n, d)``; ``labels`` and ``weights`` ``(n,)``.
        Written out (softmax minus one-hot, spread back over the features) so that the
        large per-window tensors only enter two batched matrix products;
        :meth:`_parameter_gradient` carries the small ``(K, 8, d)`` result on to the
        scale and shift.
        """
        k, slots, n, dim = features.shape
        text = self._candidates.text
        matrices = features.reshape(k * slots, n, dim)
        # (1 x d) @ (d x n) per class/slot: measured faster than (n x d) @ (d x 1) here
        scores = torch.bmm(text.reshape(k * slots, 1, dim), matrices.transpose(1, 2))
        scores = scores.view(k, slots, n)
        logits = (scores * self._slot_scale[:, None]).sum(dim=1).T  # (n, K)
        dlogits = logits.softmax(dim=1)
        dlogits[torch.arange(n), labels] -= 1.0
        coef = (dlogits * weights[:, None]).T[:, None, :] * self._slot_scale[:, None]
        grad = torch.bmm(coef.reshape(k * slots, 1, n), matrices)
        return grad.view(k, slots, dim)

    def _learning_rate(self) -> float:
        progress = self.updates / self.config.max_updates
        return self.config.lr * 0.5 * (1 + math.cos(math.pi * progress))

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The next window of ``update_batch`` bank entries (cyclic over the entries)."""
        if self._cursor >= len(self.bank):
            self._cursor = 0
        start = self._cursor
        self._cursor += UPDATE_BATCH
        return self.bank.batch(start, UPDATE_BATCH)

    def _parameter_gradient(self, text_gradient: torch.Tensor) -> torch.Tensor:
        """Chain ``text_gradient`` (w.r.t. the unit texts) through the re-normalisation
        and ``text * (1 + scale) + shift``: ``(2, K, 8, d)``, scale's then shift's."""
        unit, norm = self._candidates.text, self._norm
        radial = (text_gradient * unit).sum(dim=-1, keepdim=True)
        grad_raw = (text_gradient - unit * radial) / norm
        return torch.stack((grad_raw * self.base.text, grad_raw))

    def _adamw(self, grad: torch.Tensor, lr: float, step: int) -> None:
        """AdamW step number ``step`` (from 1) on the stacked parameters (decoupled weight
        decay, bias-corrected moments; the defaults of ``torch.optim.AdamW``: betas
        0.9/0.999, eps 1e-8)."""
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        first, second = self._moments
        self._params.mul_(1 - lr * WEIGHT_DECAY)
        first.lerp_(grad, 1 - beta1)
        second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (second.sqrt() / math.sqrt(1 - beta2**step)).add_(eps)
        self._params.addcdiv_(first, denom, value=-lr / (1 - beta1**step))

    def _step(self, features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> None:
        lr = self._learning_rate()
        done = self.updates * self.config.steps  # AdamW steps since the last reset
        for i in range(1, self.config.steps + 1):
            text_gradient = self._text_gradient(features, labels, weights)
            self._adamw(self._parameter_gradient(text_gradient), lr, done + i)
            self._refresh()
        self.updates += 1

    def observe(self, features: torch.Tensor, probs: torch.Tensor) -> bool:
        """Learn from windows just predicted: ``features`` ``(N, K, 8, d)`` from
        :meth:`features`, ``probs`` ``(N, K)`` their class probabilities (pseudo-label =
        argmax). At most one update (``steps`` optimiser steps); returns whether the
        texts changed."""
        if features.dim() != 4 or features.shape[:2] != probs.shape:
            raise ValueError(
                f"observe(): features (N, K, 8, d) and probs (N, K) must match, got "
                f"{tuple(features.shape)} and {tuple(probs.shape)}"
            )
        if len(probs) == 0 or not self.config.enabled:
            return False
        probs = probs.detach().float()
        confidence, labels = probs.max(dim=1)
        with self._lock:
            encoded = self._fuse(features, self.base.text).argmax(dim=1)
            self.guard.record(labels.tolist(), encoded.tolist())
            if self.guard.collapsed():
                self._undo()
                return False
            if self.updates >= self.config.max_updates or self.config.lr == 0:
                return False
            if not self.bank.offer(features, labels, confidence):
                return False
            if normalized_entropy(self.bank.class_counts()) < self.config.min_balance:
                self.blocked += 1
                return False
            self._step(*self._next_batch())
            return True

    # --- undo ------------------------------------------------------------------------------

    def _undo(self) -> None:
        """Back to the encoded texts (parameters, optimiser, bank) after a collapse."""
        self._params.zero_()
        self._moments.zero_()
        self._norm = self.base.text.norm(dim=-1, keepdim=True)
        self.bank.clear()
        self.updates = self._cursor = 0
        self._candidates = self.base
        self.guard.restart()
        self.collapses += 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "updates": self.updates,
                "bank": len(self.bank),
                "collapses": self.collapses,
                "blocked": self.blocked,
            }
