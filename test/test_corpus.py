"""Text-motion pre-training on the real CMU corpus: augmentation, merged texts, training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dynapurls_ros.model.losses import multi_positive_contrastive
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS
from dynapurls_ros.training.corpus import (
    BONE_SPREAD,
    CANONICAL_ORDER,
    DRIFT_SPAN,
    MAX_JITTER,
    SPINE_BONES,
    TORSO_RANGE,
    add_drift,
    add_jitter,
    load_corpus,
    same_text_mask,
    scale_bones,
)
from dynapurls_ros.training.evaluate import evaluate, prepare
from dynapurls_ros.training.train import TrainConfig, train

TINY_ENCODER = {"stem_width": 16, "widths": [32, 32], "strides": [1, 2]}
SUBJECTS = {"subjects": [2, 3, 7]}  # walks, everyday and long trials; loads in < 1 s


@pytest.fixture(scope="module")
def corpus():
    return load_corpus("cmu_mocap", 30.0, "minilm", options=SUBJECTS)


def bone_lengths(clip: np.ndarray) -> np.ndarray:
    children = [j for j, p in enumerate(CANONICAL_PARENTS) if p >= 0]
    parents = [CANONICAL_PARENTS[j] for j in children]
    return np.linalg.norm(clip[:, children] - clip[:, parents], axis=-1)


def test_tree_order_puts_every_parent_first() -> None:
    assert sorted(CANONICAL_ORDER) == list(range(25))
    position = {joint: i for i, joint in enumerate(CANONICAL_ORDER)}
    assert all(p < 0 or position[p] < position[j] for j, p in enumerate(CANONICAL_PARENTS))


def test_bone_scaling_changes_each_bone_by_one_factor_and_keeps_the_root(corpus) -> None:
    clip = corpus.clips[0]
    scaled = scale_bones(clip, np.random.default_rng(0), torso_range=(1.0, 1.0))
    np.testing.assert_array_equal(scaled[:, 0], clip[:, 0])
    ratio = bone_lengths(scaled) / bone_lengths(clip)
    # one factor per bone for the whole clip (up to float error), within the spread
    np.testing.assert_allclose(ratio, ratio[:1].repeat(len(ratio), 0), rtol=1e-4)
    assert (abs(ratio[0] - 1) <= BONE_SPREAD + 1e-6).all() and ratio[0].std() > 0.01


def test_torso_factor_varies_the_spine_against_the_limbs(corpus) -> None:
    clip = corpus.clips[0]
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


def test_drift_is_slow_noise_of_a_random_std_per_window() -> None:
    windows = np.zeros((64, 3, 48, 25), dtype=np.float32)
    drifted = add_drift(windows, np.random.default_rng(0), max_std=0.08)
    assert drifted.dtype == np.float32 and drifted.shape == windows.shape
    stds = drifted.reshape(64, -1).std(axis=1)
    assert stds.max() <= 0.08 * 1.15 and stds.min() < 0.08 / 4
    # correlated over DRIFT_SPAN frames: neighbours nearly equal, far frames independent
    frames = drifted[stds.argmax()]
    near = np.corrcoef(frames[:, 1:].ravel(), frames[:, :-1].ravel())[0, 1]
    far = np.corrcoef(frames[:, DRIFT_SPAN:].ravel(), frames[:, :-DRIFT_SPAN].ravel())[0, 1]
    assert near > 0.8 and abs(far) < 0.15
    np.testing.assert_array_equal(add_drift(windows, np.random.default_rng(0), 0.08), drifted)


def test_corpus_windows_drift_only_when_asked(corpus) -> None:
    index = np.arange(8)
    plain = corpus.windows(index, 48, np.random.default_rng(0))
    again = dataclasses.replace(corpus, drift=0.0).windows(index, 48, np.random.default_rng(0))
    drifted = dataclasses.replace(corpus, drift=0.08).windows(index, 48, np.random.default_rng(0))
    np.testing.assert_array_equal(plain, again)
    assert not np.allclose(plain, drifted)
    # the wobble moves joints by a few hundredths of a torso length, not the motion
    assert 0.001 < np.abs(drifted - plain).mean() < 0.08


def test_near_identical_descriptions_are_merged(corpus) -> None:
    texts = corpus.texts
    assert len(texts) == len(corpus.embeddings) == len(corpus.same_text)
    assert corpus.same_text.diagonal().all()
    walk = [i for i, t in enumerate(texts) if t.lower() == "walk"]
    assert len(walk) >= 2, "the corpus spells 'walk' more than one way"
    assert corpus.same_text[walk[0], walk[1]]
    unit = F.normalize(torch.randn(4, 8), dim=-1)
    mask = same_text_mask(torch.cat([unit, unit[:1]]), 0.99)
    assert mask[0, 4] and mask[4, 0] and not mask[0, 1]


def test_multi_positive_loss_is_cross_entropy_for_one_hot_targets() -> None:
    logits = torch.randn(5, 5)
    one_hot = torch.eye(5, dtype=torch.bool)
    expected = 0.5 * (
        F.cross_entropy(logits, torch.arange(5)) + F.cross_entropy(logits.T, torch.arange(5))
    )
    torch.testing.assert_close(multi_positive_contrastive(logits, one_hot), expected)
    # Two samples of the same motion under two near-identical texts, scored alike: with
    # one-hot targets training would push each sample away from the other's text (a
    # false negative); with both texts marked as positives it does not.
    logits = torch.tensor([[5.0, 5.0, 0.0], [5.0, 5.0, 0.0], [0.0, 0.0, 5.0]], requires_grad=True)
    merged = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    (one_hot_grad,) = torch.autograd.grad(
        multi_positive_contrastive(logits, torch.eye(3) > 0), logits
    )
    (merged_grad,) = torch.autograd.grad(multi_positive_contrastive(logits, merged), logits)
    assert one_hot_grad[0, 1] > 0.1  # gradient descent lowers the cross score
    assert merged_grad[0, 1] <= 0.0
    with pytest.raises(ValueError, match="at least one positive"):
        multi_positive_contrastive(logits, torch.zeros(3, 3, dtype=torch.bool))


def test_long_trials_give_more_windows_per_epoch(corpus) -> None:
    order = corpus.epoch(48, np.random.default_rng(0))
    counts = np.bincount(order, minlength=len(corpus.clips))
    lengths = np.array([len(c) for c in corpus.clips])
    assert counts.min() >= 1 and counts.max() <= 3
    assert counts[lengths.argmax()] > counts[lengths.argmin()]


def test_corpus_only_training_gives_a_global_slot_model(tmp_path) -> None:
    config = TrainConfig(
        datasets=[],
        corpus="cmu_mocap",
        encoder_epochs=1,
        views=1,
        encoder=TINY_ENCODER,
        dataset_options={"cmu_mocap": SUBJECTS},
    )
    assert config.fusion == (1.0, 0.0, 0.0)
    result = train(config, progress=False)
    assert result.info.seen_labels == [] and result.history[0]["corpus_loss"] > 0
    metrics = evaluate(result.model, result.info, prepare(result.info, ["gtu3d"], None, "labels"))
    assert metrics["num_clips"] == 508 and len(metrics["classes"]) == 14


def test_joint_training_uses_corpus_in_both_stages() -> None:
    config = TrainConfig(
        datasets=["gtu3d"],
        corpus="cmu_mocap",
        encoder_epochs=1,
        align_epochs=1,
        views=1,
        encoder=TINY_ENCODER,
        dataset_options={"cmu_mocap": SUBJECTS},
    )
    result = train(config, progress=False)
    stages = [(h["stage"], h.get("corpus_loss", 0.0)) for h in result.history]
    assert stages[0][0] == 1 and stages[0][1] > 0 and stages[-1][0] == 2
    assert len(result.info.seen_labels) == 14


def test_nothing_to_train_on_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to train on"):
        TrainConfig(datasets=[])


@pytest.mark.parametrize("field", ["corpus_weight", "corpus_drift", "text_weight"])
def test_negative_corpus_and_text_settings_are_refused(field: str) -> None:
    # a negative drift would silently add none; negative weights would push apart
    with pytest.raises(ValueError, match=field):
        TrainConfig(corpus="cmu_mocap", **{field: -0.1})
