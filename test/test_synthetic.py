"""The demo's fallback stream: synthetic motions are valid skeletons that move."""

from __future__ import annotations

import numpy as np
import pytest

from dynapurls_ros.skeleton.preprocess import to_input
from dynapurls_ros.synthetic import MOTIONS, motion


@pytest.mark.parametrize("label", sorted(MOTIONS))
def test_motion_is_a_moving_ntu25_sequence(label: str) -> None:
    seq = motion(label)
    assert seq.dtype == np.float32 and seq.shape[1:] == (25, 3) and len(seq) >= 60
    assert np.isfinite(seq).all()
    assert np.ptp(seq, axis=0).max() > 0.1, "some joint must travel more than 10 cm"
    assert to_input(seq[:48]).shape == (3, 48, 25)


def test_motions_differ_where_their_names_say() -> None:
    travel = {label: np.ptp(motion(label), axis=0)[:, 1] for label in MOTIONS}  # vertical
    assert travel["wave"][11] > travel["wave"][7]  # right hand, not left
    assert travel["crouching"][0] > 0.2 and travel["wave"][0] < 0.01  # hips drop
    with pytest.raises(ValueError, match="no synthetic motion"):
        motion("juggle")
