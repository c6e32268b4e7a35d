"""Preprocessing: NaN handling, canonical frame, resampling, body selection, model input."""

from __future__ import annotations

import json
import timeit

import numpy as np
import pytest

from dynapurls_ros.datasets.ntu import read_skeleton_file
from dynapurls_ros.paths import data_root
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS, LAYOUTS, NTU25_JOINTS, get_layout
from dynapurls_ros.skeleton.preprocess import (
    clean,
    mirror,
    motion_energy,
    normalize,
    resample,
    select_main_body,
    to_input,
)

C = {name: i for i, name in enumerate(NTU25_JOINTS)}


@pytest.fixture(scope="module")
def ntu_sequence() -> np.ndarray:
    """The real NTU RGB+D sample, (103, 25, 3) metres, camera coordinates."""
    path = data_root() / "ntu_sample" / "S001C001P001R001A001.skeleton"
    return np.array(read_skeleton_file(path)[0])


@pytest.fixture(scope="module")
def ucla_sequence() -> np.ndarray:
    """A real NW-UCLA sequence (walk around), mapped to the canonical layout."""
    path = data_root() / "nw_ucla" / "all_sqe" / "a04_s01_e00_v01.json"
    joints = np.array(json.loads(path.read_text())["skeletons"], dtype=np.float32)
    return get_layout("kinect_v1").to_canonical(joints)


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q  # a proper rotation


# ---- clean -------------------------------------------------------------------------


def test_clean_interpolates_gaps_and_holds_the_ends():
    t = np.arange(10, dtype=np.float32)
    joints = np.stack([np.stack([t, 2 * t, -t], axis=-1)] * 4, axis=1)  # (10, 4, 3) linear
    broken = joints.copy()
    broken[3:6, 1] = np.nan  # gap inside
    broken[0:2, 2, 1] = np.inf  # one coordinate at the start
    broken[9, 3] = np.nan  # the end
    out = clean(broken)
    np.testing.assert_allclose(out[:, :2], joints[:, :2])
    np.testing.assert_allclose(out[0:2, 2], np.repeat(joints[2:3, 2], 2, axis=0))
    np.testing.assert_allclose(out[9, 3], joints[8, 3])
    assert np.isfinite(out).all()


def test_clean_drops_untracked_frames_and_returns_clean_input_unchanged():
    joints = np.random.default_rng(0).normal(size=(6, 25, 3)).astype(np.float32)
    assert clean(joints) is joints
    broken = joints.copy()
    broken[[0, 4]] = np.nan
    np.testing.assert_array_equal(clean(broken), joints[[1, 2, 3, 5]])


def test_clean_rejects_a_sequence_without_any_valid_frame():
    with pytest.raises(ValueError, match="no valid frame"):
        clean(np.full((5, 25, 3), np.nan))
    with pytest.raises(ValueError, match="empty"):
        clean(np.zeros((0, 25, 3)))


def test_clean_fills_never_seen_joints_from_the_parent_or_refuses():
    joints = np.random.default_rng(0).normal(size=(4, 25, 3)).astype(np.float32)
    joints[:, C["left_thumb"]] = np.nan
    with pytest.raises(ValueError, match=r"\[22\].*parents"):
        clean(joints)
    out = clean(joints, CANONICAL_PARENTS)
    np.testing.assert_array_equal(out[:, C["left_thumb"]], joints[:, C["left_wrist"]])


# ---- normalize ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ntu_sequence", "ucla_sequence"])
def test_normalize_is_invariant_to_rotation_translation_and_scale(which, request):
    joints = request.getfixturevalue(which)
    reference = normalize(joints)
    for seed in range(3):
        moved = 1.7 * (joints @ _rotation(seed).T) + np.array([2.0, -0.5, 3.0])
        np.testing.assert_allclose(normalize(moved), reference, atol=2e-4)


def test_normalize_puts_the_body_in_the_canonical_frame(ntu_sequence):
    out = normalize(ntu_sequence)
    start = out[:5].mean(axis=0)
    np.testing.assert_allclose(start[C["spine_base"]], 0, atol=1e-5)
    spine = start[C["spine_shoulder"]] - start[C["spine_base"]]
    np.testing.assert_allclose(spine[[0, 2]], 0, atol=1e-5)  # spine along +y
    assert spine[1] > 0
    lateral = start[C["left_hip"]] - start[C["right_hip"]]
    lateral += start[C["left_shoulder"]] - start[C["right_shoulder"]]
    assert lateral[0] > 0 and abs(lateral[2]) < 1e-5  # left side at +x
    feet = (
        start[[C["left_foot"], C["right_foot"]], 2] - start[[C["left_ankle"], C["right_ankle"]], 2]
    )
    assert (feet > 0).all()  # toes point forward: the body faces +z
    torso = np.linalg.norm(out[:, C["spine_shoulder"]] - out[:, C["spine_base"]], axis=1)
    assert np.median(torso) == pytest.approx(1.0, abs=1e-5)


def test_normalize_keeps_handedness(ntu_sequence):
    """A mirrored body is a different action (left vs right hand): it must not normalise
    to the same array."""
    mirrored = mirror(ntu_sequence, "ntu25")
    assert np.abs(normalize(mirrored) - normalize(ntu_sequence)).max() > 0.1
    np.testing.assert_allclose(mirror(mirrored, "ntu25"), ntu_sequence)


def test_normalize_rejects_unclean_or_degenerate_input(ntu_sequence):
    broken = ntu_sequence.copy()
    broken[3, 4] = np.nan
    with pytest.raises(ValueError, match="clean"):
        normalize(broken)
    with pytest.raises(ValueError, match="degenerate"):
        normalize(np.ones((4, 25, 3)))
    with pytest.raises(ValueError, match="25"):
        normalize(np.ones((4, 20, 3)))


# ---- resample ----------------------------------------------------------------------


def test_resample_handles_one_short_and_long_sequences():
    one = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    np.testing.assert_array_equal(resample(one, 4), np.repeat(one, 4, axis=0))
    line = np.linspace(0, 1, 5, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3))
    for length in (2, 5, 9, 64):
        out = resample(line, length)
        assert out.shape == (length, 2, 3)
        np.testing.assert_allclose(out[:, 0, 0], np.linspace(0, 1, length), atol=1e-6)
    long = np.linspace(0, 1, 300, dtype=np.float32)[:, None, None] * np.ones((1, 25, 3))
    np.testing.assert_allclose(resample(long, 64)[:, 3, 1], np.linspace(0, 1, 64), atol=1e-6)


def test_resample_on_timestamps_spaces_output_evenly_in_time():
    times = np.array([0.0, 0.01, 0.05, 0.3, 0.31, 1.0])
    positions = (2.0 * times).astype(np.float32)[:, None, None] * np.ones((1, 1, 3))
    out = resample(positions, 11, timestamps=times)
    np.testing.assert_allclose(out[:, 0, 0], 2.0 * np.linspace(0, 1, 11), atol=1e-6)
    with pytest.raises(ValueError, match="increasing"):
        resample(positions, 11, timestamps=times[::-1])
    with pytest.raises(ValueError, match="timestamps"):
        resample(positions, 11, timestamps=times[:3])
    with pytest.raises(ValueError, match="empty"):
        resample(np.zeros((0, 25, 3)), 8)


# ---- body selection ----------------------------------------------------------------


def test_select_main_body_prefers_the_moving_and_present_body(ntu_sequence):
    still = np.repeat(ntu_sequence[:1] + np.array([1.0, 0, 0]), len(ntu_sequence), axis=0)
    ghost = ntu_sequence + np.array([-1.0, 0, 0])
    ghost[5:] = np.nan  # a body seen for 5 frames only
    bodies = np.stack([still, ghost, ntu_sequence])
    energy = motion_energy(bodies)
    assert np.argmax(energy) == 2 and energy[0] < energy[1] < energy[2]
    np.testing.assert_array_equal(select_main_body(bodies), ntu_sequence)
    with pytest.raises(ValueError, match="no body"):
        select_main_body(np.full((2, 4, 25, 3), np.nan))


# ---- to_input ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_layout_becomes_finite_model_input(name, ntu_sequence):
    layout = get_layout(name)
    # a plausible body in this layout: real NTU joints, each layout joint taken from the
    # canonical joint it contributes most to (random joints could be degenerate)
    nearest = layout.to_canonical.matrix.argmax(axis=0)
    window = clean(layout.to_canonical(ntu_sequence[:40, nearest]), CANONICAL_PARENTS)
    out = to_input(window)
    assert out.shape == (3, 40, 25) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.flags.c_contiguous


def test_to_input_is_fast_enough_for_a_live_window(ntu_sequence):
    window = ntu_sequence[:64]
    best = min(timeit.repeat(lambda: to_input(window), number=50, repeat=5))
    assert best / 50 < 1e-3  # seconds per 64-frame window
