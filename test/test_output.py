"""Open-set rejection, smoothing, segments and the stream benchmark's figures (no ROS)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from benchmarks.stream import (
    LabelRecord,
    PersonStream,
    Piece,
    SegmentRecord,
    auroc,
    labels_in_force,
    score,
    segment_f1,
)
from dynapurls_ros.checkpoint import load_checkpoint
from dynapurls_ros.output.labeler import OutputConfig, PersonLabeler
from dynapurls_ros.output.segments import SegmentTracker
from dynapurls_ros.output.smoothing import LabelSmoother, SmoothingConfig
from dynapurls_ros.recognizer import Prediction, Recognizer
from dynapurls_ros.rejection import thresholds
from dynapurls_ros.training.calibration import training_references

S = 1_000_000_000


def _vote(label: str) -> dict[str, float]:
    return {label: 1.0}


def test_smoothing_changes_the_label_only_when_a_rival_leads_by_the_hysteresis() -> None:
    smoother, config = LabelSmoother(), SmoothingConfig(window_s=1.0, hysteresis=0.3)
    assert smoother.update(0, _vote("wave"), config).label == "wave"
    # 1 clap against 1 wave: a tie is no lead; 2 claps against 1 wave is a lead of 1/3.
    assert smoother.update(S // 4, _vote("clap"), config).label == "wave"
    decision = smoother.update(S // 2, _vote("clap"), config)
    assert decision.label == "clap"
    assert decision.confidence == pytest.approx(2 / 3)
    # Evidence older than the window is forgotten: one vote, all for it.
    assert smoother.update(3 * S, _vote("point"), config).confidence == 1.0


def test_without_a_window_every_window_decides_alone() -> None:
    smoother, config = LabelSmoother(), SmoothingConfig(window_s=0.0, hysteresis=0.9)
    labels = [smoother.update(k * S, _vote(v), config).label for k, v in enumerate("abab")]
    assert labels == list("abab")


@pytest.mark.parametrize(("window", "hysteresis"), [(-1.0, 0.1), (1.0, 1.5), (100.0, 0.1)])
def test_smoothing_settings_out_of_range_are_refused(window, hysteresis) -> None:
    with pytest.raises(ValueError):
        SmoothingConfig(window, hysteresis)


def test_segments_close_where_the_next_label_starts_and_at_the_end() -> None:
    tracker = SegmentTracker(7)
    assert tracker.update(0, "wave", 0.5) is None
    assert tracker.update(10, "wave", 1.0) is None
    closed = tracker.update(20, "unknown", 1.0)
    assert (closed.label, closed.start_ns, closed.end_ns, closed.windows) == ("wave", 0, 20, 2)
    assert closed.confidence == pytest.approx(0.75) and closed.person_id == 7
    tracker.update(30, "unknown", 1.0)
    last = tracker.close()
    assert (last.label, last.start_ns, last.end_ns, last.windows) == ("unknown", 20, 30, 2)
    assert tracker.close() is None


def _prediction(label: str, known_score: float) -> Prediction:
    return Prediction(label, 0.6, (label, "other"), (0.6, 0.4), known_score)


def test_labeler_rejects_below_zero_and_not_when_rejection_is_off() -> None:
    smoothing = SmoothingConfig(0.0, 0.0)
    on = OutputConfig("unknown", True, smoothing)
    off = OutputConfig("unknown", False, smoothing)
    labeler = PersonLabeler(1)
    out = labeler.update(0, _prediction("wave", -0.1), on)
    assert out.label == "unknown" and out.known_score == pytest.approx(-0.1)
    assert labeler.update(S, _prediction("wave", 0.1), on).label == "wave"
    assert labeler.update(2 * S, _prediction("wave", -3.0), off).label == "wave"
    # Two labels with one vote each in the span: confidence 0.5, below min_confidence.
    low = OutputConfig("unknown", False, SmoothingConfig(1.0, 0.0), min_confidence=0.9)
    out = labeler.update(2 * S + S // 2, _prediction("clap", 1.0), low)
    assert out.confidence == 0.5 and out.label == "unknown"


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_checkpoint()


def test_thresholds_are_the_vocabulary_size_adjusted_quantile_of_the_references() -> None:
    # 100 references, scores 0..99 for both labels: with K = 2 and level 0.81 each label
    # passes the top 10 % of references, so that a reference passes one of two
    # independent labels with probability 1 - 0.9**2 = 0.19.
    scores = torch.arange(100.0)[:, None].repeat(1, 2)
    assert thresholds(scores, 0.81).tolist() == [89.0, 89.0]
    assert thresholds(scores[:, :1], 0.5).tolist() == [49.0]
    assert thresholds(scores, 0.0).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="level"):
        thresholds(scores, 1.0)


def test_a_clip_scores_higher_when_its_action_is_in_the_vocabulary(recognizer) -> None:
    from test_recognizer import _windows

    windows, truth = _windows(recognizer, "gtu3d", 28)
    classes = sorted(set(truth))
    inside, outside = [], []
    for i, label in enumerate(truth):
        others = [c for c in classes if c != label][:3]
        recognizer.set_vocabulary([label, *others])
        inside.append(recognizer.predict(windows[i : i + 1])[0].known_score)
        recognizer.set_vocabulary(others)
        outside.append(recognizer.predict(windows[i : i + 1])[0].known_score)
    assert auroc(inside, outside) > 0.75
    assert np.mean(np.array(inside) >= 0) > np.mean(np.array(outside) >= 0)


def test_shipped_reference_motions_are_reproduced_from_the_training_data() -> None:
    model, info = load_checkpoint()
    assert info.reference_motions is not None and len(info.reference_motions) == 512
    again = training_references(model, info)
    torch.testing.assert_close(again.half(), info.reference_motions, atol=2e-3, rtol=0)


def test_without_reference_motions_nothing_is_rejected(recognizer) -> None:
    from test_recognizer import _windows

    windows, _ = _windows(recognizer, "gtu3d", 2)
    bare = Recognizer(recognizer.model, replace(recognizer.info, reference_motions=None))
    bare.set_vocabulary(["wave", "clap"])
    assert all(p.known_score == float("inf") for p in bare.predict(windows))


# --- the stream benchmark's figures -------------------------------------------------------


def test_auroc_and_segment_f1_on_cases_worked_by_hand() -> None:
    assert auroc([2, 3], [1, 0]) == 1.0 and auroc([0], [1]) == 0.0 and auroc([1], [1]) == 0.5
    truth = [SegmentRecord(1, "a", 0, 10), SegmentRecord(1, "b", 10, 20)]
    assert segment_f1(truth, truth) == 1.0
    # One right (IoU 0.8), one with the wrong label, one too short (IoU 0.3): P 1/3, R 1/2.
    predicted = [
        SegmentRecord(1, "a", 0, 8),
        SegmentRecord(1, "c", 10, 20),
        SegmentRecord(1, "b", 10, 13),
    ]
    assert segment_f1(predicted, truth) == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))


def test_stream_score_counts_frames_switches_and_flicker() -> None:
    frames = np.zeros((180, 25, 3), np.float32)
    pieces = [Piece("vocab", "a", 0, 90), Piece("idle", "unknown", 90, 180)]
    stream = PersonStream(1, frames, pieces)
    # Labels every 10 frames from frame 10: "a" until 120 (switch to unknown 1 s late),
    # with one flick to "b" at frame 70 (after the settling time, so flicker).
    records = []
    for frame in range(10, 180, 10):
        label = "a" if frame < 120 else "unknown"
        label = "b" if frame == 70 else label
        records.append(LabelRecord(1, frame, label, label, 1.0 if frame < 90 else -1.0))
    assert labels_in_force(records, 180)[9] is None and labels_in_force(records, 180)[75] == "b"
    figures = score([stream], records, [SegmentRecord(1, "a", 10, 120)], window_frames=10)
    # Frames 10..179 count; wrong: 70..79 (b) and 90..119 (a during idle).
    assert figures["frame_accuracy"] == pytest.approx(100 * (170 - 40) / 170)
    assert figures["switch_median_s"] == pytest.approx(1.0)
    assert figures["auroc"] == 1.0
    # Windows wholly inside the vocabulary piece: frames 10..80, all but 70 right.
    assert figures["window_accuracy"] == pytest.approx(100 * 7 / 8)
    assert figures["outside_unknown"] == pytest.approx(100 * 60 / 90)
    assert figures["segment_f1"] == 100.0  # IoU 80 / 120 >= 0.5
    settled_minutes = (90 - 45 + 90 - 45) / 30 / 60
    assert figures["flicker_per_min"] == pytest.approx(2 / settled_minutes)


def test_a_label_without_votes_in_the_span_yields_whatever_the_hysteresis() -> None:
    smoother, config = LabelSmoother(), SmoothingConfig(window_s=0.5, hysteresis=1.0)
    smoother.update(0, _vote("wave"), config)
    assert smoother.update(S // 4, _vote("clap"), config).label == "wave"
    assert smoother.update(S, _vote("clap"), config).label == "clap"
