"""Counters and inference latencies of the node, and their ``/diagnostics`` message.

The subscription, inference and vocabulary threads all update the same counters, so
they sit behind one lock. A snapshot is a plain value; the node logs one every
``diagnostics_period`` and publishes it as a ``diagnostic_msgs/DiagnosticArray`` that
``rqt_runtime_monitor`` or a diagnostic aggregator can show.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

PERCENTILES = (50, 90, 99)

# Above this share of skeletons dropped in one period, the status turns WARN: the
# tracker and the node disagree (layout, joint count, stamps) more than occasionally.
WARN_DROP_SHARE = 0.5


@dataclass(frozen=True)
class Snapshot:
    """Totals since start: ``counts`` of events, ``drops`` by reason, and the latency
    percentiles (milliseconds) of the most recent inferences."""

    counts: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)

    def since(self, earlier: Snapshot, key: str) -> int:
        """How much a count grew since ``earlier``."""
        return self.counts.get(key, 0) - earlier.counts.get(key, 0)

    def drops_since(self, earlier: Snapshot) -> int:
        return sum(self.drops.values()) - sum(earlier.drops.values())


class Stats:
    """Thread-safe event counters, drop reasons and a window of recent latencies."""

    def __init__(self, latency_samples: int = 1000) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._drops: Counter[str] = Counter()
        self._latencies: deque[float] = deque(maxlen=latency_samples)

    def count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[key] += amount

    def drop(self, reason: str) -> None:
        with self._lock:
            self._drops[reason] += 1

    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latencies.append(seconds)

    def snapshot(self) -> Snapshot:
        with self._lock:
            counts, drops = dict(self._counts), dict(self._drops)
            latencies = np.array(self._latencies, dtype=np.float64) * 1000.0
        latency_ms = {}
        if len(latencies):
            values = np.percentile(latencies, PERCENTILES)
            latency_ms = {f"p{p}": float(v) for p, v in zip(PERCENTILES, values, strict=True)}
            latency_ms["max"] = float(latencies.max())
        return Snapshot(counts, drops, latency_ms)


def summary(snapshot: Snapshot) -> str:
    """One log line: counts, drops by reason, latency percentiles."""
    parts = [f"{key}={value}" for key, value in sorted(snapshot.counts.items())]
    drops = ", ".join(f"{reason}={n}" for reason, n in sorted(snapshot.drops.items()))
    parts.append(f"dropped: {drops or 'none'}")
    if snapshot.latency_ms:
        latency = " ".join(f"{k}={v:.1f}" for k, v in snapshot.latency_ms.items())
        parts.append(f"latency ms: {latency}")
    return "; ".join(parts)


def status_level(now: Snapshot, before: Snapshot, problem: str | None) -> tuple[bytes, str]:
    """(level, message) of the period from ``before`` to ``now``.

    ``problem`` is the node's own complaint (no vocabulary yet, encoding failed); WARN
    too when most skeletons of the period were dropped.
    """
    if problem:
        return DiagnosticStatus.WARN, problem
    dropped = now.drops_since(before)
    seen = dropped + now.since(before, "skeletons")
    if seen and dropped / seen > WARN_DROP_SHARE:
        return DiagnosticStatus.WARN, f"{dropped} of {seen} skeletons dropped in the last period"
    return DiagnosticStatus.OK, "running"


def diagnostic_array(
    name: str,
    level: bytes,
    message: str,
    snapshot: Snapshot,
    extra: Mapping[str, str],
) -> DiagnosticArray:
    """A one-status ``DiagnosticArray`` (header stamp left for the node to set)."""
    values = [KeyValue(key=k, value=str(v)) for k, v in sorted(snapshot.counts.items())]
    values += [
        KeyValue(key=f"dropped {k}", value=str(v)) for k, v in sorted(snapshot.drops.items())
    ]
    values += [
        KeyValue(key=f"latency {k} ms", value=f"{v:.2f}") for k, v in snapshot.latency_ms.items()
    ]
    values += [KeyValue(key=k, value=v) for k, v in extra.items()]
    status = DiagnosticStatus(level=level, name=name, message=message, values=values)
    return DiagnosticArray(status=[status])
