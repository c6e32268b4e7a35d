"""Per-person temporal smoothing of window labels, with hysteresis.

One window says little: consecutive windows overlap by three quarters, and a label that
wins one window and loses the next makes a robot start and stop. Each person keeps the
evidence of their windows of the last ``window_s`` seconds (by stamp): one vote per
window, for its best label or for "unknown" when the window was rejected. The
published label is the one with the most mean evidence, except that the label in force
keeps its place until a rival leads it by ``hysteresis`` (or it has no vote left in
the span): the label changes when the evidence does, not on every close call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class SmoothingConfig:
    """``window_s``: seconds of evidence (0: each window on its own); ``hysteresis``:
    lead in share of votes a new label needs over the current one."""

    window_s: float = 1.0
    hysteresis: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.window_s <= 60.0:
            raise ValueError(f"smoothing window must be in [0, 60] s, got {self.window_s}")
        if not 0.0 <= self.hysteresis <= 1.0:
            raise ValueError(f"hysteresis must be in [0, 1], got {self.hysteresis}")


@dataclass(frozen=True)
class Decision:
    """The label in force and its share of the smoothing window's votes, in [0, 1]."""

    label: str
    confidence: float


class LabelSmoother:
    """One person's evidence over time and the label it supports. The settings come
    with every update, so a live parameter change applies to the next window."""

    def __init__(self) -> None:
        self._evidence: deque[tuple[int, Mapping[str, float]]] = deque()
        self._current: str | None = None

    def update(
        self, stamp_ns: int, evidence: Mapping[str, float], config: SmoothingConfig
    ) -> Decision:
        """Add one window's evidence (label -> weight, weights summing to at most 1)."""
        self._evidence.append((stamp_ns, evidence))
        oldest = stamp_ns - int(config.window_s * NS_PER_S)
        while self._evidence[0][0] < oldest or self._evidence[0][0] > stamp_ns:
            self._evidence.popleft()  # too old, or from before a stamp jumped back
        totals: dict[str, float] = {}
        for _, weights in self._evidence:
            for label, weight in weights.items():
                totals[label] = totals.get(label, 0.0) + weight
        count = len(self._evidence)
        best = max(totals, key=totals.__getitem__)
        current = self._current
        held = totals.get(current, 0.0) if current is not None else 0.0
        # A label with no evidence left in the span yields whatever the hysteresis.
        if not held or totals[best] - held > config.hysteresis * count:
            self._current = current = best
        return Decision(current, totals.get(current, 0.0) / count)


def window_evidence(label: str, known: bool, unknown: str) -> dict[str, float]:
    """What one window says: one vote, for its best label or for ``unknown``.

    A vote rather than the window's probabilities: a rejected window says "unknown"
    with all its weight, while an accepted one spreads its softmax over the labels, so
    with probabilities "unknown" wins every span where it is only one window in three
    (measured with ``benchmarks/stream.py --offline``)."""
    return {label if known else unknown: 1.0}
