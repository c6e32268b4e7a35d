"""Does a per-class score calibration from the training data help transfer?

A zero-shot model scores every candidate text against a window, and some texts attract
most motions whatever they show ("hubs": on NW-UCLA left out, "stand up" and "drop
trash" take a large share of the clips). A class whose text scores high on *every*
motion says little when it scores high on this one. The calibration measured here
needs no test data: each candidate's logits on reference windows drawn from the
model's own training datasets give its mean (and spread), and a clip's logit is
taken relative to them:

- ``raw``: the logits as the recognizer uses them today;
- ``centred``: minus the class's mean reference logit;
- ``standardised``: centred and divided by the class's reference standard deviation
  (times the mean standard deviation, to keep the softmax scale).

Run on the leave-one-dataset-out checkpoints of ``benchmarks.transfer``
(``runs/transfer/<recipe>/<target>-seed<s>.pt``), scoring every clip of the left-out
dataset against all of its classes by label names and by the bank, as that benchmark
does; the new-class rule is that benchmark's.

    python -m benchmarks.calibration runs/transfer/<recipe>/*-seed0.pt
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.transfer import NEW_CLASS_COSINE, nearest_training_class
from dynapurls_ros.checkpoint import load_checkpoint
from dynapurls_ros.training.data import load_clips
from dynapurls_ros.training.evaluate import class_texts, clip_logits, phrasing_logits, prepare
from dynapurls_ros.training.metrics import confusion_matrix, per_class_accuracy
from dynapurls_ros.training.windows import evaluation_windows

VOCABULARIES = ("labels", "bank")


@torch.inference_mode()
def reference_logits(model, texts, clips, window_length: int, count: int, seed: int):
    """Logits ``(count, K)`` of ``count`` evaluation windows drawn from ``clips``."""
    rng = np.random.default_rng(seed)
    windows = []
    for c in rng.choice(len(clips), size=count, replace=len(clips) < count):
        candidates = evaluation_windows(clips[c], window_length)
        windows.append(candidates[rng.integers(len(candidates))])
    stacked = torch.from_numpy(np.stack(windows))
    model.eval()
    return torch.cat(
        [
            phrasing_logits(model, model.tokens(stacked[i : i + 128]), texts)
            for i in range(0, count, 128)
        ]
    ).double()


def scores(logits: np.ndarray, labels: np.ndarray, names: list[str], new: list[str]):
    matrix = confusion_matrix(logits.argmax(1), labels, len(names))
    per_class = dict(zip(names, per_class_accuracy(matrix).tolist(), strict=True))
    top1 = 100.0 * float((logits.argmax(1) == labels).mean())
    return top1, statistics.mean(per_class[n] for n in new)


def run(path: Path, count: int, seed: int) -> list[tuple]:
    model, info = load_checkpoint(path)
    target = path.stem.split("-seed")[0]
    reference = load_clips(list(info.datasets), info.frame_rate)[0].clips
    rows = []
    for vocabulary in VOCABULARIES:
        setup = prepare(info, [target], None, vocabulary)
        names = setup.clipset.class_names
        nearest = nearest_training_class(names, list(info.seen_labels))
        new = [names[c] for c, (_, cos) in enumerate(nearest) if cos < NEW_CLASS_COSINE]
        texts = class_texts(model, setup)
        logits = clip_logits(model, setup.clipset.clips, texts, info.window_length)
        ref = reference_logits(model, texts, reference, info.window_length, count, seed).numpy()
        mean, std = ref.mean(0), ref.std(0)
        variants = {
            "raw": logits,
            "centred": logits - mean,
            "standardised": (logits - mean) / std * std.mean(),
        }
        for name, values in variants.items():
            top1, new_top1 = scores(values, setup.clipset.labels, names, new)
            rows.append((target, path.parent.name, vocabulary, name, top1, new_top1))
            print(
                f"{target:8s} {vocabulary:6s} {name:12s} top1 {top1:5.1f}  new {new_top1:5.1f}",
                flush=True,
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--references", type=int, default=512, help="reference windows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the reference draw")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [row for path in args.checkpoints for row in run(path, args.references, args.seed)]
    print("\n| target | recipe | vocabulary | scores | top-1 | new classes top-1 |")
    print("|---|---|---|---|---|---|")
    for target, tag, vocabulary, name, top1, new_top1 in rows:
        print(f"| {target} | {tag} | {vocabulary} | {name} | {top1:.1f} | {new_top1:.1f} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
