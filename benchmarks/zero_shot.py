"""Zero-shot benchmark of the recognition core (NW-UCLA, GTU-3D).

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

``--corpus cmu_mocap`` adds the CMU text-motion corpus to both training stages (rows
get a ``+cmu_mocap`` suffix); the unseen classes stay unseen (CMU's free text is not
checked against their names, see docs/MODEL.md).

Jobs can be split over processes (``--shard 0/2`` and ``--shard 1/2``); each appends
JSON lines to ``--results``, and ``--summary`` prints mean ± std per split and variant.

    python benchmarks/zero_shot.py --splits 8/2 5/5 --seeds 0 1 2 3 4
    python benchmarks/zero_shot.py --random-splits 10 --seeds 0 --variants full
    python benchmarks/zero_shot.py --summary
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from results import (  # noqa: E402
    add_dataset_option,
    append_rows,
    dataset_options,
    mean_std,
    read_rows,
)

from dynapurls_ros.model.dynapurls import fusion_slot_weights  # noqa: E402
from dynapurls_ros.training import train as T  # noqa: E402
from dynapurls_ros.training.evaluate import evaluate, prepare  # noqa: E402

VARIANTS = {
    "global": ((1.0, 0.0, 0.0), "bank"),
    "global+parts": ((1.0, 1.0, 0.0), "bank"),
    "full": ((1.0, 1.0, 1.0), "bank"),
    "full-reference": ((1.0, 1.0, 1.0), "reference"),
    "full-labels": ((1.0, 1.0, 1.0), "labels"),
    "full-template": ((1.0, 1.0, 1.0), "template"),
}
DEFAULT_VARIANTS = ["global", "global+parts", "full", "full-reference"]
WINDOW = T.TrainConfig.window_length


def jobs(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    splits = [(args.dataset, s) for s in args.splits]
    splits += [(args.dataset, f"random5-{i}") for i in range(args.random_splits)]
    return [(d, s, seed) for d, s in splits for seed in args.seeds]


def run_job(dataset: str, split: str, seed: int, args: argparse.Namespace) -> list[dict]:
    options = dataset_options(args.dataset_option)
    config = T.TrainConfig(
        datasets=[dataset],
        split=split,
        seed=seed,
        encoder_epochs=args.encoder_epochs,
        align_epochs=args.align_epochs,
        views=args.views,
        window_length=args.window_length,
        corpus=args.corpus,
        text_weight=args.text_weight,
        device=args.device,
        dataset_options=options,
    )
    start = time.perf_counter()
    stage = T.train_encoder_stage(config, progress=False)
    model, data, text = stage.model, stage.data, stage.class_text
    stage1 = time.perf_counter() - start
    encoder_state = {k: v.clone() for k, v in model.state_dict().items()}

    rows = []
    for variant in args.variants:
        fusion, source = VARIANTS[variant]
        if source == "reference" and dataset != "nw_ucla":
            continue
        vconfig = dataclasses.replace(config, fusion=fusion, descriptions=source)
        model.load_state_dict(encoder_state)
        model.slot_weights.copy_(fusion_slot_weights(*fusion))
        vtext = text if source == "bank" else T.seen_text(data, vconfig).to(args.device)
        t0 = time.perf_counter()
        T.seed_everything(seed)
        T.train_alignment(model, stage.tokens, stage.labels, vtext, vconfig, corpus=stage.corpus)
        stage2 = time.perf_counter() - t0
        info = T.run_info(vconfig, data)
        result = evaluate(model.cpu(), info, prepare(info, [dataset], split, source, options))
        model.to(args.device)
        row = {
            "dataset": dataset,
            "split": split,
            "seed": seed,
            "variant": variant
            + ("+" + args.corpus if args.corpus else "")
            + (f"+text{args.text_weight:g}" if args.text_weight else "")
            + "".join(f"+{d}.{k}={v}" for d, k, v in args.dataset_option)
            + (f"+window{args.window_length}" if args.window_length != WINDOW else ""),
            "top1": result["top1"],
            "top5": result["top5"],
            "gzsl": result.get("gzsl"),
            "per_class": result["per_class"],
            "train_seconds": round(stage1 + stage2, 1),
            "threads": torch.get_num_threads(),
            "device": args.device,
        }
        print(
            f"{dataset:8s} {split:10s} seed {seed}  {row['variant']:24s} top1 {row['top1']:5.1f}  "
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
        groups[(row["dataset"], split, row["variant"], row.get("device", "cpu"))].append(row)
    print(
        f"{'dataset':8s} {'split':26s} {'variant':24s} {'device':6s} {'n':>3s}  "
        "top-1 mean ± std   train s"
    )
    for (dataset, split, variant, device), members in sorted(groups.items()):
        top1 = [m["top1"] for m in members]
        seconds = statistics.mean(m["train_seconds"] for m in members)
        print(
            f"{dataset:8s} {split:26s} {variant:24s} {device:6s} {len(top1):3d}  "
            f"{mean_std(top1)}       {seconds:5.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="nw_ucla")
    parser.add_argument("--splits", nargs="*", default=["8/2", "5/5"])
    parser.add_argument("--random-splits", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(VARIANTS))
    parser.add_argument("--encoder-epochs", type=int, default=10)
    parser.add_argument("--align-epochs", type=int, default=8)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument(
        "--window-length",
        type=int,
        default=WINDOW,
        help="frames per window at the 30 fps model rate",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="torch device of the network")
    parser.add_argument("--corpus", help="add a text-motion corpus (cmu_mocap) to training")
    parser.add_argument(
        "--text-weight",
        type=float,
        default=0.0,
        help="stage 1 also aligns labelled windows with their global descriptions",
    )
    add_dataset_option(parser)
    parser.add_argument("--shard", default="0/1", help="i/n: run every n-th job from i")
    parser.add_argument("--results", type=Path, default=REPO / "runs" / "zero_shot.jsonl")
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
