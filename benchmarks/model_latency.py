"""Forward-pass latency of the shipped model on this CPU, float against int8.

What the node calls for each batch of due windows is ``Recognizer.predict``: windows
of the checkpoint's length, one per person, against the active vocabulary, on one
thread (the node's setting). Printed, for the float model and the int8 one
(:mod:`dynapurls_ros.model.int8`), at batch 1 / 4 / 8 / 16 (persons whose windows fall
due together) against ``--classes`` labels: p50 and p99 in ms. Then, on every
evaluation window of GTU-3D (real Kinect v2 recordings; part of the default model's
training data, so this checks agreement, not transfer) against its 14 class names:
top-1 of both and the share of windows where they agree. ``predict`` runs the encoder as
a frozen TorchScript graph (:mod:`dynapurls_ros.model.frozen`); the encoder alone is
also timed eagerly against frozen (calls alternating), with the largest difference of
their outputs.

    python -m benchmarks.model_latency [--iters 200] [--checkpoint FILE]

The text side (resolving and encoding a vocabulary) is timed by
``python -m benchmarks.text_speed``. Latencies on a shared machine vary with the load
of other processes; the 1-minute load average is printed.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.recognizer import Recognizer
from dynapurls_ros.ros.params import DEFAULT_VOCABULARY
from dynapurls_ros.training.windows import canonical_clip, evaluation_windows

BATCHES = (1, 4, 8, 16)


def latencies_ms(
    fns: dict[str, Callable[[], object]], iters: int, warmup: int = 10
) -> dict[str, np.ndarray]:
    """Per function, ``iters`` timed calls (ms) after ``warmup``, the functions called in
    turn: this machine's speed drifts by tens of percent within minutes, and
    alternating gives every variant compared the same drift."""
    times = {name: np.empty(iters) for name in fns}
    for i in range(warmup + iters):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if i >= warmup:
                times[name][i - warmup] = (time.perf_counter() - start) * 1e3
    return times


def gtu3d_windows(length: int) -> tuple[np.ndarray, list[str]]:
    """Raw canonical evaluation windows of every GTU-3D clip and their class names."""
    data = load_dataset("gtu3d")
    windows, names = [], []
    for sample in data.samples:
        clip = canonical_clip(sample, data.layout, 30.0)
        count = len(evaluation_windows(clip, length))
        starts = np.linspace(0, max(0, len(clip) - length), count).round().astype(int)
        for start in starts:
            piece = clip[start : start + length]
            if len(piece) == length:
                windows.append(piece)
                names.append(data.class_names[sample.label])
    return np.stack(windows), names


def labels_of(recognizer: Recognizer, windows: np.ndarray) -> list[str]:
    return [
        p.label for i in range(0, len(windows), 64) for p in recognizer.predict(windows[i : i + 64])
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--checkpoint", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = {
        "float": Recognizer.from_checkpoint(args.checkpoint),
        "int8": Recognizer.from_checkpoint(args.checkpoint, int8=True),
    }
    length = models["float"].window_length
    windows, names = gtu3d_windows(length)
    print(
        f"window {length} frames, vocabulary {len(DEFAULT_VOCABULARY)} labels, 1 thread, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    for name, recognizer in models.items():
        recognizer.set_vocabulary(DEFAULT_VOCABULARY)
        cells = []
        for batch in BATCHES:
            x = windows[:batch]
            times = latencies_ms({name: lambda x=x, r=recognizer: r.predict(x)}, args.iters)[name]
            p50, p99 = np.percentile(times, [50, 99])
            cells.append(f"batch {batch:2d} {p50:6.2f} / {p99:6.2f}")
        print(f"{name:6s} p50 / p99 ms: " + " | ".join(cells))
    for name, recognizer in models.items():
        frozen, eager = recognizer.encoder_for_inference(), recognizer.model.encoder
        cells, diff = [], 0.0
        for batch in BATCHES:
            x = recognizer.prepare(windows[:batch])
            with torch.no_grad():
                diff = max(diff, (frozen(x) - eager(x)).abs().max().item())
                times = latencies_ms(
                    {m: lambda x=x, f=f: f(x) for m, f in (("eager", eager), ("frozen", frozen))},
                    args.iters,
                )
            p50 = {mode: np.percentile(t, 50) for mode, t in times.items()}
            cells.append(f"batch {batch:2d} {p50['eager']:6.2f} / {p50['frozen']:6.2f}")
        print(f"{name:6s} encoder p50 ms, eager / frozen: " + " | ".join(cells))
        print(f"{name:6s} encoder largest |frozen - eager|: {diff:.2g}")
    predicted = {}
    for name, recognizer in models.items():
        recognizer.set_vocabulary(sorted(set(names)))
        predicted[name] = labels_of(recognizer, windows)
        top1 = 100.0 * np.mean([a == b for a, b in zip(predicted[name], names, strict=True)])
        print(f"{name:6s} GTU-3D top-1 {top1:.1f} % on {len(windows)} windows")
    agree = np.mean([a == b for a, b in zip(predicted["float"], predicted["int8"], strict=True)])
    print(f"int8 and float agree on {100.0 * agree:.1f} % of windows")


if __name__ == "__main__":
    main()
