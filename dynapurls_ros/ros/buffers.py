"""Per-person frame buffers that turn a tracker's irregular stream into model windows.

Trackers publish at their own rate (15-60 Hz, with jitter and gaps); the model wants
``window_length`` frames at its own ``frame_rate``. Each person keeps the raw frames of
the last window span with their capture stamps, and a window is cut by linear
interpolation at the model's frame times, ending exactly at the newest raw frame (so
the label can carry that frame's stamp). No ROS here: the node feeds stamps in
nanoseconds and receipt times from a monotonic clock, which keeps this unit-testable.

Stamps are integer nanoseconds, as in ``builtin_interfaces/Time``: a float of seconds
since 1970 cannot hold a nanosecond stamp exactly, and the label must carry the stamp
of its window's last frame unchanged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

NS_PER_S = 1_000_000_000

# Rounding slack when comparing a span of stamps with a whole number of model frames:
# 29 tracker frames at 30 Hz, stamped in integer ns, fall a few ns short of 29/30 s.
# A window may therefore start up to this fraction of a model frame before the
# oldest raw frame (that frame's position is held).
_SLACK_FRAMES = 0.25

DUPLICATE_STAMP = "duplicate_stamp"
OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True)
class Window:
    """One person's joints over one window, at the model frame rate."""

    person_id: int
    stamp_ns: int  # stamp of the newest raw frame (the window's last frame)
    frame_id: str
    joints: np.ndarray  # (window_length, V, 3) float32


@dataclass
class _Track:
    stamps: deque[int] = field(default_factory=deque)
    joints: deque[np.ndarray] = field(default_factory=deque)
    last_received: float = 0.0
    frame_id: str = ""
    next_due_ns: int | None = None  # newest stamp at which the next window is due


def interpolate(stamps_ns: np.ndarray, values: np.ndarray, times_ns: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (n, ...) sampled at increasing ``stamps_ns``.

    Times outside the sampled range take the nearest end value. Arithmetic runs on
    offsets from the first stamp so that float64 keeps nanosecond resolution.
    """
    if len(stamps_ns) == 1:
        return np.repeat(values[:1], len(times_ns), axis=0)
    base = stamps_ns[0]
    t = (stamps_ns - base).astype(np.float64)
    q = (times_ns - base).astype(np.float64)
    upper = np.clip(np.searchsorted(t, q, side="right"), 1, len(t) - 1)
    lower = upper - 1
    span = t[upper] - t[lower]
    weight = np.clip((q - t[lower]) / span, 0.0, 1.0)
    weight = weight.reshape((-1,) + (1,) * (values.ndim - 1))
    return (1.0 - weight) * values[lower] + weight * values[upper]


class PersonBuffers:
    """Ring buffers of raw frames keyed by tracker person id.

    ``window_length`` and ``stride`` count frames at ``frame_rate`` (the model's rate).
    A person's first window is due once their frames cover one window span; the next
    one ``stride`` model frames later, measured on their stamps. When a person's
    windows fall behind (slow inference), only the newest window is cut: labels stay
    current instead of queueing up. A track that ends (timeout, or a stamp gap that
    starts a fresh one) with a window due but not yet cut still hands that window to
    the next ``ready_windows``: under load a short action must not lose its only label
    because the inference came late.
    """

    def __init__(
        self, window_length: int, stride: int, frame_rate: float, person_timeout: float
    ) -> None:
        if window_length < 1 or stride < 1:
            raise ValueError(
                f"window_length and stride must be >= 1, got {window_length}, {stride}"
            )
        if frame_rate <= 0.0:
            raise ValueError(f"frame_rate must be > 0, got {frame_rate}")
        self.window_length = window_length
        self.stride = stride
        self.frame_rate = frame_rate
        self.person_timeout = person_timeout
        self._period_ns = NS_PER_S / frame_rate
        self._span_ns = round((window_length - 1) * self._period_ns)
        self._slack_ns = round(_SLACK_FRAMES * self._period_ns)
        self._tracks: dict[int, _Track] = {}
        self._ended: list[Window] = []  # due windows of tracks that ended before cut

    @property
    def persons(self) -> list[int]:
        """Ids of the persons currently buffered."""
        return sorted(self._tracks)

    def push(
        self,
        person_id: int,
        stamp_ns: int,
        joints: np.ndarray,
        received: float,
        frame_id: str = "",
    ) -> str | None:
        """Add one frame; returns ``None`` when kept, else the reason it was dropped.

        ``received`` is the receipt time on a monotonic clock (seconds), used for the
        person timeout; ``stamp_ns`` is the capture stamp, used for timing the window.
        A person whose stamps jump forward by more than ``person_timeout`` starts a
        fresh track: interpolating across such a gap would invent motion.
        """
        track = self._tracks.get(person_id)
        if track is not None and track.stamps:
            last = track.stamps[-1]
            if stamp_ns == last:
                return DUPLICATE_STAMP
            if stamp_ns < last:
                return OUT_OF_ORDER
            if track.joints[-1].shape != joints.shape:
                raise ValueError(
                    f"person {person_id}: joints shape {joints.shape} differs from "
                    f"the buffered {track.joints[-1].shape}"
                )
            if (stamp_ns - last) > self.person_timeout * NS_PER_S:
                self._keep_due_window(person_id, track)
                track = None
        if track is None:
            track = self._tracks[person_id] = _Track()
        track.stamps.append(stamp_ns)
        track.joints.append(np.asarray(joints, dtype=np.float32))
        track.last_received = received
        track.frame_id = frame_id
        self._trim(track)
        return None

    def _trim(self, track: _Track) -> None:
        """Forget frames no future window can reach: the next window ends at or after
        the newest stamp, so it starts no earlier than newest - span; one frame at or
        before that start is kept to interpolate from."""
        oldest_needed = track.stamps[-1] - self._span_ns - self._slack_ns
        while len(track.stamps) > 1 and track.stamps[1] <= oldest_needed:
            track.stamps.popleft()
            track.joints.popleft()

    def expire(self, now: float) -> list[int]:
        """Drop the persons not heard from for ``person_timeout`` s; returns their ids."""
        gone = [
            pid for pid, t in self._tracks.items() if now - t.last_received > self.person_timeout
        ]
        for pid in gone:
            self._keep_due_window(pid, self._tracks.pop(pid))
        return gone

    def _due(self, track: _Track) -> bool:
        newest = track.stamps[-1]
        covered = newest - track.stamps[0] + self._slack_ns >= self._span_ns
        due = track.next_due_ns is None or newest + self._slack_ns >= track.next_due_ns
        return covered and due

    def _keep_due_window(self, person_id: int, track: _Track) -> None:
        if self._due(track):
            self._ended.append(self._cut(person_id, track))

    def any_due(self) -> bool:
        """Whether ``ready_windows`` would cut a window now (without expiring anyone):
        the cheap check the node makes after every message to wake its inference."""
        return bool(self._ended) or any(self._due(t) for t in self._tracks.values())

    def ready_windows(self, now: float) -> list[Window]:
        """Expire silent persons, then cut every window that is due (one per person)."""
        self.expire(now)
        windows, self._ended = self._ended, []
        for person_id, track in sorted(self._tracks.items()):
            if self._due(track):
                windows.append(self._cut(person_id, track))
                track.next_due_ns = track.stamps[-1] + round(self.stride * self._period_ns)
        return windows

    def _cut(self, person_id: int, track: _Track) -> Window:
        newest = track.stamps[-1]
        offsets = np.arange(self.window_length - 1, -1, -1, dtype=np.float64) * self._period_ns
        times = newest - np.round(offsets).astype(np.int64)
        stamps = np.fromiter(track.stamps, dtype=np.int64, count=len(track.stamps))
        joints = interpolate(stamps, np.stack(track.joints), times).astype(np.float32)
        return Window(person_id, newest, track.frame_id, joints)

    def clear(self) -> None:
        self._tracks.clear()
        self._ended.clear()
