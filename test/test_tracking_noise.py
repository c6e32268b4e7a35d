"""The tracking-noise figures (benchmarks/tracking_noise.py) that size the corpus
augmentations: rigid smooth motion measures zero, a wobbling tracker does not."""

from __future__ import annotations

import numpy as np

from benchmarks import tracking_noise
from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.training.windows import canonical_clip


def test_rigid_moving_body_has_no_wobble_and_noise_shows() -> None:
    dataset = load_dataset("gtu3d")
    pose = canonical_clip(dataset.samples[0], dataset.layout, 30.0)[0]  # one real pose
    t = np.arange(60)[:, None, None] / 30.0
    rigid = pose[None] + t * np.array([0.5, 0.0, 0.0])  # glides at constant speed
    acceleration, wobble, step = tracking_noise.clip_noise(rigid)
    assert acceleration < 1e-4 and wobble < 1e-4 and step < 1e-4
    noisy = rigid + np.random.default_rng(0).normal(0.0, 0.02, rigid.shape)
    acceleration, wobble, step = tracking_noise.clip_noise(noisy)
    assert acceleration > 0.01 and wobble > 0.02 and step > 0.01
