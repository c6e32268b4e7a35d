"""The Recognizer API (no ROS) with the shipped default model and real skeletons."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.model import frozen
from dynapurls_ros.recognizer import Recognizer, validate_vocabulary
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS, get_layout
from dynapurls_ros.training.windows import canonical_clip, place


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ([], "empty"),
        ("wave", "not one string"),
        (["wave", "  "], "blank"),
        (["wave", "Wave "], "duplicates"),
        (["wave", 3], "not a string"),
        ([f"action {i}" for i in range(600)], "at most"),
    ],
)
def test_bad_vocabularies_are_rejected_with_a_reason(labels, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_vocabulary(labels)


def test_vocabulary_entries_are_tidied() -> None:
    assert validate_vocabulary(["  sit   down ", "wave"]) == ["sit down", "wave"]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_checkpoint()


def _windows(recognizer: Recognizer, dataset: str, count: int) -> tuple[np.ndarray, list[str]]:
    data = load_dataset(dataset)
    samples = data.samples[:: len(data.samples) // count][:count]
    length = recognizer.window_length
    windows = []
    for sample in samples:
        clip = canonical_clip(sample, data.layout, recognizer.frame_rate)
        windows.append(place(clip, length, (len(clip) - length) // 2))
    return np.stack(windows), [data.class_names[s.label] for s in samples]


def test_predictions_come_from_the_active_vocabulary(recognizer: Recognizer) -> None:
    windows, _ = _windows(recognizer, "gtu3d", 6)
    vocabulary = recognizer.set_vocabulary(["wave", "sit down", "walking", "crouching"])
    assert all(source.startswith("bank:") for source in vocabulary.sources)
    predictions = recognizer.predict(windows, top_k=3)
    assert len(predictions) == 6
    for prediction in predictions:
        assert prediction.label == prediction.top_labels[0]
        assert set(prediction.top_labels) <= set(vocabulary.labels)
        assert list(prediction.top_scores) == sorted(prediction.top_scores, reverse=True)
        assert 0.0 < prediction.confidence <= 1.0


def test_default_model_recognises_its_training_actions(recognizer: Recognizer) -> None:
    """GTU-3D is part of the default model's training data: most windows must be right."""
    windows, truth = _windows(recognizer, "gtu3d", 28)
    recognizer.set_vocabulary(sorted(set(load_dataset("gtu3d").class_names)))
    labels = [p.label for p in recognizer.predict(windows)]
    accuracy = np.mean([a == b for a, b in zip(labels, truth, strict=True)])
    assert accuracy >= 0.6, list(zip(labels, truth, strict=True))


def test_openni15_recordings_converted_from_gtu3d_are_recognised(recognizer) -> None:
    """GTU-3D recordings as an OpenNI / NiTE tracker would give them (its 15 joints: NiTE's
    neck is the spine shoulder, its torso the spine mid, its foot sits at the ankle) go
    through the openni15 map and are nearly as well recognised as the full skeletons."""
    data = load_dataset("gtu3d")
    samples = data.samples[:: len(data.samples) // 28][:28]
    nite = {"neck": "spine_shoulder", "torso": "spine_mid"}
    nite |= {f"{side}_foot": f"{side}_ankle" for side in ("left", "right")}
    index = [NTU25_JOINTS.index(nite.get(n, n)) for n in get_layout("openni15").joint_names]
    windows = []
    for sample in samples:
        clip = canonical_clip(
            replace(sample, joints=sample.joints[:, index]), "openni15", recognizer.frame_rate
        )
        length = recognizer.window_length
        windows.append(place(clip, length, (len(clip) - length) // 2))
    recognizer.set_vocabulary(sorted(set(data.class_names)))
    labels = [p.label for p in recognizer.predict(np.stack(windows))]
    truth = [data.class_names[s.label] for s in samples]
    accuracy = np.mean([a == b for a, b in zip(labels, truth, strict=True)])
    assert accuracy >= 0.8, list(zip(labels, truth, strict=True))


def test_vocabulary_swap_is_atomic_and_unknown_labels_get_a_template(recognizer) -> None:
    windows, _ = _windows(recognizer, "nw_ucla", 2)
    new = recognizer.encode_vocabulary(["unknown-word xyz", "sit down"])
    assert new.sources[0] == "template"
    assert recognizer.vocabulary is not new  # encoding alone does not switch
    recognizer.set_vocabulary(new)
    assert {p.label for p in recognizer.predict(windows)} <= {"unknown-word xyz", "sit down"}


def test_missing_joints_are_filled_and_empty_windows_refused(recognizer: Recognizer) -> None:
    windows, _ = _windows(recognizer, "nw_ucla", 1)
    recognizer.set_vocabulary(["wave", "sit down"])
    holey = windows.copy()
    holey[0, ::3, 7] = np.nan  # a hand lost every third frame
    assert recognizer.predict(holey)[0].confidence > 0
    with pytest.raises(ValueError, match="no valid"):
        recognizer.predict(np.full_like(windows, np.nan))
    with pytest.raises(ValueError, match="windows must be"):
        recognizer.predict(windows[:, :5])


def test_frozen_encoder_gives_the_eager_tokens_on_real_windows(recognizer: Recognizer) -> None:
    windows, _ = _windows(recognizer, "gtu3d", 7)
    traced_encoder = recognizer.encoder_for_inference()
    assert traced_encoder is not recognizer.model.encoder  # the trace was built and kept
    for batch in (windows[:1], windows):  # a batch size it was neither traced nor checked on
        x = recognizer.prepare(batch)
        with torch.no_grad():
            eager = recognizer.model.tokens(x)
            traced = recognizer.model.tokens(x, traced_encoder)
        assert torch.allclose(traced, eager, atol=1e-5)


def test_an_encoder_whose_trace_differs_runs_eagerly(recognizer, monkeypatch, caplog) -> None:
    monkeypatch.setattr(frozen, "TOLERANCE", -1.0)  # no trace can pass the check now
    encoder = recognizer.model.encoder
    with caplog.at_level(logging.WARNING, logger=frozen.__name__):
        assert frozen.frozen_encoder(encoder, recognizer.window_length) is encoder
    assert "runs eagerly" in caplog.text


def test_int8_labels_agree_with_the_float_model(recognizer: Recognizer) -> None:
    windows, names = _windows(recognizer, "gtu3d", 40)
    quantized = Recognizer.from_checkpoint(int8=True)
    labels = {}
    for name, model in (("float", recognizer), ("int8", quantized)):
        model.set_vocabulary(sorted(set(names)))
        labels[name] = [p.label for p in model.predict(windows)]
    agree = np.mean([a == b for a, b in zip(labels["float"], labels["int8"], strict=True)])
    assert agree >= 0.9
