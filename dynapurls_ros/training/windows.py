"""Fixed-duration windows cut from whole dataset clips, the way the live node sees them.

The node feeds the model windows of ``length`` frames at ``frame_rate`` Hz, normalised on
the window's own first frames. Training and evaluation therefore cut windows of the same
duration from each clip at the clip's real speed (no stretching a one-second clip over
two seconds): a shorter clip is placed inside the window and padded by holding its first
and last pose (a person standing before and after the action), a longer one is cropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dynapurls_ros.datasets import SkeletonSample
from dynapurls_ros.skeleton.layouts import get_layout
from dynapurls_ros.skeleton.preprocess import clean, resample, to_input


def canonical_clip(sample: SkeletonSample, layout: str, frame_rate: float) -> np.ndarray:
    """A sample as a clean ``(T, 25, 3)`` canonical sequence resampled to ``frame_rate``."""
    joints = clean(get_layout(layout).to_canonical(sample.joints))
    frames = max(1, round(len(joints) * frame_rate / sample.fps))
    return joints if frames == len(joints) else resample(joints, frames)


def place(clip: np.ndarray, length: int, start: int) -> np.ndarray:
    """``length`` frames of ``clip`` beginning at ``start`` (negative: the clip begins
    ``-start`` frames into the window); frames outside the clip hold the nearest pose."""
    index = np.clip(np.arange(start, start + length), 0, len(clip) - 1)
    return clip[index]


MODEL_FRAME_RATE = 30.0  # Hz of the windows every model here is trained on
SPEED_RANGE = (0.8, 1.25)  # default range of the random playback speed of training windows


def random_window(
    clip: np.ndarray,
    length: int,
    rng: np.random.Generator,
    speed_range: tuple[float, float] = SPEED_RANGE,
) -> np.ndarray:
    """A training window: a random playback speed (log-uniform in ``speed_range``), then
    a random crop of a long clip or a random placement of a short one."""
    low, high = speed_range
    speed = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    frames = max(1, round(len(clip) / speed))
    if frames != len(clip):
        clip = resample(clip, frames)
    slack = len(clip) - length
    start = int(rng.integers(0, slack + 1)) if slack >= 0 else -int(rng.integers(0, -slack + 1))
    return to_input(place(clip, length, start))


def evaluation_windows(clip: np.ndarray, length: int, max_windows: int = 3) -> np.ndarray:
    """Deterministic windows covering a clip: one centred window for a short clip, else
    up to ``max_windows`` evenly spaced crops; ``(n, 3, length, 25)``."""
    slack = len(clip) - length
    if slack <= 0:
        starts = [slack // 2]
    else:
        count = min(max_windows, 1 + slack // max(1, length // 2))
        starts = np.linspace(0, slack, count).round().astype(int).tolist()
    return np.stack([to_input(place(clip, length, s)) for s in starts])


def clips_for(
    samples: Sequence[SkeletonSample], layout: str, frame_rate: float
) -> list[np.ndarray]:
    return [canonical_clip(sample, layout, frame_rate) for sample in samples]
