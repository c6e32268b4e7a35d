"""What a robot gets from the node on continuous streams: stable labels, "unknown"
when nobody does a vocabulary action, segments, and how fast labels follow a change.

Each run starts the real node (its own process, as ``ros2 run`` does) and replays, at
30 Hz, several persons at once, each a continuous stream stitched from real clips:
an action of the vocabulary, another one, then either standing idle or an action
outside the vocabulary, and again. Every piece lasts at least ``MIN_PIECE_S`` (a clip
shorter than that is played again, as a person repeating the action); each clip is
moved so that it starts where the previous one ended. "Idle" is the first frame of a
real clip held still with 5 mm of tracking jitter.

Two settings of the issue:

- ``known``: the default model on classes it was trained on, with recordings it never
  fitted (the checkpoint's held-out clips); one round per training dataset, each with
  ``--vocabulary-size`` of its classes as the vocabulary and the others as actions
  outside it;
- ``zero-shot``: a zero-shot checkpoint (``--zero-shot CHECKPOINT``, e.g. from
  ``benchmarks.zero_shot`` and ``dynapurls calibrate``) on its unseen classes.

Figures (from the node's ``/action_labels`` and ``/action_segments``): window accuracy
(the window's own best label on windows wholly inside a vocabulary piece, before any
rejection or smoothing: what the rest is bounded by); frame accuracy
(the label in force at each frame against the piece it falls in, "unknown" for idle and
outside actions); segment F1 at 50 % overlap (vocabulary pieces against the node's
segments, "unknown" segments left out); flicker (label changes per minute within one
piece, after the first ``SETTLE_S``); switch time after a change of piece (until the
piece's own label is published); rejection AUROC of the windows' ``known_score``
(windows wholly inside one piece); the share of outside/idle time labelled unknown and
the share of correctly labelled vocabulary windows that rejection turned to unknown.

    python -m benchmarks.stream --rounds known
    python -m benchmarks.stream --rounds zero-shot \
        --zero-shot runs/zero_shot/default/utd_mhad_14-13_s0.pt
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.node_latency import DEFAULT_CHECKPOINT, NodeProcess, child_env
from dynapurls_ros.ros.domains import lease_domain_id

UNKNOWN = "unknown"
RATE_HZ = 30.0
NS_PER_S = 1_000_000_000
MIN_PIECE_S = 3.0
IDLE_JITTER_M = 0.005
SETTLE_S = 1.5
BASE_STAMP_NS = 1_700_000_000 * NS_PER_S


@dataclass(frozen=True)
class Piece:
    """One stretch of a person's stream: ``kind`` vocab, outside or idle; ``label`` the
    class (``unknown`` unless vocab); frames ``[start, end)`` of the stream."""

    kind: str
    label: str
    start: int
    end: int


@dataclass
class PersonStream:
    person_id: int
    frames: np.ndarray  # (n, 25, 3) canonical joints at RATE_HZ
    pieces: list[Piece]


def _aligned(clip: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """``clip`` moved so that its first spine base sits on ``previous``'s last."""
    if previous is None:
        return clip
    return clip + (previous[-1, 0] - clip[0, 0])


def _looped(clip: np.ndarray, min_frames: int) -> np.ndarray:
    repeats = int(np.ceil(min_frames / len(clip)))
    return np.concatenate([clip] * repeats)


def build_stream(
    person_id: int,
    cycles: int,
    vocab_clips: dict[str, list[np.ndarray]],
    outside_clips: list[np.ndarray],
    rng: np.random.Generator,
) -> PersonStream:
    """``cycles`` times: two different vocabulary actions, then idle or an outside
    action (alternating, starting at random)."""
    min_frames = int(MIN_PIECE_S * RATE_HZ)
    labels = sorted(vocab_clips)
    parts: list[np.ndarray] = []
    pieces: list[Piece] = []
    previous = None
    idle_first = bool(rng.integers(2))
    for cycle in range(cycles):
        first, second = rng.choice(len(labels), 2, replace=False)
        plan = [("vocab", labels[first]), ("vocab", labels[second])]
        plan.append(("idle" if (cycle % 2 == 0) == idle_first else "outside", UNKNOWN))
        for kind, label in plan:
            if kind == "vocab":
                options = vocab_clips[label]
                clip = _looped(options[rng.integers(len(options))], min_frames)
            elif kind == "outside":
                clip = _looped(outside_clips[rng.integers(len(outside_clips))], min_frames)
            else:
                pose = outside_clips[rng.integers(len(outside_clips))][0]
                jitter = rng.normal(0.0, IDLE_JITTER_M, (min_frames, *pose.shape))
                clip = (pose[None] + jitter).astype(np.float32)
            clip = _aligned(clip, previous)
            start = sum(len(p) for p in parts)
            pieces.append(Piece(kind, label, start, start + len(clip)))
            parts.append(clip)
            previous = clip
    return PersonStream(person_id, np.concatenate(parts).astype(np.float32), pieces)


# --- metrics (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRecord:
    person_id: int
    frame: int  # stream frame of the window's last skeleton
    label: str
    window_label: str
    known_score: float


@dataclass(frozen=True)
class SegmentRecord:
    person_id: int
    label: str
    start: int
    end: int


def labels_in_force(records: Sequence[LabelRecord], length: int) -> list[str | None]:
    """Per frame, the newest label published at or before it (None before the first)."""
    force: list[str | None] = [None] * length
    ordered = sorted(records, key=lambda r: r.frame)
    current, k = None, 0
    for frame in range(length):
        while k < len(ordered) and ordered[k].frame <= frame:
            current = ordered[k].label
            k += 1
        force[frame] = current
    return force


def truth(stream: PersonStream) -> list[str]:
    out = [UNKNOWN] * len(stream.frames)
    for piece in stream.pieces:
        out[piece.start : piece.end] = [piece.label] * (piece.end - piece.start)
    return out


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    pos, neg = np.asarray(positives, float), np.asarray(negatives, float)
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def segment_f1(
    predicted: Sequence[SegmentRecord], expected: Sequence[SegmentRecord], overlap: float = 0.5
) -> float:
    """F1 of labelled segments matched one to one at IoU >= ``overlap``."""
    used: set[int] = set()
    hits = 0
    for p in predicted:
        for i, e in enumerate(expected):
            if i in used or (e.person_id, e.label) != (p.person_id, p.label):
                continue
            inter = min(p.end, e.end) - max(p.start, e.start)
            union = max(p.end, e.end) - min(p.start, e.start)
            if union > 0 and inter / union >= overlap:
                used.add(i)
                hits += 1
                break
    if not predicted or not expected:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(expected)
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)


def score(
    streams: Sequence[PersonStream],
    labels: Sequence[LabelRecord],
    segments: Sequence[SegmentRecord],
    window_frames: int,
) -> dict[str, float]:
    """All figures of one or more rounds (see the module docstring)."""
    settle = int(SETTLE_S * RATE_HZ)
    correct = total = outside_frames = outside_unknown = vocab_frames = vocab_unknown = 0
    changes, settled_frames = 0, 0
    switches: list[float] = []
    never = 0
    positives, negatives = [], []
    kept, lost, vocab_windows = 0, 0, 0
    for stream in streams:
        mine = [r for r in labels if r.person_id == stream.person_id]
        force = labels_in_force(mine, len(stream.frames))
        expected = truth(stream)
        for got, want in zip(force, expected, strict=True):
            if got is None:
                continue
            total += 1
            correct += got == want
            if want == UNKNOWN:
                outside_frames += 1
                outside_unknown += got == UNKNOWN
            else:
                vocab_frames += 1
                vocab_unknown += got == UNKNOWN
        for index, piece in enumerate(stream.pieces):
            span = force[piece.start : piece.end]
            tail = span[settle:]
            settled_frames += len(tail)
            changes += sum(a != b for a, b in zip(tail, tail[1:], strict=False) if a is not None)
            if index:
                reached = [i for i, got in enumerate(span) if got == piece.label]
                if reached:
                    switches.append(reached[0] / RATE_HZ)
                else:
                    never += 1
        for record in mine:
            piece = next((p for p in stream.pieces if p.start <= record.frame < p.end), None)
            if piece is None or record.frame - window_frames + 1 < piece.start:
                continue  # the window straddles two pieces
            if piece.kind == "vocab":
                vocab_windows += 1
                positives.append(record.known_score)
                if record.window_label == piece.label:
                    kept += record.known_score >= 0
                    lost += record.known_score < 0
            else:
                negatives.append(record.known_score)
    expected_segments = [
        SegmentRecord(s.person_id, p.label, p.start, p.end)
        for s in streams
        for p in s.pieces
        if p.kind == "vocab"
    ]
    predicted = [s for s in segments if s.label != UNKNOWN]
    return {
        "window_accuracy": 100.0 * (kept + lost) / max(1, vocab_windows),
        "frame_accuracy": 100.0 * correct / max(1, total),
        "segment_f1": 100.0 * segment_f1(predicted, expected_segments),
        "flicker_per_min": changes / max(1e-9, settled_frames / RATE_HZ / 60.0),
        "switch_median_s": statistics.median(switches) if switches else float("nan"),
        "switch_p90_s": float(np.percentile(switches, 90)) if switches else float("nan"),
        "switch_never": 100.0 * never / max(1, never + len(switches)),
        "auroc": auroc(positives, negatives),
        "outside_unknown": 100.0 * outside_unknown / max(1, outside_frames),
        "vocab_unknown": 100.0 * vocab_unknown / max(1, vocab_frames),
        "correct_lost": 100.0 * lost / max(1, kept + lost),
    }


# --- data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    name: str
    checkpoint: Path
    vocabulary: list[str]
    vocab_clips: dict[str, list[np.ndarray]]
    outside_clips: list[np.ndarray]


def _clips_by_class(checkpoint: Path, heldout_only: bool, classes: Sequence[str] | None):
    from dynapurls_ros.checkpoint import load_checkpoint
    from dynapurls_ros.training.data import load_clips

    _, info = load_checkpoint(checkpoint)
    clipset, origin = load_clips(info.datasets, info.frame_rate)
    heldout = set(info.heldout)
    by_class: dict[str, list[np.ndarray]] = {}
    group: dict[str, str] = dict(zip(clipset.class_names, origin, strict=True))
    for clip, y, name in zip(clipset.clips, clipset.labels, clipset.names, strict=True):
        label = clipset.class_names[int(y)]
        if heldout_only and name not in heldout:
            continue
        if classes is not None and label not in classes:
            continue
        by_class.setdefault(label, []).append(clip)
    return info, by_class, group


def known_rounds(checkpoint: Path, size: int, rng: np.random.Generator) -> list[Round]:
    """One round per training dataset of the checkpoint, on its held-out clips."""
    info, by_class, group = _clips_by_class(checkpoint, True, None)
    rounds = []
    for dataset in info.datasets:
        names = sorted(c for c in by_class if group[c] == dataset)
        chosen = sorted(rng.choice(names, min(size, len(names) - 1), replace=False).tolist())
        outside = [clip for c in names if c not in chosen for clip in by_class[c]]
        vocab = {c: by_class[c] for c in chosen}
        rounds.append(Round(f"known/{dataset}", checkpoint, chosen, vocab, outside))
    return rounds


def zero_shot_rounds(checkpoint: Path, size: int, count: int, rng: np.random.Generator):
    """``count`` rounds on the unseen classes of a zero-shot checkpoint."""
    from dynapurls_ros.checkpoint import load_checkpoint

    _, info = load_checkpoint(checkpoint)
    info, by_class, _ = _clips_by_class(checkpoint, False, None)
    unseen = sorted(c for c in by_class if c not in set(info.seen_labels))
    rounds = []
    for k in range(count):
        chosen = sorted(rng.choice(unseen, min(size, len(unseen) - 1), replace=False).tolist())
        outside = [clip for c in unseen if c not in chosen for clip in by_class[c]]
        vocab = {c: by_class[c] for c in chosen}
        rounds.append(Round(f"zero-shot/{k}", checkpoint, chosen, vocab, outside))
    return rounds


# --- the ROS side -----------------------------------------------------------------------


class Listener:
    """Publishes the streams at 30 Hz and records labels and segments (own context)."""

    def __init__(self, domain_id: int) -> None:
        import rclpy
        from dynapurls_ros.msg import ActionLabel, ActionSegment, SkeletonArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
        from std_msgs.msg import String

        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(f"stream_bench_{os.getpid()}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.publisher = self.node.create_publisher(
            SkeletonArray, "/skeletons", qos_profile_sensor_data
        )
        self.node.create_subscription(ActionLabel, "/action_labels", self._on_label, 1000)
        self.node.create_subscription(ActionSegment, "/action_segments", self._on_segment, 1000)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(
            String, "/action_recognizer/vocabulary", self._on_vocabulary, latched
        )
        self.vocabulary: list[str] | None = None
        self.labels: list[LabelRecord] = []
        self.segments: list[SegmentRecord] = []
        self.done = threading.Event()

    @staticmethod
    def _frame(stamp: Any) -> int:
        ns = stamp.sec * NS_PER_S + stamp.nanosec - BASE_STAMP_NS
        return int(round(ns * RATE_HZ / NS_PER_S))

    def _on_label(self, msg: Any) -> None:
        self.labels.append(
            LabelRecord(
                msg.person_id,
                self._frame(msg.header.stamp),
                msg.label,
                msg.window_label,
                float(msg.known_score),
            )
        )

    def _on_segment(self, msg: Any) -> None:
        self.segments.append(
            SegmentRecord(msg.person_id, msg.label, self._frame(msg.start), self._frame(msg.end))
        )

    def _on_vocabulary(self, msg: Any) -> None:
        self.vocabulary = json.loads(msg.data)["labels"]

    def spin_for(self, seconds: float, until: Any = lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            self.executor.spin_once(timeout_sec=0.05)

    def publish(self, streams: Sequence[PersonStream]) -> None:
        from dynapurls_ros.ros.replay import skeleton_array_msg

        length = min(len(s.frames) for s in streams)
        period = 1.0 / RATE_HZ
        start = time.monotonic()
        for k in range(length):
            people = [(s.person_id, s.frames[k]) for s in streams]
            stamp = BASE_STAMP_NS + int(round(k * NS_PER_S / RATE_HZ))
            time.sleep(max(0.0, start + k * period - time.monotonic()))
            self.publisher.publish(skeleton_array_msg(people, "ntu25", stamp, "camera"))
        self.done.set()

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def _streams(round_: Round, people: int, cycles: int, seed: int) -> list[PersonStream]:
    """The round's persons, cut to one length (everyone leaves at the same frame)."""
    rng = np.random.default_rng(seed)
    streams = [
        build_stream(p + 1, cycles, round_.vocab_clips, round_.outside_clips, rng)
        for p in range(people)
    ]
    length = min(len(s.frames) for s in streams)
    for s in streams:
        s.frames = s.frames[:length]
        s.pieces = [
            Piece(p.kind, p.label, p.start, min(p.end, length))
            for p in s.pieces
            if p.start < length
        ]
    return streams


def run_round(round_: Round, people: int, cycles: int, seed: int, work: Path) -> dict[str, Any]:
    streams = _streams(round_, people, cycles, seed)
    length = len(streams[0].frames)
    lease = lease_domain_id()
    env = child_env(lease.id, work / "ros_log")
    parameters = {"checkpoint": str(round_.checkpoint), "vocabulary": json.dumps(round_.vocabulary)}
    with ExitStack() as cleanup:
        cleanup.callback(lease.release)
        node = NodeProcess(parameters, env, work / f"node-{round_.name.replace('/', '-')}.log")
        cleanup.callback(node.stop)
        listener = Listener(lease.id)
        cleanup.callback(listener.close)
        listener.spin_for(
            120.0,
            until=lambda: (
                listener.vocabulary is not None
                and listener.publisher.get_subscription_count() > 0
                or not node.running()
            ),
        )
        if listener.vocabulary is None:
            raise SystemExit(f"{round_.name}: node not ready:\n{node.log_tail()}")
        listener.spin_for(1.0)
        thread = threading.Thread(target=listener.publish, args=(streams,))
        thread.start()
        while not listener.done.is_set():
            listener.spin_for(0.2)
        thread.join()
        listener.spin_for(3.0)  # the last windows, then the persons' timeout segments
        from dynapurls_ros.checkpoint import load_checkpoint

        window = load_checkpoint(round_.checkpoint)[1].window_length
        figures = score(streams, listener.labels, listener.segments, window)
    figures["seconds"] = length / RATE_HZ
    figures["labels"] = len(listener.labels)
    return figures


def run_offline(
    round_: Round, people: int, cycles: int, seed: int, configs: Sequence[Any]
) -> list[dict[str, Any]]:
    """The node's decision path without ROS (same recognizer, same ``PersonLabeler``),
    windows cut every stride frames as the node cuts them from a 30 Hz stream; one
    result per (rejection level, output config)."""
    from dynapurls_ros.output.labeler import PersonLabeler
    from dynapurls_ros.recognizer import Recognizer

    streams = _streams(round_, people, cycles, seed)
    recognizer = Recognizer.from_checkpoint(round_.checkpoint)
    recognizer.set_vocabulary(round_.vocabulary)
    window = recognizer.window_length
    stride = max(1, window // 4)
    cuts = [(s, end) for s in streams for end in range(window - 1, len(s.frames), stride)]
    windows = np.stack([s.frames[end - window + 1 : end + 1] for s, end in cuts])
    by_level: dict[float, list[Any]] = {}
    results = []
    for level, config in configs:
        if level not in by_level:
            recognizer.rejection_level = level
            by_level[level] = [
                p
                for i in range(0, len(windows), 64)
                for p in recognizer.predict(windows[i : i + 64])
            ]
        predictions = by_level[level]
        labelers = {s.person_id: PersonLabeler(s.person_id) for s in streams}
        labels, segments = [], []
        for (s, end), prediction in zip(cuts, predictions, strict=True):
            stamp = int(round(end * NS_PER_S / RATE_HZ))
            out = labelers[s.person_id].update(stamp, prediction, config)
            labels.append(
                LabelRecord(s.person_id, end, out.label, prediction.label, out.known_score)
            )
            if out.closed is not None:
                segments.append(_segment_record(out.closed))
        for labeler in labelers.values():
            closed = labeler.close()
            if closed is not None:
                segments.append(_segment_record(closed))
        figures = score(streams, labels, segments, window)
        figures["seconds"] = len(streams[0].frames) / RATE_HZ
        figures["labels"] = len(labels)
        results.append(figures)
    return results


def _segment_record(segment: Any) -> SegmentRecord:
    to_frame = RATE_HZ / NS_PER_S
    return SegmentRecord(
        segment.person_id,
        segment.label,
        int(round(segment.start_ns * to_frame)),
        int(round(segment.end_ns * to_frame)),
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", nargs="+", default=["known"], choices=["known", "zero-shot"])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--zero-shot", type=Path, help="zero-shot checkpoint (calibrated)")
    parser.add_argument("--zero-shot-rounds", type=int, default=2)
    parser.add_argument("--vocabulary-size", type=int, default=5)
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--offline",
        action="store_true",
        help="the node's decision path without ROS (fast; for comparing output settings)",
    )
    parser.add_argument("--smoothing-window", type=float, nargs="+", help="offline: seconds")
    parser.add_argument("--hysteresis", type=float, nargs="+", help="offline: values")
    parser.add_argument("--rejection-level", type=float, nargs="+", help="offline: values")
    return parser.parse_args(argv)


FIGURES = (  # key, column title
    ("window_accuracy", "window acc %"),
    ("frame_accuracy", "frame acc %"),
    ("segment_f1", "seg F1@50 %"),
    ("flicker_per_min", "flicker/min"),
    ("switch_median_s", "switch p50 s"),
    ("switch_p90_s", "switch p90 s"),
    ("switch_never", "unswitched %"),
    ("auroc", "AUROC"),
    ("outside_unknown", "out->unk %"),
    ("vocab_unknown", "voc->unk %"),
    ("correct_lost", "lost %"),
)


def print_offline(args: argparse.Namespace, rounds: Sequence[Round]) -> None:
    """Every combination of the given output settings (defaults: the node's), figures
    averaged over the rounds."""
    from itertools import product

    from dynapurls_ros.output.labeler import OutputConfig
    from dynapurls_ros.output.smoothing import SmoothingConfig
    from dynapurls_ros.ros.params import SPEC_BY_NAME

    def given(values: list[float] | None, name: str) -> list[float]:
        return values or [float(SPEC_BY_NAME[name].default)]

    grid = list(
        product(
            given(args.smoothing_window, "smoothing_window"),
            given(args.hysteresis, "smoothing_hysteresis"),
            given(args.rejection_level, "rejection_level"),
        )
    )
    configs = [
        (level, OutputConfig(UNKNOWN, True, SmoothingConfig(window, hysteresis)))
        for window, hysteresis, level in grid
    ]
    per_round = [
        run_offline(r, args.people, args.cycles, args.seed + k, configs)
        for k, r in enumerate(rounds)
    ]
    print(f"rounds: {', '.join(r.name for r in rounds)} (mean over rounds)")
    print(f"{'window s':>9s}{'hyst':>6s}{'level':>6s}" + "".join(f"{t:>13s}" for _, t in FIGURES))
    for c, (window, hysteresis, level) in enumerate(grid):
        means = [statistics.fmean(results[c][key] for results in per_round) for key, _ in FIGURES]
        print(f"{window:9.2f}{hysteresis:6.2f}{level:6.2f}" + "".join(f"{m:13.2f}" for m in means))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rounds: list[Round] = []
    if "known" in args.rounds:
        rounds += known_rounds(args.checkpoint, args.vocabulary_size, rng)
    if "zero-shot" in args.rounds:
        if args.zero_shot is None:
            raise SystemExit("--rounds zero-shot needs --zero-shot CHECKPOINT")
        rounds += zero_shot_rounds(args.zero_shot, args.vocabulary_size, args.zero_shot_rounds, rng)
    print(f"seed {args.seed}, {args.people} persons at {RATE_HZ:g} Hz, {args.cycles} cycles each")
    if args.offline:
        return print_offline(args, rounds)
    results = []
    with tempfile.TemporaryDirectory(prefix="dynapurls-stream-") as tmp:
        for k, round_ in enumerate(rounds):
            figures = run_round(round_, args.people, args.cycles, args.seed + k, Path(tmp))
            results.append(figures)
            print(
                f"{round_.name}: vocabulary {', '.join(round_.vocabulary)}; "
                f"{figures['seconds']:.0f} s of stream, {figures['labels']} labels",
                flush=True,
            )
    print(f"{'':20s}" + "".join(f"{r.name:>18s}" for r in rounds))
    for key, title in FIGURES:
        print(f"{title:20s}" + "".join(f"{f[key]:18.2f}" for f in results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
