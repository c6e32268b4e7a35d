"""Users' own data: tracker messages (live or from a rosbag2) -> a ``.npy`` + ``labels.csv``
folder that ``dynapurls train`` / ``evaluate --npy-folder`` read.

Messages go through the node's own input adapters (``inputs``), so a recording holds
exactly what the node would see: canonical ``ntu25`` joints, bad skeletons dropped and
counted by reason. Each person's frames are kept with their capture stamps; a labelled
segment (start and end in seconds from the first frame, a label, optionally a person)
becomes one clip per person seen in it, resampled to 30 Hz at its stamps (trackers do
not publish evenly), written as ``<prefix><n>.npy`` with a row in ``labels.csv``.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dynapurls_ros.ros.buffers import NS_PER_S, interpolate
from dynapurls_ros.ros.inputs import InputConfig, input_adapter

CLIP_FPS = 30.0
MIN_FRAMES = 2  # a segment with fewer frames of a person gives no clip


@dataclass(frozen=True)
class Segment:
    """A labelled span, in seconds from the recording's first frame."""

    start_s: float
    end_s: float
    label: str
    person_id: int | None = None  # None: every person seen in the span


def read_segments(path: Path) -> list[Segment]:
    """Segments from a CSV with columns ``start,end,label`` and optionally ``person``
    (seconds from the first frame); ValueError naming the line of a bad row."""
    segments = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        missing = {"start", "end", "label"} - set(rows.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(rows, start=2):
            try:
                person = (row.get("person") or "").strip()
                segment = Segment(
                    float(row["start"]),
                    float(row["end"]),
                    row["label"].strip(),
                    int(person) if person else None,
                )
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}:{line}: {error}") from None
            if not segment.label or segment.end_s <= segment.start_s:
                raise ValueError(f"{path}:{line}: needs a label and end > start")
            segments.append(segment)
    return segments


@dataclass
class Recording:
    """Frames of every person from the messages fed to ``add``, and the drops."""

    input_type: str
    config: InputConfig = field(default_factory=InputConfig)
    frames: dict[int, list[tuple[int, np.ndarray]]] = field(default_factory=dict)
    drops: Counter[str] = field(default_factory=Counter)
    messages: int = 0

    def __post_init__(self) -> None:
        self._adapter = input_adapter(self.input_type)

    @property
    def message_type(self) -> type:
        return self._adapter.message_type

    def add(self, msg: Any) -> None:
        """One tracker message (an rclpy message or a rosbags one: same fields)."""
        self.messages += 1
        adapted = self._adapter.adapt(msg, self.config)
        self.drops.update(drop.reason for drop in adapted.drops)
        for frame in adapted.frames:
            track = self.frames.setdefault(frame.person_id, [])
            if track and frame.stamp_ns <= track[-1][0]:
                self.drops["out_of_order"] += 1
                continue
            track.append((frame.stamp_ns, frame.joints))

    def first_stamp_ns(self) -> int | None:
        stamps = [track[0][0] for track in self.frames.values() if track]
        return min(stamps) if stamps else None

    def newest_s(self) -> float:
        """Seconds from the first frame to the newest one (0 before any)."""
        first = self.first_stamp_ns()
        if first is None:
            return 0.0
        return (max(track[-1][0] for track in self.frames.values()) - first) / NS_PER_S

    def clips(self, segments: Iterable[Segment]) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
        """(label, (T, 25, 3) joints at 30 Hz) per segment and person seen in it, and a
        reason for each segment that gave no clip."""
        first = self.first_stamp_ns() or 0
        clips, skipped = [], []
        for segment in segments:
            lo = first + round(segment.start_s * NS_PER_S)
            hi = first + round(segment.end_s * NS_PER_S)
            persons = [segment.person_id] if segment.person_id is not None else self.frames
            made = [_resampled(self.frames.get(p, []), lo, hi) for p in sorted(persons)]
            made = [joints for joints in made if joints is not None]
            clips += [(segment.label, joints) for joints in made]
            if not made:
                skipped.append(
                    f"segment {segment.start_s:g}-{segment.end_s:g} s ({segment.label}): "
                    f"fewer than {MIN_FRAMES} frames of any person"
                )
        return clips, skipped


def _resampled(track: list[tuple[int, np.ndarray]], lo: int, hi: int) -> np.ndarray | None:
    """The frames of ``track`` stamped in [lo, hi], interpolated at 30 Hz from the first."""
    inside = [(stamp, joints) for stamp, joints in track if lo <= stamp <= hi]
    if len(inside) < MIN_FRAMES:
        return None
    stamps = np.array([stamp for stamp, _ in inside], dtype=np.int64)
    count = round((stamps[-1] - stamps[0]) * CLIP_FPS / NS_PER_S) + 1
    times = stamps[0] + np.round(np.arange(count) * NS_PER_S / CLIP_FPS).astype(np.int64)
    return interpolate(stamps, np.stack([joints for _, joints in inside]), times)


def write_npy_folder(
    folder: Path, clips: Sequence[tuple[str, np.ndarray]], prefix: str = "rec"
) -> list[Path]:
    """Add ``clips`` to ``folder`` as ``.npy`` files and rows of its ``labels.csv``
    (created with a header if absent); existing files are never overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = folder / "labels.csv"
    new_file = not labels.exists()
    written = []
    with labels.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if new_file:
            writer.writerow(["file", "label"])
        number = 0
        for label, joints in clips:
            while (folder / f"{prefix}{number:04d}.npy").exists():
                number += 1
            path = folder / f"{prefix}{number:04d}.npy"
            np.save(path, joints.astype(np.float32))
            writer.writerow([path.name, label])
            written.append(path)
    return written
