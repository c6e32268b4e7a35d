"""DynaPURLS: skeleton tokens matched to eight-slot class descriptions.

Inference rule (leak-free): for every *candidate* class, that class's part and phase
descriptions query the sample's tokens; the pooled vectors are projected into the text
space and compared with the same descriptions. A class therefore scores high when the
body parts / phases *it* describes look like its description. No label is used: the
released code instead built the queries from the ground-truth class at test time,
which leaks the answer into the features. Training uses the same rule over the seen
classes, so train and test compute the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dynapurls_ros.model.frozen import Encoder
from dynapurls_ros.model.losses import SlotTemperature
from dynapurls_ros.model.partition import AdaptivePartition
from dynapurls_ros.model.shift_gcn import EncoderConfig, ShiftGCNEncoder, known_fields
from dynapurls_ros.text.descriptions import PART_SLOTS, PHASE_SLOTS, SLOTS

CHECKPOINT_FORMAT = "dynapurls-model/1"
NUM_LOCAL = len(PART_SLOTS) + len(PHASE_SLOTS)  # slots pooled by attention (all but global)
GLOBAL_INDEX = SLOTS.index("global")  # index of the global description among the 8 slots


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; ``to_dict`` holds builtins only.

    ``fusion`` = (global, parts, phases) weights of :meth:`DynaPURLS.fuse`, normalised to
    sum to 1. ``text_encoder`` records the spec of the text model whose space the
    projections map into; class texts from another model are meaningless to it.
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    text_encoder: str = "minilm"
    text_dim: int = 384
    attn_dim: int = 256
    heads: int = 2
    hidden_dim: int = 256
    dropout: float = 0.3
    fusion: tuple[float, float, float] = (1.0, 1.0, 1.0)
    init_logit_scale: float = 1 / 0.07
    max_logit_scale: float = 100.0
    aux_classes: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "fusion", tuple(float(w) for w in self.fusion))
        if len(self.fusion) != 3 or min(self.fusion) < 0 or sum(self.fusion) <= 0:
            raise ValueError(
                f"ModelConfig.fusion must be 3 non-negative weights (global, parts, phases) "
                f"with a positive sum, got {self.fusion}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["encoder"] = self.encoder.to_dict()
        data["fusion"] = list(self.fusion)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        data = known_fields(cls, data)
        if "encoder" in data:
            data["encoder"] = EncoderConfig.from_dict(data["encoder"])
        return cls(**data)


def fusion_slot_weights(global_w: float, parts_w: float, phases_w: float) -> torch.Tensor:
    """Per-slot weights ``(8,)``: each group's weight split evenly over its slots, all
    normalised to sum to 1 (so the fused logit stays on the scale of the slot logits)."""
    weights = torch.tensor(
        [parts_w / len(PART_SLOTS)] * len(PART_SLOTS)
        + [phases_w / len(PHASE_SLOTS)] * len(PHASE_SLOTS)
        + [global_w]
    )
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"fusion weights must be >= 0 with a positive sum: {weights.tolist()}")
    return weights / weights.sum()


@dataclass(frozen=True)
class Candidates:
    """Candidate class texts prepared for matching (see :meth:`DynaPURLS.prepare`).

    ``text``: ``(K, 8, d)`` unit embeddings; ``queries``: ``(K, 7, attn_dim)`` projected
    part/phase attention queries. Valid for the weights they were made with.
    """

    text: torch.Tensor
    queries: torch.Tensor

    def __len__(self) -> int:
        return self.text.shape[0]


class TextProjection(nn.Module):
    """Visual vector ``(..., C)`` -> text space ``(..., d)``: Linear, BN, tanh, dropout, Linear.

    BatchNorm over all projected vectors of a batch keeps the hidden units centred
    whatever the attention produced; tanh bounds them so no single unit dominates the
    cosine after the output layer.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.Tanh(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, x.shape[-1])).view(*x.shape[:-1], -1)


class DynaPURLS(nn.Module):
    """Shift-GCN tokens + text-queried partitioning + projections into the text space.

    Projections: one shared by the seven attention-pooled slots and one for the global
    vector. The pooled vectors of every part/phase slot are convex combinations of the
    same unit tokens (only the weights differ), so one map from token space to text
    space fits them all and is trained by every description, which is what lets it
    transfer to unseen classes; seven separate maps would each see one slot's texts and
    cost seven times the parameters. The global vector is a uniform mean, whose norm
    and statistics differ from peaked attention pools, so it gets its own map.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ModelConfig()
        self.encoder = ShiftGCNEncoder(cfg.encoder)
        channels = self.encoder.out_channels
        self.partition = AdaptivePartition(cfg.text_dim, channels, cfg.attn_dim, cfg.heads)
        self.local_proj = TextProjection(channels, cfg.hidden_dim, cfg.text_dim, cfg.dropout)
        self.global_proj = TextProjection(channels, cfg.hidden_dim, cfg.text_dim, cfg.dropout)
        self.temperature = SlotTemperature(len(SLOTS), cfg.init_logit_scale, cfg.max_logit_scale)
        self.register_buffer("slot_weights", fusion_slot_weights(*cfg.fusion), persistent=False)
        self.aux_head = nn.Linear(channels, cfg.aux_classes) if cfg.aux_classes else None

    def tokens(self, x: torch.Tensor, encoder: Encoder | None = None) -> torch.Tensor:
        """Skeleton windows ``(N, 3, T, 25)`` -> unit tokens ``(N, L = T'*V, C)``.

        ``encoder``: a faster stand-in for ``self.encoder`` with the same output, for
        inference (:func:`dynapurls_ros.model.frozen.frozen_encoder`).
        """
        features = (encoder or self.encoder)(x)  # (N, C, T', V)
        return F.normalize(features.flatten(2).transpose(1, 2), dim=-1)

    def _check_class_text(self, class_text: torch.Tensor) -> torch.Tensor:
        expected = (len(SLOTS), self.config.text_dim)
        if class_text.dim() != 3 or tuple(class_text.shape[1:]) != expected:
            raise ValueError(
                f"class_text must be (K, {expected[0]}, {expected[1]}) embeddings from "
                f"{self.config.text_encoder!r}, got {tuple(class_text.shape)}"
            )
        return F.normalize(class_text, dim=-1)

    def prepare(self, class_text: torch.Tensor) -> Candidates:
        """Normalise ``(K, 8, d)`` class texts and project their attention queries once.

        For inference over a fixed vocabulary (the recogniser calls it when the
        vocabulary changes; at K=60 it saves ~40M multiply-adds per call). In training
        pass the raw tensor instead, so the query projection is part of the graph.
        """
        text = self._check_class_text(class_text)
        return Candidates(text, self.partition.project_queries(text[:, :NUM_LOCAL]))

    def _as_candidates(self, class_text: torch.Tensor | Candidates) -> Candidates:
        return class_text if isinstance(class_text, Candidates) else self.prepare(class_text)

    def _projected_slots(
        self, tokens: torch.Tensor, candidates: Candidates
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Projected, not yet normalised slot vectors of tokens ``(N, L, C)``: part/phase
        ``(N, K, 7, d)`` pooled by each candidate's own queries, global ``(N, d)`` from the
        mean token. The one place both :meth:`token_similarities` and
        :meth:`slot_features` take their features from, so they cannot disagree."""
        pooled, _ = self.partition.pool_candidates(tokens, candidates.queries, projected=True)
        return self.local_proj(pooled), self.global_proj(tokens.mean(dim=1))

    def token_similarities(
        self, tokens: torch.Tensor, class_text: torch.Tensor | Candidates
    ) -> torch.Tensor:
        """Cosine similarities ``(N, K, 8)`` of tokens ``(N, L, C)`` to each candidate's slots.

        Part/phase slots: the candidate's own descriptions pool the sample's tokens
        (:meth:`AdaptivePartition.pool_candidates`), then the projected pool is compared
        with those descriptions. Global slot: the projected mean token against the
        candidate's global description. ``class_text``: ``(K, 8, d)`` or :meth:`prepare`'s
        result.
        """
        candidates = self._as_candidates(class_text)
        text = candidates.text
        local, global_vec = self._projected_slots(tokens, candidates)
        # cosine = dot / norm: avoids materialising a normalised copy of the largest
        # tensor of the head (N*K*7 vectors).
        local_sims = (local * text[:, :NUM_LOCAL]).sum(dim=-1) / local.norm(dim=-1).clamp_min(1e-12)
        global_sims = F.normalize(global_vec, dim=-1) @ text[:, NUM_LOCAL].T  # (N, K)
        return torch.cat([local_sims, global_sims.unsqueeze(-1)], dim=-1)

    def global_vector(self, mean_tokens: torch.Tensor) -> torch.Tensor:
        """Unit global-slot vectors ``(N, d)`` of mean tokens ``(N, C)``: what the global
        description is compared with (and what corpus pre-training aligns with free text,
        from mean tokens it may have stored instead of all tokens)."""
        return F.normalize(self.global_proj(mean_tokens), dim=-1)

    def global_logits(self, mean_tokens: torch.Tensor, texts: torch.Tensor) -> torch.Tensor:
        """Global-slot logits ``(N, M)`` of mean tokens ``(N, C)`` against unit global
        texts ``(M, d)`` at the global slot's learned scale: how free text (a corpus)
        and class descriptions (stage-1 alignment) are matched before stage 2."""
        scale = self.temperature()[GLOBAL_INDEX]
        return self.global_vector(mean_tokens) @ texts.T * scale

    def slot_features(
        self, tokens: torch.Tensor, class_text: torch.Tensor | Candidates
    ) -> torch.Tensor:
        """Unit projected slot features ``(N, K, 8, d)`` of tokens ``(N, L, C)``.

        ``(features * candidates.text).sum(-1)`` equals :meth:`token_similarities`; kept
        as vectors so that scores against other texts (e.g. the online refinement's) are
        dot products, with the pooling still queried by the candidates' own descriptions.
        Costs a normalised ``(N, K, 8, d)`` tensor, which :meth:`token_similarities` avoids.
        """
        local, global_vec = self._projected_slots(tokens, self._as_candidates(class_text))
        local = F.normalize(local, dim=-1)
        global_vec = F.normalize(global_vec, dim=-1)[:, None, None, :]
        return torch.cat([local, global_vec.expand(-1, local.shape[1], 1, -1)], dim=2)

    def slot_similarities(
        self, x: torch.Tensor, class_text: torch.Tensor | Candidates
    ) -> torch.Tensor:
        """Skeleton windows ``(N, 3, T, 25)``, class texts ``(K, 8, d)`` -> ``(N, K, 8)``."""
        return self.token_similarities(self.tokens(x), class_text)

    def fuse(self, sims: torch.Tensor, slot_weights: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, K, 8)`` similarities -> class logits ``(N, K)``.

        ``logit = sum_s w_s * scale_s * sim_s``: each slot on the scale of its own
        contrastive softmax (the learned temperature), then a convex combination with
        the configured global/parts/phases weights (or ``slot_weights``, e.g. from
        :func:`fusion_slot_weights`, for ablations).
        """
        weights = self.slot_weights if slot_weights is None else slot_weights.to(sims)
        return (sims * (self.temperature() * weights)).sum(dim=-1)

    def forward(self, x: torch.Tensor, class_text: torch.Tensor | Candidates) -> torch.Tensor:
        """Class logits ``(N, K)`` for skeleton windows against candidate class texts."""
        return self.fuse(self.slot_similarities(x, class_text))

    def aux_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Seen-class logits of the auxiliary head (training only), from mean tokens."""
        if self.aux_head is None:
            raise RuntimeError("this model has no auxiliary head (ModelConfig.aux_classes=0)")
        return self.aux_head(tokens.mean(dim=1))

    def to_checkpoint(self) -> dict[str, Any]:
        """Config (builtins) + tensors: loadable with ``torch.load(weights_only=True)``."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "state_dict": self.state_dict(),
        }

    @classmethod
    def from_checkpoint(cls, data: dict[str, Any]) -> DynaPURLS:
        """Rebuild from :meth:`to_checkpoint` output, in eval mode (ready for inference)."""
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        if found != CHECKPOINT_FORMAT:
            raise ValueError(f"not a {CHECKPOINT_FORMAT} checkpoint (format={found!r})")
        model = cls(ModelConfig.from_dict(data["config"]))
        model.load_state_dict(data["state_dict"])
        return model.eval()
