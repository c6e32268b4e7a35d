"""One person's published output from their window predictions (no ROS).

The node and the stream benchmark's offline mode share this, so what is measured is
what the node publishes: the open-set decision (the window's ``known_score``),
smoothing with hysteresis, ``min_confidence``, and the segment a change of label
closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynapurls_ros.output.segments import Segment, SegmentTracker
from dynapurls_ros.output.smoothing import LabelSmoother, SmoothingConfig, window_evidence
from dynapurls_ros.recognizer import Prediction


@dataclass(frozen=True)
class OutputConfig:
    unknown: str
    rejection_enabled: bool = True
    smoothing: SmoothingConfig = SmoothingConfig()
    min_confidence: float = 0.0


@dataclass(frozen=True)
class Output:
    """The label in force, its confidence, the window's open-set score, and the
    segment this window closed (None if the label did not change)."""

    label: str
    confidence: float
    known_score: float
    closed: Segment | None


class PersonLabeler:
    def __init__(self, person_id: int) -> None:
        self._smoother = LabelSmoother()
        self._segments = SegmentTracker(person_id)

    def update(self, stamp_ns: int, prediction: Prediction, config: OutputConfig) -> Output:
        known_score = prediction.known_score
        known = known_score >= 0.0 or not config.rejection_enabled
        evidence = window_evidence(prediction.label, known, config.unknown)
        decision = self._smoother.update(stamp_ns, evidence, config.smoothing)
        label = decision.label
        if decision.confidence < config.min_confidence:
            label = config.unknown
        closed = self._segments.update(stamp_ns, label, decision.confidence)
        return Output(label, decision.confidence, known_score, closed)

    def close(self) -> Segment | None:
        """The person left: their open segment, ended at their last window."""
        return self._segments.close()
