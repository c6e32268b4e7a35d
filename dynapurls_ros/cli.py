"""`dynapurls` command: train, evaluate, describe, replay, record, import-bag, demo.

Datasets are named (``nw_ucla``, ``gtu3d``, ``ntu60``, ``ntu120``, ``pku_mmd``,
``cmu_mocap``) and read from ``$DYNAPURLS_DATA``; users' own recordings are a folder of
``.npy`` arrays (frames x joints x 3) with a CSV of ``file,label`` (``--npy-folder``,
``--labels``, ``--layout``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NPY_FOLDER = "npy_folder"
# TrainConfig fields that the data options (shared with `evaluate`) set.
DATA_FIELDS = ("datasets", "split", "descriptions")


def _config_fields() -> dict[str, dataclasses.Field]:
    """TrainConfig's documented fields: each becomes a `train` option with its help and
    default (the default shown is TrainConfig's own, so the two cannot drift)."""
    from dynapurls_ros.training.train import TrainConfig

    return {f.name: f for f in dataclasses.fields(TrainConfig) if "help" in f.metadata}


def _default(spec: dataclasses.Field) -> Any:
    return (
        spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
    )


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    from dynapurls_ros.training.texts import DESCRIPTION_CHOICES

    spec = _config_fields()
    parser.add_argument(
        "--dataset",
        action="append",
        help=f"{spec['datasets'].metadata['help']}; default {' '.join(_default(spec['datasets']))}"
        ", or npy_folder with --npy-folder",
    )
    parser.add_argument("--split", help=spec["split"].metadata["help"])
    parser.add_argument(
        "--descriptions",
        default=_default(spec["descriptions"]),
        choices=DESCRIPTION_CHOICES,
        help=spec["descriptions"].metadata["help"],
    )
    parser.add_argument("--npy-folder", help="folder of .npy recordings (frames x joints x 3)")
    parser.add_argument("--labels", default="labels.csv", help="CSV of file,label in --npy-folder")
    parser.add_argument("--layout", default="ntu25", help="joint layout of the .npy recordings")
    parser.add_argument(
        "--vocabulary", nargs="+", help="labels to score --npy-folder clips against"
    )


def _datasets(args: argparse.Namespace) -> tuple[list[str], dict[str, dict[str, Any]]]:
    default = _default(_config_fields()["datasets"])
    datasets = args.dataset or ([NPY_FOLDER] if args.npy_folder else default)
    options: dict[str, dict[str, Any]] = {}
    if NPY_FOLDER in datasets:
        if not args.npy_folder:
            raise SystemExit("dynapurls: --dataset npy_folder needs --npy-folder DIR")
        options[NPY_FOLDER] = {
            "root": args.npy_folder,
            "labels": args.labels,
            "layout": args.layout,
        }
        if args.vocabulary:
            options[NPY_FOLDER]["class_names"] = list(args.vocabulary)
    return datasets, options


def _train(args: argparse.Namespace) -> int:
    import torch

    from dynapurls_ros.training.train import TrainConfig, train_to_file

    if args.threads:
        torch.set_num_threads(args.threads)
    datasets, options = ([], {}) if args.corpus and not args.dataset else _datasets(args)
    chosen = {name: getattr(args, name) for name in _config_fields() if name not in DATA_FIELDS}
    config = TrainConfig(
        datasets=datasets,
        split=args.split,
        descriptions=args.descriptions,
        dataset_options=options,
        **chosen,
    )
    result = train_to_file(config, args.output)
    last = result.history[-1]
    print(
        f"trained {len(result.info.seen_labels)} seen classes in {result.seconds:.0f} s "
        f"(seed {config.seed}); final loss {last['loss']:.3f}, train acc "
        f"{last['train_acc']:.1f}%; checkpoint {args.output}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from dynapurls_ros.checkpoint import load_checkpoint
    from dynapurls_ros.training.data import report_left_out
    from dynapurls_ros.training.evaluate import evaluate, prepare

    model, info = load_checkpoint(args.checkpoint)
    datasets, options = _datasets(args)
    setup = prepare(info, datasets, args.split, args.descriptions, options)
    if args.refine:
        return _evaluate_refinement(args, model, info, setup)
    report_left_out(setup.clipset)
    result = evaluate(model, info, setup, args.output_dir)
    summary = {k: result[k] for k in ("num_clips", "num_skipped", "num_repaired", "num_short")}
    summary |= {k: result[k] for k in ("top1", "top5")}
    if "gzsl" in result:
        summary["gzsl"] = result["gzsl"]
    summary["per_class"] = result["per_class"]
    print(json.dumps(summary, indent=2))
    if args.output_dir:
        print(f"wrote {args.output_dir}/metrics.json and confusion.png")
    return 0


def _evaluate_refinement(args: argparse.Namespace, model: Any, info: Any, setup: Any) -> int:
    from dynapurls_ros.refinement import RefinementConfig
    from dynapurls_ros.refinement.stream import evaluate_refinement

    given = {
        "bank_size": args.bank_size,
        "threshold": args.threshold,
        "lr": args.refine_lr,
        "steps": args.refine_steps,
    }
    config = RefinementConfig(enabled=True, **{k: v for k, v in given.items() if v is not None})
    result = evaluate_refinement(
        model,
        info,
        setup,
        config,
        orders=args.stream_orders,
        stream_batch=args.stream_batch,
        kind=args.stream,
    )
    print(json.dumps(result, indent=2))
    for row in result["orders"]:
        print(
            f"order {row['order']}: top-1 {result['top1_encoded']:.2f} without, "
            f"{row['top1']:.2f} with refinement ({row['delta']:+.2f}); "
            f"{row['updates']} updates, {row['collapses']} undone"
        )
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "refinement.json").write_text(json.dumps(result, indent=2))
        print(f"wrote {out}/refinement.json")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from dynapurls_ros.training.calibration import calibrate_file

    count = calibrate_file(args.checkpoint)
    if not count:
        print(f"{args.checkpoint}: trained without labelled clips; no reference motions")
        return 1
    print(f"{args.checkpoint}: {count} reference motions stored for open-set rejection")
    return 0


def _describe(args: argparse.Namespace) -> int:
    from dynapurls_ros.text.generate import run_describe

    return run_describe(args)


def _replay(args: argparse.Namespace) -> int:
    from dynapurls_ros.ros.replay import main as replay_main

    return replay_main(args.tool_args) or 0


def _record(args: argparse.Namespace) -> int:
    from dynapurls_ros.ros.record import record

    return record(args.tool_args)


def _import_bag(args: argparse.Namespace) -> int:
    from dynapurls_ros.ros.record import import_bag

    return import_bag(args.tool_args)


def _demo(args: argparse.Namespace) -> int:
    from dynapurls_ros.ros.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dynapurls", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train on the seen classes of a dataset/split")
    _add_data_arguments(train)
    train.add_argument("--output", "-o", required=True, help="checkpoint file to write")
    for name, spec in _config_fields().items():
        if name in DATA_FIELDS:
            continue
        default = _default(spec)
        kind = type(default) if default is not None else str
        train.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=default,
            help=f"{spec.metadata['help']} (default: {default})",
        )
    train.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    train.set_defaults(run=_train)

    evaluate = sub.add_parser("evaluate", help="zero-shot evaluation of a checkpoint")
    _add_data_arguments(evaluate)
    evaluate.add_argument("--checkpoint", help="checkpoint file (default: the shipped model)")
    evaluate.add_argument("--output-dir", help="write metrics.json and confusion.png here")
    refine = evaluate.add_argument_group(
        "online refinement", "stream the unseen clips through the test-time text refinement"
    )
    refine.add_argument(
        "--refine", action="store_true", help="top-1 without vs with online refinement"
    )
    # Unset refinement options keep RefinementConfig's defaults (docs/REFINEMENT.md).
    refine.add_argument("--bank-size", type=int, help="memory entries per class (0: no memory)")
    refine.add_argument("--threshold", type=float, help="confidence a window needs to enter memory")
    refine.add_argument("--refine-lr", type=float, help="refinement learning rate")
    refine.add_argument("--refine-steps", type=int, help="optimiser steps per update")
    refine.add_argument("--stream-orders", type=int, default=5, help="stream orders (seeds 0..N-1)")
    refine.add_argument(
        "--stream",
        choices=("shuffled", "blocked"),
        default="shuffled",
        help="clips in random order, or class by class (one action for a long stretch)",
    )
    refine.add_argument("--stream-batch", type=int, default=1, help="clips per step (1: online)")
    evaluate.set_defaults(run=_evaluate)

    from dynapurls_ros.text.generate import add_describe_arguments

    calibrate = sub.add_parser(
        "calibrate", help="store open-set reference motions from its training data in a checkpoint"
    )
    calibrate.add_argument("checkpoint", help="checkpoint file (updated in place)")
    calibrate.set_defaults(run=_calibrate)

    describe = sub.add_parser("describe", help="write eight-slot descriptions for labels")
    add_describe_arguments(describe)
    describe.set_defaults(run=_describe)

    replay = sub.add_parser("replay", help="publish skeleton sequences as a tracker would")
    replay.add_argument("tool_args", nargs=argparse.REMAINDER, help="see `replay --help`")
    replay.set_defaults(run=_replay)

    record = sub.add_parser("record", help="record live skeleton topics as .npy + labels.csv")
    record.add_argument("tool_args", nargs=argparse.REMAINDER, help="see `record --help`")
    record.set_defaults(run=_record)

    bag = sub.add_parser("import-bag", help="rosbag2 skeleton topics -> .npy + labels.csv")
    bag.add_argument("tool_args", nargs=argparse.REMAINDER, help="see `import-bag --help`")
    bag.set_defaults(run=_import_bag)

    demo = sub.add_parser("demo", help="recognizer + replayed stream, labels printed")
    demo.add_argument("--count", type=int, default=8, help="sequences to replay")
    demo.set_defaults(run=_demo)
    return parser


# Commands with parsers of their own: every argument after the name is theirs
# (argparse's REMAINDER drops a first argument that looks like an option).
TOOLS = {"replay": _replay, "record": _record, "import-bag": _import_bag}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        args = argparse.Namespace(command=argv[0], run=TOOLS[argv[0]], tool_args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"dynapurls {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
