"""Text-motion pre-training on the real CMU corpus: augmentation, merged texts, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.datasets.cmu_mocap import kitml_texts
from dynapurls_ros.model import DynaPURLS, EncoderConfig, ModelConfig
from dynapurls_ros.model.losses import multi_positive_contrastive
from dynapurls_ros.training.corpus import load_corpus, same_text_mask
from dynapurls_ros.training.evaluate import evaluate, prepare
from dynapurls_ros.training.train import TrainConfig, train

TINY_ENCODER = {"stem_width": 16, "widths": [32, 32], "strides": [1, 2]}
SUBJECTS = {"subjects": [2, 3, 7]}  # walks, everyday and long trials; loads in < 1 s


@pytest.fixture(scope="module")
def corpus():
    return load_corpus("cmu_mocap", 30.0, "minilm", options=SUBJECTS)


def test_near_identical_descriptions_are_merged(corpus) -> None:
    texts = corpus.texts
    assert len(texts) == len(corpus.embeddings) == corpus.own.shape[1]
    assert (corpus.positives >= corpus.own).all()  # own texts are always positives
    walk = [i for i, t in enumerate(texts) if t.lower() == "walk"]
    assert len(walk) >= 2, "the corpus spells 'walk' more than one way"
    owned = [i for i in walk if corpus.own[:, i].any()]
    assert owned, "subjects 2, 3, 7 have a trial described as walk"
    walkers = corpus.own[:, owned[0]]
    assert corpus.positives[walkers][:, walk].all()  # every spelling is a positive
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


def test_kitml_sentences_are_extra_positives_of_their_trials(corpus) -> None:
    sentences = kitml_texts()
    assert len(sentences) == 654
    assert sentences["128_03"] == ("A person runs really fast",)
    dataset = load_dataset("cmu_mocap", **SUBJECTS)
    with_kit = [row for row, s in enumerate(dataset) if s.name in sentences]
    assert with_kit, "subjects 2, 3, 7 have KIT-ML sentences"
    row = with_kit[0]
    own = corpus.own[row].nonzero().squeeze(1).tolist()
    assert len(own) == 2  # CMU's description and the KIT-ML sentence, as written
    assert corpus.texts[own[0]] == dataset.class_names[dataset.samples[row].label]
    assert corpus.texts[own[1]] == sentences[dataset.samples[row].name][0]
    assert corpus.own.sum() == len(dataset) + len(with_kit)


def test_corpus_loss_counts_every_own_text_of_a_trial(corpus) -> None:
    model = DynaPURLS(ModelConfig(encoder=EncoderConfig(**TINY_ENCODER)))
    index = np.arange(16)
    tokens = model.tokens(torch.from_numpy(corpus.windows(index, 48, np.random.default_rng(0))))
    loss = corpus.loss(model, tokens.mean(dim=1), index)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert model.global_proj.net[0].weight.grad is not None


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
    assert config.fusion == (1.0, 0.0, 0.0)  # parts and phases need labelled descriptions
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


def test_negative_text_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="text_weight"):  # it would push texts apart
        TrainConfig(corpus="cmu_mocap", text_weight=-0.1)
