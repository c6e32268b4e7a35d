"""The headroom benchmark's label-free pieces (benchmarks/headroom.py): the
balancing, clustering, cluster naming and prior correction behind the figures that
docs/REFINEMENT.md quotes."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import headroom as headroom  # noqa: E402


def test_balancing_gives_every_class_the_same_mass() -> None:
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    balanced = headroom.balanced(probs, rounds=50)
    assert torch.allclose(balanced.sum(dim=1), torch.ones(4))
    assert torch.allclose(balanced.sum(dim=0), torch.full((2,), 2.0), atol=1e-3)
    assert balanced.argmax(dim=1).tolist() == [0, 0, 1, 1]  # the least sure go to class 1


def test_kmeans_finds_separated_groups_and_names_them_one_to_one() -> None:
    g = torch.Generator().manual_seed(0)
    centres = F.normalize(torch.randn(3, 16, generator=g), dim=1)
    truth = np.repeat([0, 1, 2], 20)
    points = F.normalize(centres[truth] + 0.05 * torch.randn(60, 16, generator=g), dim=1)
    cluster = headroom.kmeans(points, 3, restarts=5)
    assert headroom.purity(cluster, truth) == 100.0
    # a model that puts most of class 2 on class 1: per-clip argmax says 1, yet the
    # one-to-one naming gives the only unclaimed class to the cluster
    probs = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.5, 0.4]])[truth]
    assert set(probs.argmax(dim=1).tolist()) == {0, 1}
    assert np.array_equal(headroom.named_clusters(cluster, probs), truth)


def test_prior_correction_undoes_a_bias_towards_one_class() -> None:
    # 50 clips of each class; class 1 clips score class 0 slightly higher
    labels = np.repeat([0, 1], 50)
    logits = torch.tensor([[2.0, 0.0], [1.0, 0.8]])[labels]
    order = np.random.default_rng(0).permutation(100)
    plain = headroom.prior_corrected(logits, order, strength=0.0, decay=0.9, warmup=0)
    corrected = headroom.prior_corrected(logits, order, strength=1.0, decay=0.9, warmup=10)
    assert (plain == labels).mean() == 0.5
    assert (corrected[order[10:]] == labels[order[10:]]).mean() == 1.0


def test_cluster_naming_is_one_to_one_for_large_vocabularies() -> None:
    # 14 clusters whose clips all lean to class (j + 3) % 14, one cluster torn between two
    cluster = torch.arange(14).repeat_interleave(5)
    probs = torch.full((70, 14), 0.02)
    probs[torch.arange(70), (cluster + 3) % 14] = 0.6
    probs[cluster == 0, 4] = 0.7  # cluster 0 prefers cluster 1's class: it gets its own
    named = headroom.named_clusters(cluster, probs)
    expected = ((cluster + 3) % 14).numpy()
    expected[cluster.numpy() == 0] = 3
    assert sorted(set(named.tolist())) == list(range(14))
    assert np.array_equal(named, expected)


def test_best_matching_finds_the_optimum_a_greedy_choice_misses() -> None:
    score = np.array([[0.6, 0.7, 0.0], [0.0, 0.6, 0.1], [0.2, 0.0, 0.5]])
    assert headroom.best_matching(score).tolist() == [0, 1, 2]  # 1.7; greedy (0->1) 1.2
    rng = np.random.default_rng(0)
    for n in (1, 4, 6):
        score = rng.random((n, n))
        best = max(
            itertools.permutations(range(n)), key=lambda p: sum(score[i, p[i]] for i in range(n))
        )
        assert headroom.best_matching(score).tolist() == list(best)
