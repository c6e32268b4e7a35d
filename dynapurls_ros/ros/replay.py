"""A stand-in body tracker: publish recorded skeleton sequences as live tracking data.

Lets the node be tried, tested and demonstrated without a camera. Sequences come from a
dataset (``datasets.load_dataset``) or from ``.npy`` files and go out as one of the
message types the node accepts, at the recording's frame rate (times ``--rate``). Stamps
advance by the recording's frame period whatever ``--rate`` is, so a sped-up replay
still shows the recognizer motion at its natural speed.

For every sequence it starts, it prints one JSON line to stdout (person id, sequence
name, true label, stamps of its first and last frame) so a test or a demo can compare
the labels the node publishes with the truth.

    python -m dynapurls_ros.ros.replay --dataset nw_ucla --classes "sit down" --count 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import cycle, zip_longest
from pathlib import Path

import numpy as np
from geometry_msgs.msg import Point, Pose, PoseArray
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from dynapurls_ros.msg import Skeleton, SkeletonArray
from dynapurls_ros.ros.inputs import AZURE_ID_STRIDE, AZURE_LAYOUT, INPUT_TYPES
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS, get_layout

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Clip:
    """One recorded sequence of one person."""

    name: str
    label: str
    joints: np.ndarray  # (T, V, 3) metres in ``layout``
    layout: str
    fps: float


def _azure_from_canonical() -> np.ndarray:
    """(32, 25) weights placing Azure Kinect joints from canonical ones.

    The inverse of ``layouts``' Azure -> canonical map wherever that map is one-to-one.
    The two spine joints straddle the canonical spine mid (their mean is exactly it);
    the clavicles sit half-way to the shoulders; the face points collapse on the head.
    """
    canonical = {name: i for i, name in enumerate(NTU25_JOINTS)}
    sources = {
        "pelvis": {"spine_base": 1.0},
        "spine_navel": {"spine_mid": 1.5, "spine_shoulder": -0.5},
        "spine_chest": {"spine_mid": 0.5, "spine_shoulder": 0.5},
        "neck": {"spine_shoulder": 1.0},
        "left_clavicle": {"spine_shoulder": 0.5, "left_shoulder": 0.5},
        "right_clavicle": {"spine_shoulder": 0.5, "right_shoulder": 0.5},
        **{
            face: {"head": 1.0}
            for face in ("nose", "left_eye", "left_ear", "right_eye", "right_ear")
        },
    }
    names = get_layout(AZURE_LAYOUT).joint_names
    matrix = np.zeros((len(names), len(NTU25_JOINTS)), dtype=np.float32)
    for row, name in enumerate(names):
        for joint, weight in sources.get(name, {name: 1.0}).items():
            matrix[row, canonical[joint]] = weight
    return matrix


AZURE_FROM_CANONICAL = _azure_from_canonical()


def to_azure(joints: np.ndarray, layout: str) -> np.ndarray:
    """``(..., V, 3)`` joints in ``layout`` -> ``(..., 32, 3)`` Azure Kinect joints."""
    return AZURE_FROM_CANONICAL @ get_layout(layout).to_canonical(joints)


def _header(stamp_ns: int, frame_id: str) -> Header:
    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = divmod(stamp_ns, NS_PER_S)
    return header


def _points(joints: np.ndarray) -> list[Point]:
    return [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in joints]


def skeleton_array_msg(
    people: Sequence[tuple[int, np.ndarray]], layout: str, stamp_ns: int, frame_id: str
) -> SkeletonArray:
    """One ``SkeletonArray``: each (person id, (V, 3) joints in ``layout``), stamped once
    on the array (the skeletons' zero stamps mean "the array's")."""
    skeletons = [
        Skeleton(person_id=person, layout=layout, joints=_points(joints))
        for person, joints in people
    ]
    return SkeletonArray(header=_header(stamp_ns, frame_id), skeletons=skeletons)


def marker_array_msg(
    people: Sequence[tuple[int, np.ndarray]], stamp_ns: int, frame_id: str
) -> MarkerArray:
    """Markers as the Azure Kinect ROS driver draws them: a sphere per joint of each
    (body id, (32, 3) Azure joints), ``id = body * 100 + joint``, stamped per marker."""
    header = _header(stamp_ns, frame_id)
    markers = []
    for body, joints in people:
        for joint, position in enumerate(joints):
            marker = Marker(header=header, id=body * AZURE_ID_STRIDE + joint, type=Marker.SPHERE)
            marker.pose.position = Point(
                x=float(position[0]), y=float(position[1]), z=float(position[2])
            )
            marker.pose.orientation.w = 1.0
            marker.scale.x = marker.scale.y = marker.scale.z = 0.05
            marker.color.g = marker.color.a = 1.0
            marker.lifetime.nanosec = 250_000_000
            markers.append(marker)
    return MarkerArray(markers=markers)


def pose_array_msg(joints: np.ndarray, stamp_ns: int, frame_id: str) -> PoseArray:
    """One person's (V, 3) joints as a ``PoseArray`` (identity orientations)."""
    poses = [Pose(position=point) for point in _points(joints)]
    for pose in poses:
        pose.orientation.w = 1.0
    return PoseArray(header=_header(stamp_ns, frame_id), poses=poses)


def dataset_clips(
    name: str,
    classes: Sequence[str] = (),
    count: int = 0,
    seed: int = 0,
    root: Path | None = None,
) -> list[Clip]:
    """Sequences of dataset ``name``, optionally only ``classes`` (names or indices),
    shuffled with ``seed``, at most ``count`` of them (0: all)."""
    from dynapurls_ros.datasets import load_dataset

    dataset = load_dataset(name, root=root)
    wanted = {_class_index(c, dataset.class_names) for c in classes}
    samples = [s for s in dataset.samples if not wanted or s.label in wanted]
    if not samples:
        raise SystemExit(f"dataset {name!r} has no sequence of classes {list(classes)}")
    order = np.random.default_rng(seed).permutation(len(samples))
    picked = [samples[i] for i in order[: count or None]]
    return [
        Clip(s.name, dataset.class_names[s.label], s.joints, dataset.layout, s.fps) for s in picked
    ]


def _class_index(value: str, class_names: Sequence[str]) -> int:
    if value.isdigit() and int(value) < len(class_names):
        return int(value)
    folded = [c.casefold() for c in class_names]
    if value.casefold() in folded:
        return folded.index(value.casefold())
    raise SystemExit(f"unknown class {value!r}; classes: {', '.join(class_names)}")


def npy_clips(paths: Sequence[Path], layout: str, fps: float) -> list[Clip]:
    """``(T, V, 3)`` arrays saved with ``np.save``; the label is the file stem."""
    clips = []
    num_joints = get_layout(layout).num_joints
    for path in paths:
        joints = np.load(path, allow_pickle=False)
        if joints.ndim != 3 or joints.shape[1:] != (num_joints, 3):
            raise SystemExit(
                f"{path}: expected an array (T, {num_joints}, 3) for layout {layout}, "
                f"got {joints.shape}"
            )
        clips.append(Clip(path.stem, path.stem, joints.astype(np.float32), layout, fps))
    return clips


Item = tuple[Clip, int] | None  # (clip, frame index) or None while the person is away


def person_timeline(clips: Sequence[Clip], pause: int, loop: bool) -> Iterator[Item]:
    """One person's frames, clip after clip, with ``pause`` absent ticks after each."""
    for clip in cycle(clips) if loop else clips:
        for index in range(len(clip.joints)):
            yield clip, index
        yield from [None] * pause


def ticks(
    queues: dict[int, list[Clip]], pause: int, loop: bool
) -> Iterator[list[tuple[int, Clip, int]]]:
    """Per tick, the (person id, clip, frame index) of every person in view; ends when
    every person has played their clips (never, with ``loop``)."""
    persons = list(queues)
    timelines = [person_timeline(queues[p], pause, loop) for p in persons]
    for items in zip_longest(*timelines):
        yield [(p, *item) for p, item in zip(persons, items, strict=True) if item is not None]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="replay", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="dataset name (nw_ucla, gtu3d, ntu60, ...)")
    source.add_argument("--npy", nargs="+", type=Path, help=".npy files of shape (T, V, 3)")
    parser.add_argument("--root", type=Path, help="dataset folder (default: under data_root())")
    parser.add_argument("--classes", nargs="+", default=[], help="class names or indices")
    parser.add_argument("--count", type=int, default=0, help="sequences to play (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed")
    parser.add_argument("--layout", default="ntu25", help="layout of --npy files")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of --npy files")
    parser.add_argument("--input-type", choices=INPUT_TYPES, default="skeleton_array")
    parser.add_argument("--topic", help="default: /skeletons, or /body_tracking_data")
    parser.add_argument("--frame-id", default="camera")
    parser.add_argument(
        "--person-ids",
        nargs="+",
        type=int,
        help="tracker ids of the persons playing at once (default: 1; PoseArray: 0)",
    )
    parser.add_argument("--rate", type=float, default=1.0, help="speed multiplier")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between sequences")
    parser.add_argument("--loop", action="store_true", help="replay forever")
    parser.add_argument(
        "--wait", type=float, default=10.0, help="seconds to wait for a subscriber first"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.fps <= 0 or args.pause < 0:
        parser.error("--rate and --fps must be > 0, --pause >= 0")
    if args.input_type == "pose_array":
        if args.person_ids not in (None, [0]):
            parser.error("a PoseArray carries one person without an id (the node calls it 0)")
        args.person_ids = [0]
    args.person_ids = args.person_ids or [1]
    if args.topic is None:
        marker = args.input_type == "marker_array"
        args.topic = "/body_tracking_data" if marker else "/skeletons"
    return args


def _message(input_type: str, people: list[tuple[int, Clip, int]], stamp: int, frame_id: str):
    """The message of one tick, or None when a PoseArray has nobody to carry."""
    if input_type == "skeleton_array":
        layouts = {clip.layout for _, clip, _ in people} or {"ntu25"}
        if len(layouts) > 1:
            raise SystemExit(f"clips of one tick mix layouts {sorted(layouts)}")
        return skeleton_array_msg(
            [(p, clip.joints[i]) for p, clip, i in people], layouts.pop(), stamp, frame_id
        )
    if input_type == "marker_array":
        azure = [(p, to_azure(clip.joints[i], clip.layout)) for p, clip, i in people]
        return marker_array_msg(azure, stamp, frame_id)
    if not people:
        return None
    _, clip, index = people[0]
    return pose_array_msg(clip.joints[index], stamp, frame_id)


def _announce(person: int, clip: Clip, stamp: int, period_ns: float) -> None:
    last = stamp + round((len(clip.joints) - 1) * period_ns)
    line = {
        "person_id": person,
        "sequence": clip.name,
        "label": clip.label,
        "frames": len(clip.joints),
        "layout": clip.layout,
        "first_stamp_ns": stamp,
        "last_stamp_ns": last,
    }
    print(json.dumps(line), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``replay`` (``ros2 run``), ``dynapurls replay`` and ``-m``."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.utilities import remove_ros_args

    command_line = list(sys.argv) if argv is None else ["replay", *argv]
    args = _parse(remove_ros_args(command_line)[1:])
    if args.dataset:
        clips = dataset_clips(args.dataset, args.classes, args.count, args.seed, args.root)
    else:
        clips = npy_clips(args.npy, args.layout, args.fps)
    fps = clips[0].fps
    queues = {p: clips[i :: len(args.person_ids)] for i, p in enumerate(args.person_ids)}
    message_type = {"skeleton_array": SkeletonArray, "marker_array": MarkerArray}.get(
        args.input_type, PoseArray
    )

    rclpy.init(args=command_line)
    node = rclpy.create_node("skeleton_replay")
    publisher = node.create_publisher(message_type, args.topic, 10)
    try:
        deadline = time.monotonic() + args.wait
        while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        period_ns = NS_PER_S / fps
        start_stamp = node.get_clock().now().nanoseconds
        start = time.monotonic()
        for k, people in enumerate(ticks(queues, round(args.pause * fps), args.loop)):
            if not rclpy.ok():
                break
            stamp = start_stamp + round(k * period_ns)
            for person, clip, index in people:
                if index == 0:
                    _announce(person, clip, stamp, period_ns)
            message = _message(args.input_type, people, stamp, args.frame_id)
            time.sleep(max(0.0, start + k / (fps * args.rate) - time.monotonic()))
            if message is not None:
                publisher.publish(message)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
