"""Do the datasets play at the speed people move? Walking cadence and action durations.

Windows here have a duration in seconds (the node buffers real time), so a dataset read
at the wrong frame rate teaches or tests motions at the wrong speed. Files that carry
no rate (NW-UCLA, GTU-3D) are read at a nominal 30 fps; this script checks that against
a physical constant of human motion, the walking cadence (people walk at about 1.6-2.2
steps/s), measured the same way on every dataset, CMU (whose rate is known) included.

Cadence of one stretch of walking: the two ankles' horizontal separation along its main
axis swings once per stride (two steps); the stride frequency is the best least-squares
sinusoid over a grid of frequencies, which works on clips of one or two strides where an
FFT's bins are too coarse. Long trials are measured in windows of ``--window`` seconds.

    python -m benchmarks.frame_rate
    python -m benchmarks.frame_rate --datasets nw_ucla --dataset-option nw_ucla.fps=15
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict

import numpy as np

from benchmarks.common import add_dataset_option, dataset_options
from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS, get_layout
from dynapurls_ros.skeleton.preprocess import clean

LEFT_ANKLE, RIGHT_ANKLE = NTU25_JOINTS.index("left_ankle"), NTU25_JOINTS.index("right_ankle")
STRIDES_PER_S = np.linspace(0.25, 3.0, 276)  # 0.5-6 steps/s in steps of 0.02 steps/s
MIN_SWING = 0.05  # metres: feet that barely move are not walking
# plain walking only ("walk", "Walking", "walk around", "walk forward"): styles such as
# "walk stealthily" or "brisk walk" have their own cadence
PLAIN_WALKING = re.compile(r"^\s*walk(ing)?( around| forward)?\s*$", re.IGNORECASE)


def stride_frequency(signal: np.ndarray, fps: float) -> float:
    """Frequency (Hz) of the best least-squares sinusoid through ``signal`` (mean removed),
    searched over ``STRIDES_PER_S``."""
    t = np.arange(len(signal)) / fps
    centred = signal - signal.mean()
    best, best_fit = float(STRIDES_PER_S[0]), -1.0
    for frequency in STRIDES_PER_S:
        basis = np.stack([np.sin(2 * np.pi * frequency * t), np.cos(2 * np.pi * frequency * t)], 1)
        coef = np.linalg.lstsq(basis, centred, rcond=None)[0]
        fit = float(np.sum((basis @ coef) ** 2))
        if fit > best_fit:
            best, best_fit = float(frequency), fit
    return best


def cadence(joints: np.ndarray, fps: float) -> float | None:
    """Steps per second of a canonical ``(T, 25, 3)`` walking stretch (metres, y up), or
    ``None`` when the ankles do not swing. The stretch must hold one stride (two steps)
    or more: a fraction of a period does not pin down its frequency."""
    separation = joints[:, LEFT_ANKLE, ::2] - joints[:, RIGHT_ANKLE, ::2]  # x, z
    separation = separation - separation.mean(axis=0)
    axis = np.linalg.svd(separation, full_matrices=False)[2][0]
    signal = separation @ axis
    if signal.std() * np.sqrt(2) < MIN_SWING:
        return None
    return 2.0 * stride_frequency(signal, fps)


def walking_cadences(name: str, window_s: float, options: dict) -> list[float]:
    dataset = load_dataset(name, **options)
    spec = get_layout(dataset.layout)
    values = []
    for sample in dataset.samples:
        label = dataset.class_names[sample.label]
        if not PLAIN_WALKING.match(label):
            continue
        joints = clean(spec.to_canonical(sample.joints))
        size = max(1, round(window_s * sample.fps))
        starts = range(0, max(1, len(joints) - size + 1), size)
        for start in starts:
            stretch = joints[start : start + size]
            if len(stretch) >= sample.fps * 0.8:  # at least 0.8 s: one stride or more
                value = cadence(stretch, sample.fps)
                if value is not None:
                    values.append(value)
    return values


def durations(name: str, options: dict) -> dict[str, float]:
    """Median clip duration (s) per class at the rate the dataset is read."""
    dataset = load_dataset(name, **options)
    seconds = defaultdict(list)
    for sample in dataset.samples:
        seconds[dataset.class_names[sample.label]].append(len(sample.joints) / sample.fps)
    return {label: float(np.median(values)) for label, values in sorted(seconds.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cmu_mocap", "gtu3d", "nw_ucla"])
    parser.add_argument("--window", type=float, default=3.0, help="seconds per measured stretch")
    add_dataset_option(parser)
    parser.add_argument("--durations", nargs="*", default=["nw_ucla", "gtu3d"])
    args = parser.parse_args()
    options = defaultdict(dict, dataset_options(args.dataset_option))
    print(f"walking cadence, steps/s (stretches of up to {args.window:g} s)")
    print(f"{'dataset':10s} {'stretches':>9s} {'median':>7s} {'25 %':>6s} {'75 %':>6s}")
    for name in args.datasets:
        values = walking_cadences(name, args.window, options[name])
        q25, q50, q75 = np.percentile(values, [25, 50, 75])
        print(f"{name:10s} {len(values):9d} {q50:7.2f} {q25:6.2f} {q75:6.2f}")
    for name in args.durations:
        print(f"\nmedian clip duration (s), {name} {options[name] or ''}")
        for label, value in durations(name, options[name]).items():
            print(f"  {label:32s} {value:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
