"""How noisy each dataset's skeletons are: joint acceleration and bone-length wobble.

Motion capture (CMU) is smooth and its bodies are rigid; depth-camera trackers jitter
frame to frame and misplace joints for several frames at a time, so the same bone
changes length within a clip. The corpus augmentations (``training.corpus``:
``add_jitter``, ``add_drift``) are sized from these figures. All on normalised clips
at 30 fps (lengths in torso lengths), up to ``--clips`` clips per dataset.

    python -m benchmarks.tracking_noise
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks.common import add_dataset_option, dataset_options
from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS
from dynapurls_ros.skeleton.preprocess import normalize
from dynapurls_ros.training.windows import clips_for

LIMBS = [  # (joint, parent): the bones every layout tracks
    (f"{side}_{child}", f"{side}_{parent}")
    for side in ("left", "right")
    for child, parent in (
        ("elbow", "shoulder"),
        ("wrist", "elbow"),
        ("knee", "hip"),
        ("ankle", "knee"),
    )
]
BONES = [(NTU25_JOINTS.index(a), NTU25_JOINTS.index(b)) for a, b in LIMBS]


def clip_noise(clip: np.ndarray) -> tuple[float, float, float]:
    """(mean |acceleration| of a joint per frame, std of each bone's length relative to
    its median, mean |frame-to-frame change| of that relative length) of one clip."""
    x = normalize(clip)
    acceleration = float(np.linalg.norm(np.diff(x, n=2, axis=0), axis=-1).mean())
    lengths = np.stack([np.linalg.norm(x[:, a] - x[:, b], axis=-1) for a, b in BONES], axis=1)
    relative = lengths / np.median(lengths, axis=0)
    wobble = float(relative.std(axis=0).mean())
    step = float(np.abs(np.diff(relative, axis=0)).mean())
    return acceleration, wobble, step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cmu_mocap", "gtu3d", "nw_ucla"])
    parser.add_argument("--clips", type=int, default=300, help="evenly spaced clips per dataset")
    add_dataset_option(parser)
    args = parser.parse_args()
    options = dataset_options(args.dataset_option)
    print("medians over clips; lengths in torso lengths, per frame at 30 fps")
    print(f"{'dataset':10s} {'clips':>5s} {'|accel|':>8s} {'bone std':>9s} {'bone step':>10s}")
    for name in args.datasets:
        dataset = load_dataset(name, **options.get(name, {}))
        samples = dataset.samples[:: max(1, len(dataset.samples) // args.clips)]
        clips = [c for c in clips_for(samples, dataset.layout, 30.0) if len(c) >= 3]
        acceleration, wobble, step = np.median([clip_noise(c) for c in clips], axis=0)
        print(f"{name:10s} {len(clips):5d} {acceleration:8.4f} {wobble:9.3f} {step:10.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
