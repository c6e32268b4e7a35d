"""Action segments: maximal runs of one published label of one person.

A continuous stream is easier to act on and to log as "person 3 waved from 12:00:01.2
to 12:00:04.0" than as a label every quarter window. A segment opens at the stamp of
the first window that published its label and closes where the next label starts (or
at the person's last window when their track ends); its confidence is the mean of the
published confidences over its windows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    person_id: int
    label: str
    start_ns: int
    end_ns: int
    confidence: float
    windows: int


class SegmentTracker:
    """The open segment of one person."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id
        self._label: str | None = None
        self._start_ns = self._last_ns = 0
        self._confidence_sum = 0.0
        self._windows = 0

    def update(self, stamp_ns: int, label: str, confidence: float) -> Segment | None:
        """Add one published label; returns the segment this label closed, if any."""
        closed = None
        if label != self._label:
            closed = self._segment(stamp_ns)
            self._label, self._start_ns = label, stamp_ns
            self._confidence_sum, self._windows = 0.0, 0
        self._last_ns = stamp_ns
        self._confidence_sum += confidence
        self._windows += 1
        return closed

    def close(self) -> Segment | None:
        """End the open segment at the last window (the person left)."""
        closed = self._segment(self._last_ns)
        self._label = None
        return closed

    def _segment(self, end_ns: int) -> Segment | None:
        if self._label is None:
            return None
        mean = self._confidence_sum / self._windows
        return Segment(self.person_id, self._label, self._start_ns, end_ns, mean, self._windows)
