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

- gates: a window enters the bank only above a confidence threshold (and optionally
  below an entropy bound); a full class replaces its least confident entry only;
- class balance: at most ``bank_size`` entries per class and a class-averaged loss,
  so a long run of one action cannot take over the bank;
- bank dominance: no update while the bank's class histogram is too concentrated
  (normalised entropy below ``min_bank_entropy``);
- collapse: running histograms of the argmax under the refined and under the encoded
  texts are compared; when the refined predictions are markedly more concentrated than
  the encoded ones would be on the same windows (the refinement, not the stream, is
  narrowing them), the refinement is undone (parameters, optimiser and bank cleared);
- bounded learning: at most ``steps`` optimiser steps per update, a cosine learning-rate
  decay over ``max_updates`` updates, after which the texts stay as they are; weight
  decay pulls scale and shift back towards the identity.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F

from dynapurls_ros.model.dynapurls import Candidates, DynaPURLS

STATE_FORMAT = "dynapurls-refinement/1"


@dataclass(frozen=True)
class RefinementConfig:
    """Settings of the online refinement (all bounded; checked on construction).

    ``bank_size`` = entries kept per class (0: no memory, every update trains on the
    observed batch's pseudo-labels, ungated: the ablation of the bank). ``threshold``:
    top probability a window needs to enter the bank; ``max_entropy``: optional bound on
    its normalised prediction entropy (0..1). ``balance``: per-class capacity and a
    class-averaged loss (off: one shared pool of the same total size, least confident
    replaced, plain mean). ``candidates``: classes whose features an entry keeps (its
    most probable ones; the others enter the softmax as constants), bounding memory for
    large vocabularies. ``max_entries``: bank capacity over all classes.
    """

    enabled: bool = False
    bank_size: int = 16
    threshold: float = 0.1
    max_entropy: float | None = None
    balance: bool = True
    lr: float = 1e-2
    weight_decay: float = 1e-3
    steps: int = 1
    max_updates: int = 2000
    update_batch: int = 64
    candidates: int = 8
    max_entries: int = 1024
    min_bank_entropy: float = 0.3
    max_entropy_drop: float = 0.25
    guard_decay: float = 0.98
    guard_warmup: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (0 <= self.bank_size <= 4096, "bank_size must be in [0, 4096]"),
            (0.0 <= self.threshold <= 1.0, "threshold must be in [0, 1]"),
            (
                self.max_entropy is None or 0.0 < self.max_entropy <= 1.0,
                "max_entropy must be None or in (0, 1]",
            ),
            (0.0 <= self.lr <= 1.0, "lr must be in [0, 1]"),
            (0.0 <= self.weight_decay <= 1.0, "weight_decay must be in [0, 1]"),
            (1 <= self.steps <= 10, "steps must be in [1, 10]"),
            (1 <= self.max_updates <= 1_000_000, "max_updates must be in [1, 1e6]"),
            (1 <= self.update_batch <= 4096, "update_batch must be in [1, 4096]"),
            (1 <= self.candidates <= 512, "candidates must be in [1, 512]"),
            (1 <= self.max_entries <= 65536, "max_entries must be in [1, 65536]"),
            (0.0 <= self.min_bank_entropy <= 1.0, "min_bank_entropy must be in [0, 1]"),
            (0.0 <= self.max_entropy_drop <= 1.0, "max_entropy_drop must be in [0, 1]"),
            (0.0 <= self.guard_decay < 1.0, "guard_decay must be in [0, 1)"),
            (self.guard_warmup >= 0, "guard_warmup must be >= 0"),
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


def normalized_entropy(p: torch.Tensor) -> float:
    """Entropy of a histogram or distribution, divided by log(len): 0 = one class, 1 = uniform."""
    if len(p) < 2:
        return 1.0
    p = p.double() / p.sum().clamp_min(1e-12)
    return float(-(p * p.clamp_min(1e-12).log()).sum() / math.log(len(p)))


@torch.no_grad()
def slot_features(model: DynaPURLS, tokens: torch.Tensor, candidates: Candidates) -> torch.Tensor:
    """Unit projected slot features ``(N, K, 8, d)`` of tokens ``(N, L, C)``.

    ``(features * candidates.text).sum(-1)`` equals ``model.token_similarities(tokens,
    candidates)``: the same pooling and projections, kept as vectors so that scores
    against any other (refined) texts are dot products.
    """
    pooled, _ = model.partition.pool_candidates(tokens, candidates.queries, projected=True)
    local = F.normalize(model.local_proj(pooled), dim=-1)  # (N, K, 7, d)
    global_vec = F.normalize(model.global_proj(tokens.mean(dim=1)), dim=-1)  # (N, d)
    shape = (-1, local.shape[1], 1, -1)
    return torch.cat([local, global_vec[:, None, None, :].expand(shape)], dim=2)


@dataclass
class Entries:
    """Pseudo-labelled observations in the form the loss needs.

    ``features`` ``(n, M, 8, d)`` of the ``M`` classes in ``candidates`` ``(n, M)``;
    ``logits`` ``(n, K)`` at observation time (constants for the other classes);
    ``labels`` ``(n,)`` the pseudo-labels.
    """

    features: torch.Tensor
    candidates: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor


class MemoryBank:
    """Gated, class-balanced store of pseudo-labelled entries (fixed-size tensors).

    Balanced: at most ``per_class`` entries of a class; a full class replaces its least
    confident entry when a more confident one arrives; when the whole bank is full, a
    class below its share takes the place of the least confident entry of the largest
    class. Unbalanced: one pool, the least confident entry overall is replaced. Memory
    is fixed at construction: ``capacity`` entries of ``M x 8 x d`` float16 features
    plus ``K`` logits.
    """

    def __init__(
        self,
        num_classes: int,
        feature_shape: tuple[int, int, int],
        per_class: int,
        max_entries: int,
        balance: bool,
        threshold: float,
        max_entropy: float | None,
    ) -> None:
        self.num_classes = num_classes
        self.per_class = per_class
        self.capacity = max(1, min(max_entries, per_class * num_classes))
        self.balance = balance
        self.threshold = threshold
        self.max_entropy = max_entropy
        m = feature_shape[0]
        self.features = torch.zeros(self.capacity, *feature_shape, dtype=torch.float16)
        self.candidates = torch.zeros(self.capacity, m, dtype=torch.long)
        self.logits = torch.zeros(self.capacity, num_classes)
        self.labels = torch.zeros(self.capacity, dtype=torch.long)
        self.confidence = torch.zeros(self.capacity)
        self.used = torch.zeros(self.capacity, dtype=torch.bool)

    def __len__(self) -> int:
        return int(self.used.sum())

    @property
    def nbytes(self) -> int:
        """Memory held by the bank (fixed by its capacity, whatever it contains)."""
        tensors = (self.features, self.candidates, self.logits, self.labels, self.confidence)
        return sum(t.numel() * t.element_size() for t in (*tensors, self.used))

    def class_counts(self) -> torch.Tensor:
        return torch.bincount(self.labels[self.used], minlength=self.num_classes)

    def clear(self) -> None:
        self.used.zero_()

    def admits(self, confidence: float, entropy: float) -> bool:
        """The gates: confident enough and, when set, not too uncertain overall."""
        if confidence <= self.threshold:
            return False
        return self.max_entropy is None or entropy <= self.max_entropy

    def _least_confident(self, mask: torch.Tensor) -> int:
        return int(torch.where(mask, self.confidence, torch.inf).argmin())

    def _slot_for(self, label: int, confidence: float) -> int | None:
        """Where an admitted entry goes (free or replaced slot), or None to drop it."""
        free = ~self.used
        members = self.used & (self.labels == label)
        if self.balance and int(members.sum()) >= self.per_class:
            victim = self._least_confident(members)
        elif free.any():
            return int(free.nonzero()[0])
        elif self.balance:
            largest = int(self.class_counts().argmax())
            victim = self._least_confident(self.used & (self.labels == largest))
        else:
            victim = self._least_confident(self.used)
        return victim if confidence > float(self.confidence[victim]) else None

    def offer(self, entries: Entries, confidence: torch.Tensor, entropy: torch.Tensor) -> int:
        """Store the entries that pass the gates (``confidence`` = top probability,
        ``entropy`` normalised, both ``(n,)``); returns how many were stored."""
        stored = 0
        for i, (conf, ent) in enumerate(zip(confidence.tolist(), entropy.tolist(), strict=True)):
            if not self.admits(conf, ent):
                continue
            slot = self._slot_for(int(entries.labels[i]), conf)
            if slot is None:
                continue
            self.features[slot] = entries.features[i]
            self.candidates[slot] = entries.candidates[i]
            self.logits[slot] = entries.logits[i]
            self.labels[slot] = entries.labels[i]
            self.confidence[slot] = conf
            self.used[slot] = True
            stored += 1
        return stored

    def sample(self, count: int, generator: torch.Generator) -> Entries:
        """Up to ``count`` stored entries (class-balanced draw when balanced)."""
        index = self.used.nonzero().squeeze(1)
        if len(index) > count:
            if self.balance:
                weights = 1.0 / self.class_counts()[self.labels[index]].double()
            else:
                weights = torch.ones(len(index), dtype=torch.double)
            index = index[torch.multinomial(weights, count, generator=generator)]
        return Entries(
            self.features[index].float(),
            self.candidates[index],
            self.logits[index],
            self.labels[index],
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            "features": self.features.clone(),
            "candidates": self.candidates.clone(),
            "logits": self.logits.clone(),
            "labels": self.labels.clone(),
            "confidence": self.confidence.clone(),
            "used": self.used.clone(),
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            target = getattr(self, name)
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ValueError(
                    f"adaptation state: bank {name} is {tuple(value.shape)} {value.dtype}, "
                    f"expected {tuple(target.shape)} {target.dtype}"
                )
            target.copy_(value)


class CollapseGuard:
    """Running histograms of the predicted class under the refined and the encoded texts.

    Both see the same windows, so a stream that really shows one action skews both
    alike; only a refinement that narrows its own predictions makes the refined
    histogram's normalised entropy fall ``max_drop`` below the encoded one's.
    """

    def __init__(self, num_classes: int, decay: float, max_drop: float, warmup: int) -> None:
        self.decay, self.max_drop, self.warmup = decay, max_drop, warmup
        self.refined = torch.zeros(num_classes, dtype=torch.float64)
        self.encoded = torch.zeros(num_classes, dtype=torch.float64)
        self.seen = 0

    def record(self, refined: torch.Tensor, encoded: torch.Tensor) -> None:
        """Argmax classes ``(n,)`` of the same windows under both texts."""
        n = len(refined)
        # n sequential EMA steps at once: older windows of the batch decay more
        weights = (1 - self.decay) * self.decay ** torch.arange(n - 1, -1, -1, dtype=torch.float64)
        k = len(self.refined)
        for hist, classes in ((self.refined, refined), (self.encoded, encoded)):
            hist.mul_(self.decay**n).add_(torch.bincount(classes, weights, minlength=k))
        self.seen += n

    def collapsed(self) -> bool:
        if self.seen < max(1, self.warmup):
            return False
        drop = normalized_entropy(self.encoded) - normalized_entropy(self.refined)
        return drop > self.max_drop

    def restart(self) -> None:
        """After an undo the refined texts equal the encoded ones: share their history."""
        self.refined.copy_(self.encoded)

    def state_dict(self) -> dict[str, Any]:
        return {"refined": self.refined.clone(), "encoded": self.encoded.clone(), "seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.refined.copy_(state["refined"])
        self.encoded.copy_(state["encoded"])
        self.seen = int(state["seen"])


class TextRefiner:
    """Online refinement of one vocabulary's class texts (see the module docstring).

    Built per vocabulary (``candidates`` = the vocabulary's prepared texts); a new
    vocabulary needs a new refiner. Methods are thread-safe: the recognizer predicts on
    one thread while a service may reset or save on another.

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
        self.keep = min(config.candidates, k)
        with torch.no_grad():
            self._slot_scale = (model.temperature() * model.slot_weights).detach().clone()
        self.scale = torch.zeros(k, slots, dim, requires_grad=True)  # scale - 1
        self.shift = torch.zeros(k, slots, dim, requires_grad=True)
        self._optimizer = torch.optim.AdamW(
            [self.scale, self.shift], lr=config.lr, weight_decay=config.weight_decay
        )
        self.bank = MemoryBank(
            k,
            (self.keep, slots, dim),
            config.bank_size,
            config.max_entries,
            config.balance,
            config.threshold,
            config.max_entropy,
        )
        self.guard = CollapseGuard(
            k, config.guard_decay, config.max_entropy_drop, config.guard_warmup
        )
        self._generator = torch.Generator().manual_seed(config.seed)
        self._lock = threading.RLock()
        self.updates = 0  # accepted updates since the last reset
        self.collapses = 0  # undos by the collapse guard
        self.blocked = 0  # updates skipped because the bank was too concentrated
        self._candidates = candidates

    # --- scoring ------------------------------------------------------------------------

    @property
    def candidates(self) -> Candidates:
        """Refined texts with the encoded attention queries (rebuilt once per update)."""
        return self._candidates

    @property
    def adapted(self) -> bool:
        """Whether predictions now use refined texts (an update since the last reset)."""
        return self.updates > 0

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(N, K, 8, d)`` slot features of tokens (the model is not changed)."""
        return slot_features(self.model, tokens, self.base)

    def _fuse(self, features: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return ((features * text).sum(dim=-1) * self._slot_scale).sum(dim=-1)

    @torch.no_grad()
    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, K)`` of features against the current refined texts."""
        return self._fuse(features, self._candidates.text)

    def _refined_text(self) -> torch.Tensor:
        return F.normalize(self.base.text * (1 + self.scale) + self.shift, dim=-1)

    def adapted_text(self) -> torch.Tensor:
        """The refined ``(K, 8, d)`` unit texts (the encoded ones before any update)."""
        return self._candidates.text.clone()

    # --- learning -----------------------------------------------------------------------

    def _entries(self, features: torch.Tensor, probs: torch.Tensor) -> Entries:
        """The observed windows as loss entries, pseudo-labelled by their argmax."""
        candidates = probs.topk(self.keep, dim=1).indices
        kept = features.gather(1, candidates[:, :, None, None].expand(-1, -1, *features.shape[2:]))
        return Entries(kept, candidates, self.logits(features), probs.argmax(dim=1))

    def _loss(self, entries: Entries) -> torch.Tensor:
        text = self._refined_text()[entries.candidates]  # (n, M, 8, d)
        logits = entries.logits.scatter(1, entries.candidates, self._fuse(entries.features, text))
        loss = F.cross_entropy(logits, entries.labels, reduction="none")
        if not self.config.balance:
            return loss.mean()
        counts = torch.bincount(entries.labels, minlength=self.num_classes)
        weights = 1.0 / counts[entries.labels].float()
        return (loss * weights).sum() / weights.sum()

    def _learning_rate(self) -> float:
        progress = self.updates / self.config.max_updates
        return self.config.lr * 0.5 * (1 + math.cos(math.pi * progress))

    def _step(self, entries: Entries) -> None:
        for group in self._optimizer.param_groups:
            group["lr"] = self._learning_rate()
        for _ in range(self.config.steps):
            self._optimizer.zero_grad(set_to_none=True)
            self._loss(entries).backward()
            self._optimizer.step()
        self.updates += 1
        with torch.no_grad():
            self._candidates = Candidates(self._refined_text().detach(), self.base.queries)

    def observe(self, features: torch.Tensor, probs: torch.Tensor) -> bool:
        """Learn from windows just predicted: ``features`` from :meth:`features`,
        ``probs`` ``(N, K)`` their class probabilities (the pseudo-labels are their
        argmax). Returns whether the texts were updated."""
        if features.dim() != 4 or features.shape[:2] != probs.shape:
            raise ValueError(
                f"observe(): features (N, K, 8, d) and probs (N, K) must match, got "
                f"{tuple(features.shape)} and {tuple(probs.shape)}"
            )
        if len(probs) == 0 or not self.config.enabled:
            return False
        probs = probs.detach().float()
        with self._lock:
            entries = self._entries(features, probs)
            encoded = self._fuse(features, self.base.text).argmax(dim=1)
            self.guard.record(entries.labels, encoded)
            if self.guard.collapsed():
                self._undo()
                return False
            if self.updates >= self.config.max_updates or self.config.lr == 0:
                return False
            if self.config.bank_size == 0:  # ablation: every pseudo-label, no memory
                self._step(entries)
                return True
            entropy = -(probs * probs.clamp_min(1e-12).log()).sum(dim=1)
            entropy /= math.log(max(2, self.num_classes))
            if not self.bank.offer(entries, probs.max(dim=1).values, entropy):
                return False
            if normalized_entropy(self.bank.class_counts()) < self.config.min_bank_entropy:
                self.blocked += 1
                return False
            self._step(self.bank.sample(self.config.update_batch, self._generator))
            return True

    # --- reset, save, restore -------------------------------------------------------------

    def _clear(self) -> None:
        with torch.no_grad():
            self.scale.zero_()
            self.shift.zero_()
        self._optimizer.state.clear()
        self.bank.clear()
        self.updates = 0
        self._candidates = self.base

    def _undo(self) -> None:
        self._clear()
        self.guard.restart()
        self.collapses += 1

    def reset(self) -> None:
        """Back to the encoded texts: parameters, optimiser, bank, guard and counters."""
        with self._lock:
            self._clear()
            self.guard = CollapseGuard(
                self.num_classes,
                self.config.guard_decay,
                self.config.max_entropy_drop,
                self.config.guard_warmup,
            )
            self._generator.manual_seed(self.config.seed)
            self.collapses = self.blocked = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "updates": self.updates,
                "bank": len(self.bank),
                "collapses": self.collapses,
                "blocked": self.blocked,
            }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (tensors and builtins: ``torch.save``-able and
        loadable with ``weights_only=True``)."""
        with self._lock:
            return {
                "format": STATE_FORMAT,
                "config": self.config.to_dict(),
                "text": self.base.text.clone(),
                "scale": self.scale.detach().clone(),
                "shift": self.shift.detach().clone(),
                "optimizer": self._optimizer.state_dict(),
                "bank": self.bank.state_dict(),
                "guard": self.guard.state_dict(),
                "generator": self._generator.get_state(),
                "counters": {
                    "updates": self.updates,
                    "collapses": self.collapses,
                    "blocked": self.blocked,
                },
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output made for the same texts and settings."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} adaptation state")
        if RefinementConfig.from_dict(state["config"]) != self.config:
            raise ValueError("adaptation state was saved with other refinement settings")
        text = state["text"]
        if text.shape != self.base.text.shape or not torch.equal(text, self.base.text):
            raise ValueError("adaptation state belongs to another vocabulary (texts differ)")
        with self._lock:
            self._clear()
            with torch.no_grad():
                self.scale.copy_(state["scale"])
                self.shift.copy_(state["shift"])
            self._optimizer.load_state_dict(state["optimizer"])
            self.bank.load_state_dict(state["bank"])
            self.guard.load_state_dict(state["guard"])
            self._generator.set_state(state["generator"])
            counters = state["counters"]
            self.updates = int(counters["updates"])
            self.collapses = int(counters["collapses"])
            self.blocked = int(counters["blocked"])
            with torch.no_grad():
                refined = self._refined_text() if self.updates else self.base.text
                self._candidates = Candidates(refined.detach(), self.base.queries)
