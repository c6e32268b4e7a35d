"""Zero-shot benchmark of the recognition core (NW-UCLA, UTD-MHAD, GTU-3D splits).

Protocol: train on the seen classes of a split (all views), test on every clip of its
unseen classes; the checkpoint is the final epoch (nothing is chosen on test data).
For each (split, training seed) the skeleton encoder is pre-trained once on the seen
classes (stage 1); every variant below then trains its own text alignment on that
frozen encoder (stage 2) and is evaluated:

- ``global``: global description only (the simple baseline row);
- ``global+parts``: + body-part descriptions;
- ``full``: + temporal-phase descriptions (the DynaPURLS model);
- ``full-reference``: the full model with the paper authors' descriptions
  (``$DYNAPURLS_DATA/reference``; NW-UCLA only);
- ``full-labels`` / ``full-template``: the full model with label names only / with the
  template fallback's descriptions (the description benchmark: labels, template, bank,
  reference on the same encoders and seeds).

- ``full, test labels`` / ``full, test varied`` / ``full, test template``: the full
  model as trained, scored with the label names alone / with the mean over each label's
  phrasings / with the template fallback;

What the fallbacks are worth with the unseen classes' bank entries hidden is measured
on the ``full`` checkpoints this keeps, by ``benchmarks.fallback_accuracy``.

The training recipe is the shipped one unless the recipe flags change it (rows are
tagged with what they change, or ``--tag``); ``--corpus cmu_mocap`` adds the CMU
text-motion corpus to both training stages (the unseen classes stay unseen: CMU's free
text is not checked against their names). The ``full`` model of each
job is kept under ``runs/zero_shot/<recipe>/``.

Jobs can be split over processes (``--shard 0/2`` and ``--shard 1/2``); each appends
JSON lines to ``--results``, and ``--summary`` prints mean ± std per split and variant.

    python -m benchmarks.zero_shot --splits 8/2 5/5 --seeds 0 1 2 3 4
    python -m benchmarks.zero_shot --dataset utd_mhad --splits 22/5 18/9 14/13
    python -m benchmarks.zero_shot --dataset utd_mhad --splits 22/5 18/9 14/13 --variants full
    python -m benchmarks.zero_shot --random-splits 10 --seeds 0 --variants full
    python -m benchmarks.zero_shot --summary
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

from benchmarks.common import (
    RUNS,
    add_dataset_option,
    add_recipe_arguments,
    append_rows,
    dataset_options,
    mean_std,
    read_rows,
    recipe,
    recipe_tag,
)
from dynapurls_ros.checkpoint import save_checkpoint
from dynapurls_ros.training.evaluate import evaluate, prepare
from dynapurls_ros.training.train import (
    FULL_FUSION,
    GLOBAL_ONLY,
    TrainResult,
    train_encoder_stage,
)

# name: (fusion, stage-2 descriptions (None: the recipe's), test descriptions)
VARIANTS = {
    "global": (GLOBAL_ONLY, None, "bank"),
    "global+parts": ((1.0, 1.0, 0.0), None, "bank"),
    "full": (FULL_FUSION, None, "bank"),
    "full, test labels": (FULL_FUSION, None, "labels"),
    "full, test varied": (FULL_FUSION, None, "varied"),
    "full, test template": (FULL_FUSION, None, "template"),
    "full-reference": (FULL_FUSION, "reference", "reference"),
    "full-labels": (FULL_FUSION, "labels", "labels"),
    "full-template": (FULL_FUSION, "template", "template"),
}
DEFAULT_VARIANTS = ["global", "global+parts", "full", "full-reference"]


def jobs(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    splits = [(args.dataset, s) for s in args.splits]
    splits += [(args.dataset, f"random5-{i}") for i in range(args.random_splits)]
    return [(d, s, seed) for d, s in splits for seed in args.seeds]


def run_job(dataset: str, split: str, seed: int, args: argparse.Namespace) -> list[dict]:
    options = dataset_options(args.dataset_option)
    config = recipe(args, datasets=[dataset], split=split, seed=seed, dataset_options=options)
    tag = args.tag or recipe_tag(config)
    tag += "".join(f"+{d}.{k}={v}" for d, k, v in args.dataset_option)
    stage = train_encoder_stage(config, progress=False)
    rows = []
    aligned: dict[tuple, tuple[TrainResult, float]] = {}  # test-only variants share one
    for variant in args.variants:
        fusion, train_source, test_source = VARIANTS[variant]
        if "reference" in (train_source, test_source) and dataset != "nw_ucla":
            continue
        if (fusion, train_source) not in aligned:
            start = time.perf_counter()
            result = stage.align(fusion=fusion, descriptions=train_source)
            aligned[fusion, train_source] = result, stage.seconds + time.perf_counter() - start
        result, seconds = aligned[fusion, train_source]
        setup = prepare(result.info, [dataset], split, test_source, options)
        metrics = evaluate(result.model, result.info, setup)
        if variant == "full":
            name = f"{dataset}_{split.replace('/', '-')}_s{seed}.pt"
            save_checkpoint(RUNS / "zero_shot" / tag / name, result.model, result.info)
        row = {
            "dataset": dataset,
            "split": split,
            "seed": seed,
            "recipe": tag,
            "variant": variant,
            "top1": metrics["top1"],
            "top5": metrics["top5"],
            "gzsl": metrics.get("gzsl"),
            "per_class": metrics["per_class"],
            "train_seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "device": config.device,
        }
        print(
            f"{dataset:8s} {split:10s} seed {seed} {tag} {variant:18s} top1 {row['top1']:5.1f}  "
            f"top5 {row['top5']:5.1f}  train {row['train_seconds']:.0f}s",
            flush=True,
        )
        rows.append(row)
    return rows


def summary(path: Path) -> None:
    rows = read_rows(path)
    groups: dict[tuple[str, str, str, str], list[dict]] = defaultdict(list)
    for row in rows:
        split = "random5 (mean of splits)" if row["split"].startswith("random5") else row["split"]
        key = (row["dataset"], split, row.get("recipe", ""), row["variant"], row["device"])
        groups[key].append(row)
    print("| dataset | split | recipe | variant | device | n | top-1 | seeds | train s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (dataset, split, tag, variant, device), members in sorted(groups.items()):
        top1 = [m["top1"] for m in members]
        seconds = statistics.mean(m["train_seconds"] for m in members)
        seeds = ",".join(str(m["seed"]) for m in members)
        print(
            f"| {dataset} | {split} | {tag} | {variant} | {device} | {len(top1)} | "
            f"{mean_std(top1)} | {seeds} | {seconds:.0f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="nw_ucla")
    parser.add_argument("--splits", nargs="*", default=["8/2", "5/5"])
    parser.add_argument("--random-splits", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(VARIANTS))
    add_recipe_arguments(parser)
    parser.add_argument("--tag", help="name of this recipe in the results (default: derived)")
    parser.add_argument("--threads", type=int, default=1)
    add_dataset_option(parser)
    parser.add_argument("--shard", default="0/1", help="i/n: run every n-th job from i")
    parser.add_argument("--results", type=Path, default=RUNS / "zero_shot.jsonl")
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    args = parser.parse_args()
    if args.summary:
        summary(args.results)
        return 0
    torch.set_num_threads(args.threads)
    index, count = (int(v) for v in args.shard.split("/"))
    for dataset, split, seed in jobs(args)[index::count]:
        rows = run_job(dataset, split, seed, args)
        append_rows(args.results, rows)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
