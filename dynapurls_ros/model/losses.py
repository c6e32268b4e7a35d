"""Per-slot contrastive losses with one learnable temperature per slot.

Every slot (4 parts, 3 phases, global) gets a symmetric contrastive loss over the
``(N, K, 8)`` similarity tensor that the model also uses at inference: sample -> class
(cross-entropy over the K seen classes) and class -> sample (each class's text against
the batch, with all samples of that class as positives). The slot losses are summed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


class SlotTemperature(nn.Module):
    """One logit scale per slot, ``exp(log_scale)`` clamped to ``[1, max_scale]``.

    Log-parametrised so that the scale stays positive and its steps are relative;
    clamped (as in CLIP) so that a slot cannot sharpen without bound on seen classes.
    The model owns it because the learned scales also weight the slots at inference.
    """

    def __init__(self, num_slots: int, init_scale: float = 1 / 0.07, max_scale: float = 100.0):
        super().__init__()
        if not 1.0 <= init_scale <= max_scale:
            raise ValueError(f"need 1 <= init_scale ({init_scale}) <= max_scale ({max_scale})")
        self.log_scale = nn.Parameter(torch.full((num_slots,), math.log(init_scale)))
        self.max_log = math.log(max_scale)

    def forward(self) -> torch.Tensor:
        """``(num_slots,)`` positive logit scales (inverse temperatures)."""
        return self.log_scale.clamp(0.0, self.max_log).exp()


@dataclass
class LossOutput:
    """``total`` is what to backpropagate; ``per_slot`` (detached) is for logging."""

    total: torch.Tensor
    per_slot: torch.Tensor


def slot_contrastive_loss(
    sims: torch.Tensor,
    labels: torch.Tensor,
    scales: torch.Tensor,
    same: torch.Tensor | None = None,
) -> LossOutput:
    """Summed symmetric per-slot contrastive loss.

    Args:
        sims: ``(N, K, S)`` cosine similarities of each sample to each seen class, per
            slot, computed with the candidate-query rule (as at inference).
        labels: ``(N,)`` class indices into the K classes.
        scales: ``(S,)`` logit scales from :class:`SlotTemperature`.
        same: optional ``(S, K, K)`` bool: per slot, the classes whose texts say the same
            thing (the diagonal set). Many actions share what one body part does ("legs
            stand still"); without it those slot texts are pushed apart as if they were
            different, and a part slot learns to name the class instead of the part's
            motion. With it, every such class is a positive of the sample's slot (its
            target weight shared evenly), in both directions.
    """
    if sims.dim() != 3:
        raise ValueError(f"sims must be (N, K, S), got {tuple(sims.shape)}")
    n, k, s = sims.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must be ({n},), got {tuple(labels.shape)}")
    if scales.shape != (s,):
        raise ValueError(f"scales must be ({s},), got {tuple(scales.shape)}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
        raise ValueError(f"labels must lie in [0, {k}), got {labels.tolist()}")
    if same is None:
        same = torch.eye(k, dtype=torch.bool, device=sims.device).expand(s, k, k)
    elif same.shape != (s, k, k):
        raise ValueError(f"same must be ({s}, {k}, {k}), got {tuple(same.shape)}")

    logits = sims * scales.view(1, 1, s)
    target = same[:, labels].permute(1, 2, 0).to(logits.dtype)  # (N, K, S) positives
    row = target / target.sum(dim=1, keepdim=True)
    sample_to_text = -(row * logits.log_softmax(dim=1)).sum(dim=1).mean(dim=0)  # (S,)

    counts = target.sum(dim=0)  # (K, S): positive samples of each text in the batch
    log_prob = logits.log_softmax(dim=0)  # over the batch samples, per class and slot
    per_text = -(target * log_prob).sum(dim=0) / counts.clamp_min(1)  # (K, S)
    present = (counts > 0).to(logits.dtype)
    text_to_sample = (per_text * present).sum(dim=0) / present.sum(dim=0)  # (S,)

    per_slot = 0.5 * (sample_to_text + text_to_sample)
    return LossOutput(total=per_slot.sum(), per_slot=per_slot.detach())


def multi_positive_contrastive(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Symmetric contrastive loss when a sample may match several texts and a text
    several samples.

    Free-text corpora repeat a motion under near-identical descriptions ("walk",
    "walking"); with one-hot targets each such pair would be pushed apart as a false
    negative. Here every marked pair is a positive, its target weight shared evenly
    over the row's (or column's) positives.

    Args:
        logits: ``(N, M)`` scaled similarities of N samples to M texts.
        positives: ``(N, M)`` bool, at least one positive per row and per column.
    """
    if logits.shape != positives.shape or logits.dim() != 2:
        raise ValueError(
            f"logits and positives must be the same (N, M), got {tuple(logits.shape)} "
            f"and {tuple(positives.shape)}"
        )
    if not (positives.any(dim=1).all() and positives.any(dim=0).all()):
        raise ValueError("every sample and every text needs at least one positive")
    target = positives.to(logits.dtype)
    rows = -(target * logits.log_softmax(dim=1)).sum(1) / target.sum(1)
    cols = -(target * logits.log_softmax(dim=0)).sum(0) / target.sum(0)
    return 0.5 * (rows.mean() + cols.mean())
