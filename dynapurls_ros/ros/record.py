"""``dynapurls record`` (live topics) and ``dynapurls import-bag`` (rosbag2 recordings):
skeleton messages of any input type the node takes -> a ``.npy`` + ``labels.csv`` folder
(``recording``), for ``dynapurls train`` / ``evaluate --npy-folder DIR`` (layout ntu25).

Labels come from a segments CSV (``start,end,label[,person]``, seconds from the first
frame) or, live, are typed while recording: a line with a label starts a segment at the
newest frame, an empty line ends it (so does the next label, or the end).

    dynapurls record --topic /body_tracking_data --input-type marker_array -o mine/
    dynapurls import-bag session.bag --topic /skeletons --segments cuts.csv -o mine/

Bags are read with the ``rosbags`` library (pure Python, no ROS install needed for the
bag itself); the ``dynapurls_ros`` message types are registered with it from ``msg/``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from dynapurls_ros.paths import share_dir
from dynapurls_ros.ros.inputs import INPUT_TYPES, InputConfig
from dynapurls_ros.ros.recording import Recording, Segment, read_segments, write_npy_folder
from dynapurls_ros.skeleton.layouts import LAYOUTS

MSG_TYPES = {
    "skeleton_array": "dynapurls_ros/msg/SkeletonArray",
    "marker_array": "visualization_msgs/msg/MarkerArray",
    "pose_array": "geometry_msgs/msg/PoseArray",
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", default="/skeletons", help="skeleton topic")
    parser.add_argument("--input-type", choices=INPUT_TYPES, default="skeleton_array")
    parser.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="ntu25",
        help="layout of PoseArray input and of skeletons naming none",
    )
    parser.add_argument("--max-missing-joints", type=int, default=3)
    parser.add_argument("--segments", type=Path, help="CSV of start,end,label[,person]")
    parser.add_argument("--prefix", default="rec", help="file name prefix of the clips")
    parser.add_argument("--output", "-o", type=Path, required=True, help="folder to write")


def _finish(recording: Recording, segments: Sequence[Segment], args: argparse.Namespace) -> int:
    """Write the clips; report what was dropped and skipped. 1 when nothing was usable."""
    clips, skipped = recording.clips(segments)
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    drops = ", ".join(f"{n} {r}" for r, n in sorted(recording.drops.items())) or "none"
    print(
        f"{recording.messages} messages, persons {sorted(recording.frames)}; dropped: {drops}",
        file=sys.stderr,
    )
    if not clips:
        print("no clip to write: no segment held frames", file=sys.stderr)
        return 1
    for path in write_npy_folder(args.output, clips, args.prefix):
        print(path)
    return 0


def _recording(args: argparse.Namespace) -> Recording:
    return Recording(args.input_type, InputConfig(args.layout, args.max_missing_joints))


# --- rosbag2 --------------------------------------------------------------------------------


def typestore():
    """rosbags' ROS 2 types plus this package's messages, read from msg/."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for name in ("Skeleton", "SkeletonArray", "ActionLabel"):
        text = (share_dir() / "msg" / f"{name}.msg").read_text(encoding="utf-8")
        types |= get_types_from_msg(text, f"dynapurls_ros/msg/{name}")
    store.register(types)
    return store


def import_bag(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dynapurls import-bag``."""
    from rosbags.highlevel import AnyReader

    parser = argparse.ArgumentParser(prog="dynapurls import-bag", description=__doc__)
    parser.add_argument("bag", type=Path, help="rosbag2 folder")
    _common(parser)
    args = parser.parse_args(argv)
    if args.segments is None:
        parser.error("--segments is required for a bag (labels cannot be typed afterwards)")
    segments = read_segments(args.segments)
    recording = _recording(args)
    with AnyReader([args.bag], default_typestore=typestore()) as reader:
        connections = [c for c in reader.connections if c.topic == args.topic]
        if not connections:
            topics = sorted({c.topic for c in reader.connections})
            raise ValueError(f"{args.bag}: no topic {args.topic}; it has {', '.join(topics)}")
        wanted = MSG_TYPES[args.input_type]
        if any(c.msgtype != wanted for c in connections):
            raise ValueError(
                f"{args.topic} carries {connections[0].msgtype}, not {wanted} (--input-type)"
            )
        for connection, _, raw in reader.messages(connections=connections):
            recording.add(reader.deserialize(raw, connection.msgtype))
    return _finish(recording, segments, args)


# --- live -----------------------------------------------------------------------------------


class TypedSegments:
    """Segments typed on stdin while recording: a label starts one at the newest frame,
    an empty line (or the next label) ends it."""

    def __init__(self, recording: Recording, lock: threading.Lock) -> None:
        self.segments: list[Segment] = []
        self._open: tuple[float, str] | None = None
        self._recording, self._lock = recording, lock

    def line(self, text: str) -> None:
        with self._lock:
            now = self._recording.newest_s()
        self.close(now)
        if text.strip():
            self._open = (now, text.strip())
            print(f"recording '{text.strip()}' from {now:.2f} s", file=sys.stderr)

    def close(self, now: float) -> None:
        if self._open is not None and now > self._open[0]:
            self.segments.append(Segment(self._open[0], now, self._open[1]))
        self._open = None


def record(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dynapurls record``: until Ctrl-C, ``--duration`` or end of stdin
    (typed labels)."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.utilities import remove_ros_args

    parser = argparse.ArgumentParser(prog="dynapurls record", description=__doc__)
    _common(parser)
    parser.add_argument("--duration", type=float, default=0.0, help="seconds (0: until Ctrl-C)")
    command_line = list(sys.argv) if argv is None else ["record", *argv]
    args = parser.parse_args(remove_ros_args(command_line)[1:])
    segments = read_segments(args.segments) if args.segments else None
    recording = _recording(args)
    lock = threading.Lock()
    typed = TypedSegments(recording, lock)

    def on_message(msg) -> None:
        with lock:
            recording.add(msg)

    rclpy.init(args=command_line)
    node = rclpy.create_node("skeleton_recorder")
    node.create_subscription(
        recording.message_type, args.topic, on_message, qos_profile_sensor_data
    )
    stdin_done = threading.Event()
    if segments is None:

        def read_labels() -> None:
            for text in sys.stdin:
                typed.line(text)
            stdin_done.set()

        threading.Thread(target=read_labels, daemon=True).start()
        print("type a label and Enter to start a segment, Enter to end it", file=sys.stderr)
    deadline = node.get_clock().now().nanoseconds + int(args.duration * 1e9)
    try:
        while rclpy.ok() and not stdin_done.is_set():
            rclpy.spin_once(node, timeout_sec=0.05)
            if args.duration and node.get_clock().now().nanoseconds >= deadline:
                break
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    if segments is None:
        typed.close(recording.newest_s())
        segments = typed.segments
    return _finish(recording, segments, args)
