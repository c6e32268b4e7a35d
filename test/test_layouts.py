"""Joint layouts: registry, canonical maps, bones, mirror permutations."""

from __future__ import annotations

import numpy as np
import pytest

from dynapurls_ros.paths import data_root
from dynapurls_ros.skeleton.layouts import (
    CANONICAL,
    CANONICAL_BONES,
    CANONICAL_PARENTS,
    LAYOUTS,
    NTU25_JOINTS,
    get_layout,
)

EXPECTED_SIZES = {
    "ntu25": 25,
    "kinect_v1": 20,
    "azure_kinect": 32,
    "coco17": 17,
    "mediapipe33": 33,
    "openpose25": 25,
    "zed38": 38,
    "openni15": 15,
}
C = {name: i for i, name in enumerate(NTU25_JOINTS)}


def test_registry_holds_every_layout_with_its_joint_count():
    assert CANONICAL == "ntu25"
    assert {name: layout.num_joints for name, layout in LAYOUTS.items()} == EXPECTED_SIZES


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_mapping_shapes_and_weights(name):
    layout = get_layout(name)
    rng = np.random.default_rng(0)
    one = rng.normal(size=(7, layout.num_joints, 3))
    batch = rng.normal(size=(2, 7, layout.num_joints, 3))
    assert layout.to_canonical(one).shape == (7, 25, 3)
    assert layout.to_canonical(one).dtype == np.float32
    assert layout.to_canonical(batch).shape == (2, 7, 25, 3)
    np.testing.assert_allclose(layout.to_canonical(batch)[1], layout.to_canonical(batch[1]))
    matrix = layout.to_canonical.matrix
    assert matrix.shape == (25, layout.num_joints)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-6)
    assert (matrix >= 0).all()
    # a rigid translation of every source joint translates every canonical joint
    shift = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(
        layout.to_canonical(one + shift), layout.to_canonical(one) + shift, atol=1e-5
    )
    with pytest.raises(ValueError, match="shape"):
        layout.to_canonical(np.zeros((7, layout.num_joints + 1, 3)))


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_names_bones_and_mirror_permutation_are_consistent(name):
    layout = get_layout(name)
    assert len(set(layout.joint_names)) == layout.num_joints
    assert all(0 <= a < layout.num_joints and 0 <= b < layout.num_joints for a, b in layout.bones)
    assert len(set(layout.bones)) == len(layout.bones)
    perm = layout.mirror_permutation
    assert [perm[p] for p in perm] == list(range(layout.num_joints))
    for i, j in enumerate(perm):
        left, right = layout.joint_names[i], layout.joint_names[j]
        assert left.replace("left", "X").replace("right", "left").replace("X", "right") == right


def test_canonical_bones_form_a_tree_rooted_at_the_spine_base():
    assert len(CANONICAL_BONES) == 24
    children = [child for _, child in CANONICAL_BONES]
    assert sorted(children) == list(range(1, 25))
    assert CANONICAL_PARENTS[0] == -1
    for joint in range(25):  # every joint reaches the root
        steps = 0
        while joint != 0:
            joint = CANONICAL_PARENTS[joint]
            steps += 1
            assert steps < 25


def test_ntu25_maps_to_itself():
    joints = np.random.default_rng(1).normal(size=(5, 25, 3)).astype(np.float32)
    np.testing.assert_array_equal(get_layout("ntu25").to_canonical(joints), joints)


def _named(layout_name: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """One frame in ``layout_name`` with each joint at ``values[name]`` (default: random)."""
    layout = get_layout(layout_name)
    rng = np.random.default_rng(2)
    frame = rng.normal(size=(layout.num_joints, 3))
    for joint, value in values.items():
        frame[layout.joint_names.index(joint)] = value
    return frame[None]


def test_synthesised_joints_follow_the_documented_rules():
    coco = _named("coco17", {})
    out = get_layout("coco17").to_canonical(coco)[0]
    names = get_layout("coco17").joint_names
    at = {n: coco[0, i] for i, n in enumerate(names)}
    np.testing.assert_allclose(out[C["spine_base"]], (at["left_hip"] + at["right_hip"]) / 2, 1e-5)
    np.testing.assert_allclose(
        out[C["spine_shoulder"]], (at["left_shoulder"] + at["right_shoulder"]) / 2, 1e-5
    )
    np.testing.assert_allclose(out[C["head"]], (at["left_ear"] + at["right_ear"]) / 2, 1e-5)
    for part in ("hand", "hand_tip", "thumb"):
        np.testing.assert_allclose(out[C[f"right_{part}"]], at["right_wrist"], 1e-5)
    np.testing.assert_allclose(out[C["left_foot"]], at["left_ankle"], 1e-5)

    azure = _named("azure_kinect", {})
    out = get_layout("azure_kinect").to_canonical(azure)[0]
    names = get_layout("azure_kinect").joint_names
    np.testing.assert_allclose(out[C["left_thumb"]], azure[0, names.index("left_thumb")], 1e-5)
    np.testing.assert_allclose(out[C["spine_shoulder"]], azure[0, names.index("neck")], 1e-5)

    zed = _named("zed38", {})
    out = get_layout("zed38").to_canonical(zed)[0]
    names = get_layout("zed38").joint_names
    np.testing.assert_allclose(
        out[C["right_hand_tip"]], zed[0, names.index("right_hand_middle_4")], 1e-5
    )


def test_openni15_fills_the_joints_nite_lacks_as_documented():
    nite = _named("openni15", {})
    out = get_layout("openni15").to_canonical(nite)[0]
    at = dict(zip(get_layout("openni15").joint_names, nite[0], strict=True))
    np.testing.assert_allclose(out[C["spine_base"]], (at["left_hip"] + at["right_hip"]) / 2, 1e-5)
    np.testing.assert_allclose(out[C["spine_mid"]], at["torso"], 1e-5)
    np.testing.assert_allclose(out[C["spine_shoulder"]], at["neck"], 1e-5)
    np.testing.assert_allclose(out[C["neck"]], 0.65 * at["neck"] + 0.35 * at["head"], 1e-5)
    for side in ("left", "right"):
        for part in ("wrist", "hand", "hand_tip", "thumb"):
            np.testing.assert_allclose(out[C[f"{side}_{part}"]], at[f"{side}_hand"], 1e-5)
        for part in ("ankle", "foot"):
            np.testing.assert_allclose(out[C[f"{side}_{part}"]], at[f"{side}_foot"], 1e-5)


def test_missing_source_joint_only_spoils_the_canonical_joints_built_from_it():
    layout = get_layout("coco17")
    frame = _named("coco17", {"left_ear": np.full(3, np.nan)})
    out = layout.to_canonical(frame)[0]
    spoiled = {NTU25_JOINTS[i] for i in np.flatnonzero(~np.isfinite(out).all(axis=1))}
    assert spoiled == {"head", "neck"}


def test_kinect_v1_on_real_nw_ucla_frames_keeps_the_spine_ordered():
    import json

    path = data_root() / "nw_ucla" / "all_sqe" / "a01_s01_e00_v01.json"
    joints = np.array(json.loads(path.read_text())["skeletons"], dtype=np.float32)
    out = get_layout("kinect_v1").to_canonical(joints)
    # standing at the start: spine base < spine mid < spine shoulder < neck < head (y up)
    chain = [C[n] for n in ("spine_base", "spine_mid", "spine_shoulder", "neck", "head")]
    assert (np.diff(out[0, chain, 1]) > 0).all()
    np.testing.assert_array_equal(out[:, C["left_hand_tip"]], out[:, C["left_hand"]])


def test_unknown_layout_error_lists_the_known_ones():
    with pytest.raises(ValueError, match="coco17.*zed38"):
        get_layout("kinect_v3")
    assert get_layout(LAYOUTS["zed38"]) is LAYOUTS["zed38"]
