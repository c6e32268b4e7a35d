"""Headroom of zero-shot naming: how well a checkpoint's features separate the unseen
actions, how well its texts name them, and what label-free corrections reach.

Rows: per split and seed, the unseen-class test clips and checkpoints of
``benchmarks/refinement.py`` (same recipe flags, same cache); or, with ``--cross
CKPT ...``, checkpoints trained on whole datasets (``benchmarks/cross_dataset.py
--save-dir``) tested on every clip of ``--targets`` (all classes unseen) with each
``--descriptions`` vocabulary. Clip top-1 (%) of:

* ``encoded``: the encoded class texts (what the recognizer does);
* ``oracle``: each class's eight cosine targets replaced by the mean slot features of
  its *true* test windows. It uses the test labels: an upper bound on what moving the
  targets could give with these features, never a method;
* ``text+oracle``: the encoded texts plus those means (the best a shift of the texts
  towards the data could do);
* ``self-labelled``: no labels, but the whole test set at once: ``--rounds`` rounds of
  soft class assignment, made class-balanced by Sinkhorn normalisation (it assumes every
  class equally frequent), then targets = texts + the assigned windows' mean slot
  features. It sees every clip before answering and knows the classes are balanced, so
  it is optimistic for online self-training from the same predictions;
* ``clusters``: no labels, the whole test set: k-means of the clips' global features
  (``--restarts`` starts, the most compact kept), clusters named by the one-to-one
  cluster-to-class matching with the highest total mean probability under the encoded
  texts; ``purity``: share of clips in their cluster's majority class. Whether the
  features group the clips by action, and whether the texts can name the groups;
* ``reference``: logits minus each class's mean logit over ``--reference-windows``
  windows of the CMU corpus (training data of these recipes, not test data): a fixed
  per-vocabulary correction of classes whose texts score high on any motion;
* ``prior``: online, logits minus ``λ·log`` of a running mean of the predicted
  probabilities (undoes a bias towards classes the model over-predicts), Δ against
  ``encoded`` on ``--orders`` shuffled and class-blocked streams (a robot watching one
  action for a long stretch).

    python benchmarks/headroom.py --corpus cmu_mocap --text-weight 1 \\
        --encoder-epochs 10 --views 4
    python benchmarks/cross_dataset.py --setups cmu --save-dir runs/cross
    python benchmarks/headroom.py --cross runs/cross/cmu-seed*.pt
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import refinement as refinement_benchmark  # noqa: E402
from results import add_dataset_option, dataset_options  # noqa: E402

from dynapurls_ros.checkpoint import RunInfo, load_checkpoint  # noqa: E402
from dynapurls_ros.datasets import load_dataset  # noqa: E402
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, Candidates, DynaPURLS  # noqa: E402
from dynapurls_ros.training.data import clips_for  # noqa: E402
from dynapurls_ros.training.evaluate import (  # noqa: E402
    STREAM_ORDERS,
    StreamFeatures,
    class_text,
    clip_means,
    prepare,
    stacked_windows,
    stream_features,
    stream_order,
    unseen_test,
)


def target_logits(model: DynaPURLS, stream: StreamFeatures, targets: torch.Tensor) -> torch.Tensor:
    """``(C, K)`` clip logits of the stream's slot features against cosine ``targets``
    ``(K, 8, d)`` (the attention queries stay the encoded texts', as in the refinement)."""
    window_logits = model.fuse((stream.features * targets).sum(dim=-1))
    return clip_means(window_logits, stream.counts)


def top1(logits: torch.Tensor, labels: np.ndarray) -> float:
    return 100.0 * float(np.mean(logits.argmax(dim=1).numpy() == labels))


def class_means(stream: StreamFeatures, assignment: torch.Tensor) -> torch.Tensor:
    """Unit ``(K, 8, d)``: for each class, its slot features averaged over the windows
    with the clip-level class ``assignment`` ``(C, K)`` (weights; one-hot = labels)."""
    weights = assignment.repeat_interleave(torch.from_numpy(stream.counts), dim=0)
    return F.normalize(torch.einsum("wk,wksd->ksd", weights, stream.features), dim=-1)


def balanced(probs: torch.Tensor, rounds: int = 3) -> torch.Tensor:
    """Sinkhorn normalisation: every class gets the same total mass, every clip one."""
    for _ in range(rounds):
        probs = probs / probs.sum(dim=0, keepdim=True)
        probs = probs / probs.sum(dim=1, keepdim=True)
    return probs


def self_labelled(
    model: DynaPURLS, stream: StreamFeatures, text: torch.Tensor, rounds: int
) -> torch.Tensor:
    """Clip logits after ``rounds`` of balanced self-labelling of the whole test set."""
    targets = text
    for _ in range(rounds):
        assignment = balanced(target_logits(model, stream, targets).softmax(dim=1))
        targets = F.normalize(text + class_means(stream, assignment), dim=-1)
    return target_logits(model, stream, targets)


def kmeans(points: torch.Tensor, k: int, restarts: int, iterations: int = 50) -> torch.Tensor:
    """Spherical k-means of unit ``points`` ``(N, D)``: the cluster of each point, from
    the restart (seeds 0..) with the highest total cosine to its centres."""
    best, best_fit = torch.zeros(len(points), dtype=torch.long), -float("inf")
    for seed in range(restarts):
        pick = torch.randperm(len(points), generator=torch.Generator().manual_seed(seed))
        centres = points[pick[:k]].clone()
        for _ in range(iterations):
            cluster = (points @ centres.T).argmax(dim=1)
            for j in cluster.unique().tolist():
                centres[j] = F.normalize(points[cluster == j].mean(dim=0), dim=0)
        fit = float((points @ centres.T).max(dim=1).values.sum())
        if fit > best_fit:
            best, best_fit = (points @ centres.T).argmax(dim=1), fit
    return best


def best_matching(score: np.ndarray) -> np.ndarray:
    """Column matched to each row of a square ``score`` matrix, one-to-one, with the
    highest total score (Hungarian method with row/column potentials, O(n^3))."""
    n = len(score)
    cost = -np.asarray(score, dtype=np.float64)
    row_pot, col_pot = np.zeros(n + 1), np.zeros(n + 1)
    owner = np.zeros(n + 1, dtype=np.int64)  # owner[col] = row (1-based; 0 = free)
    for row in range(1, n + 1):
        owner[0], col = row, 0
        slack, came_from = np.full(n + 1, np.inf), np.zeros(n + 1, dtype=np.int64)
        used = np.zeros(n + 1, dtype=bool)
        while owner[col]:
            used[col] = True
            r = owner[col]
            for c in range(1, n + 1):
                if not used[c]:
                    reduced = cost[r - 1, c - 1] - row_pot[r] - col_pot[c]
                    if reduced < slack[c]:
                        slack[c], came_from[c] = reduced, col
            free = [c for c in range(1, n + 1) if not used[c]]
            col_next = min(free, key=lambda c: slack[c])
            delta = slack[col_next]
            for c in range(n + 1):
                if used[c]:
                    row_pot[owner[c]] += delta
                    col_pot[c] -= delta
                else:
                    slack[c] -= delta
            col = col_next
        while col:  # flip the augmenting path
            previous = came_from[col]
            owner[col] = owner[previous]
            col = previous
    matched = np.zeros(n, dtype=np.int64)
    for c in range(1, n + 1):
        matched[owner[c] - 1] = c - 1
    return matched


def named_clusters(cluster: torch.Tensor, probs: torch.Tensor) -> np.ndarray:
    """Class of each clip: its cluster's class under the one-to-one cluster-to-class
    matching with the highest summed mean class probability."""
    k = probs.shape[1]
    mean = np.zeros((k, k))
    for j in cluster.unique().tolist():
        mean[j] = probs[cluster == j].mean(dim=0).numpy()
    return best_matching(mean)[cluster.numpy()]


def purity(cluster: torch.Tensor, labels: np.ndarray) -> float:
    groups = [labels[cluster.numpy() == j] for j in cluster.unique().tolist()]
    return 100.0 * sum(np.bincount(g).max() for g in groups) / len(labels)


def prior_corrected(
    logits: torch.Tensor, order: np.ndarray, strength: float, decay: float, warmup: int
) -> np.ndarray:
    """Online predictions (indexed like ``logits``) with ``strength * log`` of the
    running mean of the uncorrected probabilities subtracted, after ``warmup`` clips."""
    probs = logits.softmax(dim=1)
    prior = torch.full((logits.shape[1],), 1.0 / logits.shape[1])
    predicted = np.empty(len(order), dtype=np.int64)
    for seen, clip in enumerate(order):
        correction = strength * prior.log() if seen >= warmup else 0.0
        predicted[clip] = int((logits[clip] - correction).argmax())
        prior = decay * prior + (1 - decay) * probs[clip]
    return predicted


def reference_windows(frame_rate: float, window_length: int, count: int) -> torch.Tensor:
    """``count`` evaluation windows of randomly chosen CMU corpus trials (seed 0)."""
    corpus = load_dataset("cmu_mocap")
    pick = np.random.default_rng(0).permutation(len(corpus.samples))[:count]
    clips = clips_for([corpus.samples[i] for i in pick], corpus.layout, frame_rate)
    windows, _ = stacked_windows(clips, window_length)
    return windows[:count]


def measure(
    model: DynaPURLS,
    candidates: Candidates,
    stream: StreamFeatures,
    reference: torch.Tensor,
    args: argparse.Namespace,
) -> dict[str, float]:
    """Every column for one checkpoint's test stream (see the module docstring);
    ``reference``: the checkpoint's tokens of the reference windows."""
    labels, text = stream.labels, candidates.text
    encoded = target_logits(model, stream, text)
    truth = F.one_hot(torch.from_numpy(labels), len(text)).float()
    oracle = class_means(stream, truth)
    # the global slot's feature does not depend on the class it was pooled for
    points = F.normalize(clip_means(stream.features[:, 0, GLOBAL_INDEX], stream.counts), dim=1)
    cluster = kmeans(points, len(text), args.restarts)
    bias = model.fuse(model.token_similarities(reference, candidates)).mean(dim=0)
    row = {
        "encoded": top1(encoded, labels),
        "oracle": top1(target_logits(model, stream, oracle), labels),
        "text+oracle": top1(
            target_logits(model, stream, F.normalize(text + oracle, dim=-1)), labels
        ),
        "self-labelled": top1(self_labelled(model, stream, text, args.rounds), labels),
        "clusters": 100.0 * float(np.mean(named_clusters(cluster, encoded.softmax(1)) == labels)),
        "purity": purity(cluster, labels),
        "reference": top1(encoded - bias, labels),
    }
    for kind in STREAM_ORDERS:
        deltas = []
        for seed in range(args.orders):
            order = stream_order(labels, kind, seed)
            predicted = prior_corrected(encoded, order, args.strength, args.decay, args.warmup)
            deltas.append(100.0 * float(np.mean(predicted == labels)) - row["encoded"])
        row[f"prior {kind} Δ"] = statistics.mean(deltas)
        row[f"prior {kind} worst"] = min(deltas)
    return row


def split_streams(
    args: argparse.Namespace,
) -> Iterator[tuple[str, int, DynaPURLS, RunInfo, Candidates, StreamFeatures]]:
    """(row name, seed, ...) for the checkpoints of ``benchmarks/refinement.py``."""
    recipe = refinement_benchmark.recipe_of(args)
    for name in args.splits:
        dataset, split = name.split(":")
        for seed in args.seeds:
            path = refinement_benchmark.checkpoint(recipe, dataset, split, seed)
            model, info, candidates, stream = refinement_benchmark.test_stream(path, dataset, split)
            yield name, seed, model, info, candidates, stream


def cross_streams(
    args: argparse.Namespace,
) -> Iterator[tuple[str, int, DynaPURLS, RunInfo, Candidates, StreamFeatures]]:
    """(row name, seed, ...) for whole-dataset checkpoints on every target dataset."""
    options = dataset_options(args.dataset_option)
    read = "".join(f" ({d}.{k}={v})" for d, k, v in args.dataset_option)
    for path in args.cross:
        model, info = load_checkpoint(path)
        for target in args.targets:
            for source in args.descriptions:
                setup = prepare(info, [target], None, source, options)
                candidates = model.prepare(class_text(model, setup)[setup.unseen])
                clips, labels = unseen_test(setup)
                stream = stream_features(model, candidates, clips, labels, info.window_length)
                trained = [info.settings.get("corpus"), *info.datasets]
                name = f"{' + '.join(filter(None, trained))} -> {target} {source}{read}"
                yield name, int(info.settings.get("seed", -1)), model, info, candidates, stream


@torch.no_grad()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", default=list(refinement_benchmark.SPLITS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cross", nargs="+", type=Path, help="whole-dataset checkpoints")
    parser.add_argument("--targets", nargs="+", default=["nw_ucla", "gtu3d"])
    parser.add_argument("--descriptions", nargs="+", default=["labels", "bank"])
    add_dataset_option(parser)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10, help="self-labelling rounds")
    parser.add_argument("--restarts", type=int, default=10, help="k-means restarts")
    parser.add_argument("--reference-windows", type=int, default=512)
    parser.add_argument("--strength", type=float, default=0.5, help="prior correction λ")
    parser.add_argument("--decay", type=float, default=0.995, help="running prior's decay")
    parser.add_argument("--warmup", type=int, default=20, help="clips before correcting")
    refinement_benchmark.add_recipe_arguments(parser)
    args = parser.parse_args(argv)
    columns = ["encoded", "oracle", "text+oracle", "self-labelled", "clusters", "purity"]
    columns += ["reference"] + [f"prior {kind} Δ" for kind in STREAM_ORDERS]
    print(f"prior correction λ {args.strength}, decay {args.decay}, warmup {args.warmup}")
    print("| checkpoints | seed | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    table: dict[str, list[dict[str, float]]] = {}
    reference: dict[tuple[float, int], torch.Tensor] = {}
    tokens_of: tuple[DynaPURLS | None, torch.Tensor | None] = (None, None)
    streams = cross_streams(args) if args.cross else split_streams(args)
    for name, seed, model, info, candidates, stream in streams:
        key = (info.frame_rate, info.window_length)
        if key not in reference:
            reference[key] = reference_windows(*key, args.reference_windows)
        if tokens_of[0] is not model:
            tokens_of = (model, model.eval().tokens(reference[key]))
        row = measure(model, candidates, stream, tokens_of[1], args)
        table.setdefault(name, []).append(row)
        cells = [f"{row[c]:+.1f}" if "Δ" in c else f"{row[c]:.1f}" for c in columns]
        print(f"| {name} | {seed} | " + " | ".join(cells) + " |", flush=True)
    print("\nmean ± std over seeds (prior: mean Δ over seeds and orders, worst order)")
    print("| checkpoints | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, rows in table.items():
        cells = [
            refinement_benchmark.mean_std([r[c] for r in rows]) for c in columns if "Δ" not in c
        ]
        for kind in STREAM_ORDERS:
            mean = statistics.mean(r[f"prior {kind} Δ"] for r in rows)
            worst = min(r[f"prior {kind} worst"] for r in rows)
            cells.append(f"{mean:+.1f} (worst {worst:+.1f})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
