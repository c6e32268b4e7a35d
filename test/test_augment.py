"""Training augmentation: mirror (windows and texts), sensor joint sets, body
proportions, jitter; and the classes and phrasings a run trains with."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS, NTU25_JOINTS
from dynapurls_ros.skeleton.preprocess import mirror as mirror_joints
from dynapurls_ros.skeleton.preprocess import to_input
from dynapurls_ros.training.augment import (
    BONE_SPREAD,
    CANONICAL_ORDER,
    MAX_JITTER,
    SPINE_BONES,
    TORSO_RANGE,
    Augmentation,
    add_jitter,
    mirror,
    mirror_text,
    scale_bones,
    sensor_map,
)
from dynapurls_ros.training.texts import VARIED, class_set, phrasings
from dynapurls_ros.training.windows import canonical_clip

C = {name: i for i, name in enumerate(NTU25_JOINTS)}


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """A real canonical clip: GTU-3D right-handed shaking (Kinect v2, every joint)."""
    dataset = load_dataset("gtu3d")
    label = dataset.class_names.index("right handed shaking")
    sample = next(s for s in dataset if s.label == label)
    return canonical_clip(sample, dataset.layout, 30.0)


def bone_lengths(clip: np.ndarray) -> np.ndarray:
    children = [j for j, p in enumerate(CANONICAL_PARENTS) if p >= 0]
    parents = [CANONICAL_PARENTS[j] for j in children]
    return np.linalg.norm(clip[:, children] - clip[:, parents], axis=-1)


def test_tree_order_puts_every_parent_first() -> None:
    assert sorted(CANONICAL_ORDER) == list(range(25))
    position = {joint: i for i, joint in enumerate(CANONICAL_ORDER)}
    assert all(p < 0 or position[p] < position[j] for j, p in enumerate(CANONICAL_PARENTS))


def test_bone_scaling_changes_each_bone_by_one_factor_and_keeps_the_root(clip) -> None:
    scaled = scale_bones(clip, np.random.default_rng(0), torso_range=(1.0, 1.0))
    np.testing.assert_array_equal(scaled[:, 0], clip[:, 0])
    ratio = bone_lengths(scaled) / bone_lengths(clip)
    # one factor per bone for the whole clip (up to float error), within the spread
    np.testing.assert_allclose(ratio, ratio[:1].repeat(len(ratio), 0), rtol=1e-4)
    assert (abs(ratio[0] - 1) <= BONE_SPREAD + 1e-6).all() and ratio[0].std() > 0.01


def test_torso_factor_varies_the_spine_against_the_limbs(clip) -> None:
    children = [j for j, p in enumerate(CANONICAL_PARENTS) if p >= 0]
    spine = [children.index(j) for j in SPINE_BONES]
    limbs = [i for i in range(len(children)) if i not in spine]
    low, high = TORSO_RANGE
    spine_means = []
    for seed in range(40):
        scaled = scale_bones(clip, np.random.default_rng(seed))
        ratio = (bone_lengths(scaled) / bone_lengths(clip))[0]
        assert (abs(ratio[limbs] - 1) <= BONE_SPREAD + 1e-6).all()
        assert (ratio[spine] >= low * (1 - BONE_SPREAD) - 1e-6).all()
        assert (ratio[spine] <= high * (1 + BONE_SPREAD) + 1e-6).all()
        spine_means.append(ratio[spine].mean())
    # the spine's share really changes: windows cover short and long torsos
    assert min(spine_means) < 0.8 and max(spine_means) > 1.0


def test_jitter_is_white_noise_of_a_random_std_per_window() -> None:
    windows = np.zeros((64, 3, 48, 25), dtype=np.float32)
    noisy = add_jitter(windows, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.shape == windows.shape
    stds = noisy.reshape(64, -1).std(axis=1)
    assert stds.max() <= MAX_JITTER * 1.1 and stds.min() < MAX_JITTER / 4
    assert stds.std() > MAX_JITTER / 5  # each window its own amount
    # independent over time: consecutive frames are uncorrelated
    frames = noisy[stds.argmax()]
    lag = np.corrcoef(frames[:, 1:].ravel(), frames[:, :-1].ravel())[0, 1]
    assert abs(lag) < 0.1
    np.testing.assert_array_equal(add_jitter(windows, np.random.default_rng(0)), noisy)


def test_mirrored_window_is_the_mirrored_body(clip) -> None:
    """Mirroring the normalised window equals normalising the mirrored recording: the
    right hand's motion becomes the left hand's."""
    window = clip[:48]
    direct = mirror(torch.from_numpy(to_input(window))[None])[0]
    expected = to_input(mirror_joints(window, "ntu25"))
    torch.testing.assert_close(direct, torch.from_numpy(expected), atol=1e-5, rtol=1e-4)
    x = torch.from_numpy(to_input(window))
    travel = lambda w, j: float(w[:, :, j].diff(dim=1).norm(dim=0).sum())  # noqa: E731
    assert travel(x, C["right_hand"]) > 3 * travel(x, C["left_hand"])
    assert travel(direct, C["left_hand"]) > 3 * travel(direct, C["right_hand"])
    torch.testing.assert_close(mirror(mirror(x[None]))[0], x)


def test_mirror_text_swaps_sides_and_senses_of_rotation() -> None:
    assert mirror_text("right arm swipe to the left") == "left arm swipe to the right"
    assert mirror_text("right hand draw circle (counter clockwise)") == (
        "left hand draw circle (clockwise)"
    )
    assert mirror_text("draw circle (clockwise)") == "draw circle (counter clockwise)"
    assert mirror_text("Right foot steps left") == "Left foot steps right"
    assert mirror_text("sit down") == "sit down"
    assert mirror_text("brightly") == "brightly"  # whole words only


def test_sided_classes_get_mirrored_twins() -> None:
    names = ["right hand wave", "sit down", "left handed shaking", "right handed shaking"]
    origin = ["utd_mhad", "nw_ucla", "gtu3d", "gtu3d"]
    classes = class_set(names, origin, "bank", mirrored=True)
    assert classes.names == [*names, "left hand wave"] and classes.num_seen == 4
    assert classes.mirror_of == [4, 1, 3, 2, 0]  # GTU-3D's two hands are each other's twins
    twin = classes.descriptions[4][0]
    assert twin.label == "left hand wave" and "left" in twin["hands"]
    assert "right" not in twin["global"].split()
    plain = class_set(names, origin, "bank", mirrored=False)
    assert plain.names == names and plain.mirror_of == [0, 1, 2, 3]


def test_varied_phrasings_are_the_description_the_label_and_its_synonyms() -> None:
    [[bank]] = phrasings(["sit down"], ["nw_ucla"], "bank")
    [options] = phrasings(["sit down"], ["nw_ucla"], VARIED)
    assert options[0] == bank and len(options) > 2
    assert options[1]["global"] == "a person doing sit down"
    assert {o["global"] for o in options[2:]} <= {f"a person doing {s}" for s in bank.synonyms}


def test_sensor_map_rebuilds_the_joints_a_kinect_v1_lacks(clip) -> None:
    x = torch.from_numpy(to_input(clip[:48]))[None].repeat(4, 1, 1, 1)
    mapped = sensor_map(x, torch.Generator().manual_seed(0))
    # Kinect v1 measures no hand tip or thumb: they follow the hand it does measure
    for tip in ("right_hand_tip", "right_thumb", "left_hand_tip", "left_thumb"):
        hand = C[tip.split("_")[0] + "_hand"]
        torch.testing.assert_close(mapped[..., C[tip]], mapped[..., hand])
    torch.testing.assert_close(mapped[..., C["right_elbow"]], x[..., C["right_elbow"]])
    assert not torch.allclose(mapped[..., C["right_thumb"]], x[..., C["right_thumb"]])


def test_augmentation_settings_are_checked() -> None:
    for bad in ({"speed": (1.2, 0.8)}, {"mirror": 1.5}, {"sensors": -0.1}, {"jitter": -1.0}):
        with pytest.raises(ValueError, match="Augmentation"):
            Augmentation(**bad)


def test_same_slot_texts_need_close_meaning_and_the_same_sides() -> None:
    from dynapurls_ros.training.texts import encode_class_texts, same_slots

    names = ["right hand wave", "left hand wave", "right arm throw", "sit down"]
    classes = class_set(names, ["utd_mhad", "x", "utd_mhad", "nw_ucla"], "bank", mirrored=False)
    texts = encode_class_texts(classes.descriptions, "minilm")
    text, sides = texts.draw(torch.Generator().manual_seed(0))
    same = same_slots(text, sides, 0.8)
    assert same.shape == (8, 4, 4) and same.diagonal(dim1=1, dim2=2).all()
    assert (same == same.transpose(1, 2)).all()
    assert not same[:, 0, 1].any()  # right and left hand: never the same, however close
    assert same_slots(text, sides, 1.01).sum() == 8 * 4  # only the diagonal
