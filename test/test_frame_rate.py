"""The frame-rate check (benchmarks/frame_rate.py): its cadence estimate on motion of
known speed, and the NW-UCLA finding that docs/DATA.md reports, on the real files."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from benchmarks import common as results
from benchmarks import frame_rate
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS


def _walk(steps_per_s: float, fps: float, seconds: float, swing: float = 0.3) -> np.ndarray:
    """Canonical joints whose ankles swing past each other ``steps_per_s`` times a
    second while the body moves along a diagonal of the floor."""
    t = np.arange(round(seconds * fps)) / fps
    joints = np.zeros((len(t), len(NTU25_JOINTS), 3))
    heading = np.array([np.cos(0.6), 0.0, np.sin(0.6)])
    joints += (1.2 * t)[:, None, None] * heading  # 1.2 m/s forwards
    offset = 0.5 * swing * np.sin(np.pi * steps_per_s * t)[:, None] * heading
    joints[:, NTU25_JOINTS.index("left_ankle")] += offset
    joints[:, NTU25_JOINTS.index("right_ankle")] -= offset
    return joints


@pytest.mark.parametrize(
    ("steps_per_s", "seconds"), [(1.2, 3.0), (1.8, 1.2), (1.8, 3.0), (3.6, 0.8), (3.6, 3.0)]
)  # every stretch holds at least one stride (two steps), as the benchmark's do
def test_cadence_of_a_known_gait(steps_per_s: float, seconds: float) -> None:
    rng = np.random.default_rng(0)
    joints = _walk(steps_per_s, 30.0, seconds) + rng.normal(0, 0.01, (round(30 * seconds), 25, 3))
    assert frame_rate.cadence(joints, 30.0) == pytest.approx(steps_per_s, abs=0.1)
    # the same frames read at half the rate: half the cadence
    assert frame_rate.cadence(joints, 15.0) == pytest.approx(steps_per_s / 2, abs=0.1)


def test_feet_that_do_not_swing_are_not_walking() -> None:
    assert frame_rate.cadence(_walk(1.8, 30.0, 2.0, swing=0.02), 30.0) is None


def test_nw_ucla_walks_twice_too_fast_at_the_nominal_rate() -> None:
    nominal = np.median(frame_rate.walking_cadences("nw_ucla", 3.0, {}))
    measured = np.median(frame_rate.walking_cadences("nw_ucla", 3.0, {"fps": 15}))
    assert nominal > 3.0  # no one walks at 3+ steps/s: the files are not 30 fps
    assert 1.5 < measured < 2.5  # a normal walking cadence


def test_dataset_option_parsing() -> None:
    assert results.dataset_option("nw_ucla.fps=15") == ("nw_ucla", "fps", 15.0)
    assert results.dataset_option("npy_folder.root=/data/x") == (
        "npy_folder",
        "root",
        "/data/x",
    )
    for bad in ("nw_ucla", "nw_ucla.fps", "fps=15", "nw_ucla.fps="):
        with pytest.raises(argparse.ArgumentTypeError):
            results.dataset_option(bad)
    pairs = [results.dataset_option(t) for t in ("nw_ucla.fps=15", "npy_folder.layout=ntu25")]
    assert results.dataset_options(pairs) == {
        "nw_ucla": {"fps": 15.0},
        "npy_folder": {"layout": "ntu25"},
    }
