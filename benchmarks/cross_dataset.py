"""Cross-dataset zero-shot benchmark: what pre-training on a text-motion corpus buys.

Protocol: train on the training sets of a setup (every class of those datasets seen,
plus the CMU corpus where named), then test on every clip of a dataset the model never
saw, all of whose classes are unseen: NW-UCLA 10-way, GTU-3D 14-way. The vocabulary is
the target's label names (``labels``) or this project's description bank (``bank``).
The checkpoint is the final epoch; nothing is chosen on test data. Seeds fix the
training run (data order, augmentation, initialisation).

Setups (training -> targets):

- ``cmu``: CMU corpus only -> NW-UCLA and GTU-3D;
- ``cmu+gtu3d`` -> NW-UCLA; ``cmu+nw_ucla`` -> GTU-3D;
- ``gtu3d`` -> NW-UCLA; ``nw_ucla`` -> GTU-3D (the baselines without CMU).

Results are appended as JSON lines to ``--results``; ``--summary`` prints mean ± std.

    python benchmarks/cross_dataset.py --setups cmu --seeds 0 1 2
    python benchmarks/cross_dataset.py --summary
"""

from __future__ import annotations

import argparse
import json
import os
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

from dynapurls_ros.checkpoint import save_checkpoint  # noqa: E402
from dynapurls_ros.training.evaluate import evaluate, prepare  # noqa: E402
from dynapurls_ros.training.train import TrainConfig, train  # noqa: E402

CORPUS = "cmu_mocap"
SETUPS: dict[str, tuple[list[str], bool, list[str]]] = {
    # name: (labelled training datasets, with the CMU corpus, targets)
    "cmu": ([], True, ["nw_ucla", "gtu3d"]),
    "cmu+gtu3d": (["gtu3d"], True, ["nw_ucla"]),
    "cmu+nw_ucla": (["nw_ucla"], True, ["gtu3d"]),
    "gtu3d": (["gtu3d"], False, ["nw_ucla"]),
    "nw_ucla": (["nw_ucla"], False, ["gtu3d"]),
}
DESCRIPTIONS = ("labels", "bank")


def run_job(setup: str, seed: int, args: argparse.Namespace) -> list[dict]:
    datasets, with_corpus, targets = SETUPS[setup]
    options = dataset_options(args.dataset_option)
    config = TrainConfig(
        datasets=datasets,
        corpus=CORPUS if with_corpus else None,
        corpus_drift=args.corpus_drift,
        text_weight=args.text_weight,
        seed=seed,
        encoder_epochs=args.encoder_epochs,
        align_epochs=args.align_epochs,
        views=args.views,
        batch_size=args.batch_size,
        threads=args.threads,
        device=args.device,
        dataset_options=options,
    )
    start = time.perf_counter()
    result = train(config, progress=False)
    seconds = time.perf_counter() - start
    if args.save_dir:
        args.save_dir.mkdir(parents=True, exist_ok=True)
        save_checkpoint(args.save_dir / f"{setup}-seed{seed}.pt", result.model, result.info)
    rows = []
    for target in targets:
        for source in DESCRIPTIONS:
            metrics = evaluate(
                result.model, result.info, prepare(result.info, [target], None, source, options)
            )
            row = {
                "setup": setup,
                "target": target,
                "descriptions": source,
                "seed": seed,
                "top1": metrics["top1"],
                "top5": metrics["top5"],
                "train_seconds": round(seconds, 1),
                "encoder_epochs": args.encoder_epochs,
                "text_weight": args.text_weight,
                "corpus_drift": args.corpus_drift,
                "batch_size": args.batch_size,
                "threads": torch.get_num_threads(),
                "device": args.device,
                "tag": args.tag if with_corpus else "",  # tags name corpus variants
                "dataset_options": options,
            }
            print(
                f"{setup:12s} -> {target:8s} {source:7s} seed {seed}  top1 {row['top1']:5.1f}  "
                f"top5 {row['top5']:5.1f}  train {seconds:.0f}s",
                flush=True,
            )
            rows.append(row)
    return rows


def summary(path: Path) -> None:
    rows = read_rows(path)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        key = (
            row["target"],
            row["setup"],
            row["descriptions"],
            row["encoder_epochs"],
            row.get("batch_size", 64),
            row.get("tag", ""),
            row.get("device", "cpu"),
            row.get("text_weight", 0.0),
            json.dumps(row.get("dataset_options", {}), sort_keys=True),
            row.get("corpus_drift", 0.0),
        )
        groups[key].append(row)
    print(
        f"{'target':8s} {'trained on':12s} {'vocab':7s} {'ep':>3s} {'bs':>4s} {'tag':10s} "
        f"{'device':6s} {'text':>4s} {'n':>2s}  top-1 mean ± std  (seeds; options; drift)"
    )
    for (
        target,
        setup,
        source,
        epochs,
        batch,
        tag,
        device,
        text,
        options,
        drift,
    ), members in sorted(groups.items()):
        top1 = [m["top1"] for m in members]
        seeds = ",".join(str(m["seed"]) for m in members)
        print(
            f"{target:8s} {setup:12s} {source:7s} {epochs:3d} {batch:4d} {tag:10s} {device:6s} "
            f"{text:4g} {len(top1):2d}  "
            f"{mean_std(top1)}   seeds {seeds}"
            + (f"; {options}" if options != "{}" else "")
            + (f"; drift {drift:g}" if drift else "")
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--encoder-epochs", type=int, default=12)
    parser.add_argument("--align-epochs", type=int, default=8)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--text-weight", type=float, default=0.0, help="stage-1 text alignment of labelled data"
    )
    parser.add_argument(
        "--corpus-drift", type=float, default=0.0, help="max std of corpus tracking wobble"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="torch device of the network")
    add_dataset_option(parser)
    parser.add_argument("--tag", default="", help="label of this configuration in the summary")
    parser.add_argument("--save-dir", type=Path, help="keep each trained checkpoint here")
    parser.add_argument("--results", type=Path, default=REPO / "runs" / "cross_dataset.jsonl")
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    args = parser.parse_args()
    if args.summary:
        summary(args.results)
        return 0
    for setup in args.setups:
        for seed in args.seeds:
            rows = run_job(setup, seed, args)
            append_rows(args.results, rows)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
