"""Transfer benchmark: zero-shot recognition on a dataset (sensor, people, wording) the
model never saw, leaving one labelled dataset out.

Protocol: for each target among NW-UCLA (Kinect v1, 10 classes), GTU-3D (Kinect v2, 14)
and UTD-MHAD (Kinect v1, 27), train on every class of the other two (plus the corpus
where the recipe names one), then score every clip of the target against all of its
classes, by:

- ``labels``: the label names alone (each framed as "a person doing <label>");
- ``bank``: the descriptions the recognizer resolves for those labels (this
  project's banks, then the fallbacks) — what a user of the node gets;
- ``varied``: the mean logit over each label's phrasings (bank description, the label
  and its synonyms framed alone).

Per row: top-1, top-5, per-class top-1, and the mean top-1 over the target's **new**
classes: those whose name is not close to any training class name. The rule was fixed
by reading the list before the first accuracy run: MiniLM cosine between the raw names
below ``NEW_CLASS_COSINE`` = 0.67 (the lowest value at which no nearest training name is
another action; at 0.66 "two hand push" would count as known through "pick up with two
hands"). The list is printed with every run.

The wording check: the target's clips of the classes that are the same action as a
training class under another name (``COUNTERPARTS``, read off the class lists: NW-UCLA
"sit down" is UTD-MHAD "stand to sit", ...) scored against the *training* classes'
names; top-1 = the counterpart is chosen. Against the same classes' top-1 with their own
names it shows whether the motion transfers and the wording does not.

Final epoch, nothing chosen on test data; seeds fix the training run. Rows are appended
to ``--results``; ``--summary`` prints mean ± std over seeds.

    python -m benchmarks.transfer --seeds 0 1 2
    python -m benchmarks.transfer --targets utd_mhad --seeds 0 --augment-mirror 0.5
    python -m benchmarks.transfer --summary
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import (
    RUNS,
    add_recipe_arguments,
    append_rows,
    mean_std,
    read_rows,
    recipe,
    recipe_tag,
)
from dynapurls_ros.checkpoint import save_checkpoint
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.encoder import make_text_encoder
from dynapurls_ros.training.data import ClipSet
from dynapurls_ros.training.evaluate import EvalSetup, evaluate, prepare
from dynapurls_ros.training.texts import phrasings
from dynapurls_ros.training.train import (
    FULL_FUSION,
    GLOBAL_ONLY,
    TrainResult,
    train_encoder_stage,
)

DATASETS = ("nw_ucla", "gtu3d", "utd_mhad")
VOCABULARIES = ("labels", "bank", "varied")
FUSIONS = {"full": FULL_FUSION, "global": GLOBAL_ONLY}  # stage-2 variants on one encoder
NEW_CLASS_COSINE = 0.67
# The same action under another dataset's name: target class -> training class.
COUNTERPARTS = {
    "nw_ucla": {
        "sit down": "stand to sit",
        "stand up": "sit to stand",
        "walk around": "walking",
        "throw": "right arm throw",
    },
    "gtu3d": {"walking": "walk around"},
    "utd_mhad": {
        "sit to stand": "stand up",
        "stand to sit": "sit down",
        "walking in place": "walking",
        "right arm throw": "throw",
    },
}


def nearest_training_class(
    target_names: list[str], training_names: list[str]
) -> list[tuple[int, float]]:
    """For each target class, the nearest training class name and its MiniLM cosine."""
    encoder = make_text_encoder("minilm", cache_dir=cache_dir() / "text")
    similarity = encoder.encode(target_names) @ encoder.encode(training_names).T
    best = similarity.max(dim=1)
    return list(zip(best.indices.tolist(), best.values.tolist(), strict=True))


def wording_setup(
    setup: EvalSetup, counterparts: dict[int, int], training_names: list[str], source: str
) -> EvalSetup:
    """The target clips of classes with a counterpart, labelled by that counterpart and
    scored against the training classes' names."""
    clipset = setup.clipset
    keep = np.isin(clipset.labels, list(counterparts))
    labels = np.array([counterparts[int(y)] for y in clipset.labels[keep]], dtype=np.int64)
    clips = [c for c, k in zip(clipset.clips, keep, strict=True) if k]
    names = [n for n, k in zip(clipset.names, keep, strict=True) if k]
    origin = ["training"] * len(training_names)  # no dataset bank first: plain resolution
    descriptions = phrasings(training_names, origin, source)
    return EvalSetup(
        ClipSet(clips, labels, names, training_names),
        [],
        list(range(len(training_names))),
        descriptions,
    )


def run_job(target: str, seed: int, args: argparse.Namespace) -> list[dict]:
    sources = [d for d in DATASETS if d != target]
    config = recipe(args, datasets=sources, seed=seed)
    tag = args.tag or recipe_tag(config)
    stage = train_encoder_stage(config, progress=False)
    rows = []
    for fusion in args.fusions:
        result = stage.align(fusion=FUSIONS[fusion])
        name = f"{target}-seed{seed}" + ("" if fusion == "full" else f"-{fusion}")
        save_checkpoint(RUNS / "transfer" / tag / f"{name}.pt", result.model, result.info)
        rows += evaluate_target(result, target, sources, tag, fusion, seed)
    return rows


def evaluate_target(
    result: TrainResult, target: str, sources: list[str], tag: str, fusion: str, seed: int
) -> list[dict]:
    """Rows of every vocabulary of ``target`` for one trained model."""
    seconds = result.seconds
    config = result.info.settings
    training_names = list(result.info.seen_labels)
    rows = []
    for source in VOCABULARIES:
        setup = prepare(result.info, [target], None, source)
        names = setup.clipset.class_names
        nearest = nearest_training_class(names, training_names)
        new = [names[c] for c, (_, cos) in enumerate(nearest) if cos < NEW_CLASS_COSINE]
        metrics = evaluate(result.model, result.info, setup)
        per_class = metrics["per_class"]
        row = {
            "tag": tag,
            "target": target,
            "trained_on": sources + ([config["corpus"]] if config["corpus"] else []),
            "fusion": fusion,
            "vocabulary": source,
            "seed": seed,
            "top1": metrics["top1"],
            "top5": metrics["top5"],
            "new_classes": new,
            "new_top1": statistics.mean(per_class[name] for name in new),
            "per_class": per_class,
            "train_seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "device": config["device"],
        }
        counterparts = {c: j for c, (j, cos) in enumerate(nearest) if cos >= NEW_CLASS_COSINE}
        if counterparts:
            known = [names[c] for c in counterparts]
            wording = evaluate(
                result.model,
                result.info,
                wording_setup(setup, counterparts, training_names, source),
            )
            row["known_top1_own_names"] = statistics.mean(per_class[n] for n in known)
            row["known_top1_training_names"] = wording["top1"]
        print(
            f"{tag} {fusion} -> {target:8s} {source:6s} seed {seed}  top1 {row['top1']:5.1f}  "
            f"top5 {row['top5']:5.1f}  new {row['new_top1']:5.1f}"
            + (
                f"  known: own names {row['known_top1_own_names']:5.1f}, training names "
                f"{row['known_top1_training_names']:5.1f}"
                if counterparts
                else ""
            )
            + f"  train {seconds:.0f}s",
            flush=True,
        )
        rows.append(row)
    return rows


def print_new_classes() -> None:
    """The new-class rule applied, for reading (no training needed)."""
    from dynapurls_ros.datasets import load_dataset

    names = {d: load_dataset(d).class_names for d in DATASETS}
    for target in DATASETS:
        training = [n for d in DATASETS if d != target for n in names[d]]
        nearest = nearest_training_class(names[target], training)
        print(f"{target}: nearest training class name (cosine; new below {NEW_CLASS_COSINE})")
        for name, (j, cos) in zip(names[target], nearest, strict=True):
            mark = "new" if cos < NEW_CLASS_COSINE else "   "
            print(f"  {mark} {cos:.3f}  {name!r} -> {training[j]!r}")


def summary(path: Path, per_class: bool) -> None:
    groups: dict[tuple[str, str, str, str], list[dict]] = defaultdict(list)
    for row in read_rows(path):
        fusion = row.get("fusion", "full")
        groups[(row["tag"], fusion, row["target"], row["vocabulary"])].append(row)
    print(
        "| recipe | slots | target | vocabulary | n | top-1 | top-5 | new classes top-1 | "
        "known: own names / training names | seeds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (tag, fusion, target, vocabulary), rows in sorted(groups.items()):
        known = ""
        if "known_top1_training_names" in rows[0]:
            own = statistics.mean(r["known_top1_own_names"] for r in rows)
            other = statistics.mean(r["known_top1_training_names"] for r in rows)
            known = f"{own:.1f} / {other:.1f}"
        print(
            f"| {tag} | {fusion} | {target} | {vocabulary} | {len(rows)} | "
            f"{mean_std([r['top1'] for r in rows])} | {mean_std([r['top5'] for r in rows])} | "
            f"{mean_std([r['new_top1'] for r in rows])} | {known} | "
            f"{','.join(str(r['seed']) for r in rows)} |"
        )
        if per_class:
            for name in rows[0]["per_class"]:
                values = [r["per_class"][name] for r in rows]
                print(f"|  |  |  | {name} |  | {statistics.mean(values):.1f} |  |  |  |  |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--fusions",
        nargs="+",
        default=["full"],
        choices=list(FUSIONS),
        help="slots scored: all (full) and/or the global one only, on one encoder",
    )
    add_recipe_arguments(parser)
    parser.add_argument("--tag", help="name of this recipe in the results (default: derived)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results", type=Path, default=RUNS / "transfer.jsonl")
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    parser.add_argument("--per-class", action="store_true", help="summary: per-class rows")
    parser.add_argument("--new-classes", action="store_true", help="print the rule's list")
    args = parser.parse_args()
    if args.summary:
        summary(args.results, args.per_class)
        return 0
    if args.new_classes:
        print_new_classes()
        return 0
    torch.set_num_threads(args.threads)
    for target in args.targets:
        for seed in args.seeds:
            append_rows(args.results, run_job(target, seed, args))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
