"""Adaptive partitioning: text descriptions choose which skeleton tokens they pool.

Each description embedding is an attention query over the ``L = T'*V`` joint tokens of
a sample, so "the hands ..." pools mostly hand/arm tokens and "at the start ..." mostly
early frames, without a hand-made body-part split. There is no value projection: the
pooled vector is a convex combination of the (unit) tokens themselves, so it stays in
the encoder's feature space and one projection into the text space serves every slot.

Head logits are *averaged before* the softmax. With no value projection that is exactly
one dot product over the whole ``attn_dim``, scaled by ``1 / (heads * sqrt(attn_dim /
heads))``: it is computed that way (one einsum), which is equal to the per-head form and
cheaper. ``heads`` therefore only sets the temperature of the attention (the test
suite checks the equality against the explicit per-head computation).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class AdaptivePartition(nn.Module):
    """Text-queried attention pooling of skeleton tokens.

    Args:
        text_dim: size of the description embeddings (queries).
        token_dim: channels ``C`` of the skeleton tokens (keys and pooled values).
        attn_dim: size of the shared query/key space.
        heads: number of heads whose logits are averaged (see module docstring).
    """

    def __init__(self, text_dim: int, token_dim: int, attn_dim: int = 256, heads: int = 2) -> None:
        super().__init__()
        if heads < 1 or attn_dim % heads:
            raise ValueError(
                f"attn_dim ({attn_dim}) must be a positive multiple of heads ({heads})"
            )
        self.query = nn.Linear(text_dim, attn_dim)
        self.key = nn.Linear(token_dim, attn_dim)
        self.heads = heads
        self.scale = 1.0 / (heads * math.sqrt(attn_dim // heads))

    def project_queries(self, queries: torch.Tensor) -> torch.Tensor:
        """Text embeddings ``(..., d_text)`` -> scaled queries ``(..., attn_dim)``.

        Depends only on the texts, so a fixed vocabulary can project once and reuse it
        (``pool_candidates(..., projected=True)``).
        """
        return self.query(queries) * self.scale

    def pool_per_sample(
        self, tokens: torch.Tensor, queries: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each sample's own queries: tokens ``(N, L, C)``, queries ``(N, S, d_text)``.

        Returns pooled ``(N, S, C)`` and attention ``(N, S, L)`` (sums to 1 over ``L``).
        """
        logits = torch.einsum("nsa,nla->nsl", self.project_queries(queries), self.key(tokens))
        weights = logits.softmax(dim=-1)
        return torch.einsum("nsl,nlc->nsc", weights, tokens), weights

    def pool_candidates(
        self, tokens: torch.Tensor, class_queries: torch.Tensor, *, projected: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every candidate class queries every sample: tokens ``(N, L, C)``, queries
        ``(K, S, d_text)`` shared by the batch (or ``(K, S, attn_dim)`` from
        :meth:`project_queries` with ``projected=True``).

        Returns pooled ``(N, K, S, C)`` and attention ``(N, K, S, L)``. The queries are
        projected once per class, not once per sample, and no label is involved: this
        is the rule used both in training (over seen classes) and at inference.
        """
        queries = class_queries if projected else self.project_queries(class_queries)
        weights = torch.einsum("ksa,nla->nksl", queries, self.key(tokens)).softmax(dim=-1)
        return torch.einsum("nksl,nlc->nksc", weights, tokens), weights
