"""Fixed-duration windows cut from whole dataset clips, the way the live node sees them.

The node feeds the model windows of ``length`` frames at ``frame_rate`` Hz, normalised on
the window's own first frames. Training and evaluation therefore cut windows of the same
duration from each clip at the clip's real speed (no stretching a one-second clip over
two seconds): a shorter clip is placed inside the window and padded by holding its first
and last pose (a person standing before and after the action), a longer one is cropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dynapurls_ros.datasets import SkeletonSample
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS, get_layout
from dynapurls_ros.skeleton.preprocess import repair, resample, to_input


@dataclass
class UsableClips:
    """The clips that could be prepared, which samples they come from, and the others."""

    clips: list[np.ndarray] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # sample index of each clip
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sample, why)
    repaired: list[tuple[str, str]] = field(default_factory=list)  # (sample, what was done)


def canonical_clip(sample: SkeletonSample, layout: str, frame_rate: float) -> np.ndarray:
    """A sample as a clean ``(T, 25, 3)`` canonical sequence resampled to ``frame_rate``
    (lost-tracking frames dropped, missing joints filled; ValueError if none is left)."""
    return _prepared(sample, layout, frame_rate)[0]


def _prepared(sample: SkeletonSample, layout: str, frame_rate: float) -> tuple[np.ndarray, int]:
    joints, dropped = repair(get_layout(layout).to_canonical(sample.joints), CANONICAL_PARENTS)
    frames = max(1, round(len(joints) * frame_rate / sample.fps))
    return (joints if frames == len(joints) else resample(joints, frames)), dropped


def usable_clips(samples: Sequence[SkeletonSample], layout: str, frame_rate: float) -> UsableClips:
    """``canonical_clip`` of every sample that has a tracked body; the others are skipped
    with the reason and the repaired ones noted, so one bad clip never stops a run."""
    out = UsableClips()
    for index, sample in enumerate(samples):
        try:
            clip, dropped = _prepared(sample, layout, frame_rate)
        except ValueError as error:
            out.skipped.append((sample.name, str(error)))
            continue
        filled = not np.isfinite(sample.joints).all()
        notes = [f"{dropped} lost-tracking frames dropped"] if dropped else []
        notes += ["missing joints filled"] if filled else []
        if notes:
            out.repaired.append((sample.name, ", ".join(notes)))
        out.clips.append(clip)
        out.kept.append(index)
    return out


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
