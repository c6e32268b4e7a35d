"""Tracker messages -> per-person skeleton frames in the canonical layout.

One adapter per accepted message type turns a message into ``Frame``s (person id,
capture stamp, ``(25, 3)`` canonical joints) and ``Drop``s (what was refused and why).
Adapters never raise on message content: a bad skeleton becomes a counted drop, so the
node keeps running whatever a tracker sends.

Missing joints: a joint is missing when a coordinate is NaN/inf or, in a
``dynapurls_ros/Skeleton`` with confidences, its confidence is 0. A skeleton missing at
most ``max_missing_joints`` source joints is kept; after the mapping to the canonical
layout every missing canonical joint is copied from its nearest present ancestor in the
canonical tree (``preprocess.clean`` on that one frame: a lost hand tip sits on the
hand). More missing joints, or a missing spine base, drop the skeleton; so does a
skeleton collapsed to a point (all-zero placeholders).

Positions stay in the sensor's frame (Azure Kinect: x right, y down, z forward; ROS
frames are right-handed too). The recognizer's normalisation removes any rotation and
translation, so only handedness would matter, and no conversion is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from geometry_msgs.msg import PoseArray
from visualization_msgs.msg import Marker, MarkerArray

from dynapurls_ros.msg import SkeletonArray
from dynapurls_ros.skeleton.layouts import CANONICAL_PARENTS, JointLayout, get_layout
from dynapurls_ros.skeleton.preprocess import MIN_EXTENT, clean

# Drop reasons (the buffers add theirs: duplicate_stamp, out_of_order).
NON_FINITE = "non_finite_joints"
WRONG_JOINT_COUNT = "wrong_joint_count"
BAD_CONFIDENCES = "bad_confidences"
UNKNOWN_LAYOUT = "unknown_layout"
UNKNOWN_MARKER_ID = "unknown_marker_id"
DUPLICATE_MARKER_ID = "duplicate_marker_id"
DUPLICATE_PERSON = "duplicate_person"
DEGENERATE = "degenerate_skeleton"
MISSING_STAMP = "missing_stamp"
EMPTY_MESSAGE = "empty_message"


# Azure Kinect ROS driver: marker id = body id * 100 + joint index (SDK order).
AZURE_LAYOUT = "azure_kinect"
AZURE_ID_STRIDE = 100


class Drop(NamedTuple):
    """A refused skeleton, marker or message: a counter key and a sentence for the log."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Frame:
    """One person's skeleton at one capture instant, ready for the buffers."""

    person_id: int
    stamp_ns: int
    frame_id: str
    joints: np.ndarray  # (25, 3) float32, canonical layout, all finite


@dataclass
class Adapted:
    """What one message gave. Neither frames nor drops: nobody was in view."""

    frames: list[Frame] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


@dataclass(frozen=True)
class InputConfig:
    """The parameters adapters read: the layout of skeletons that name none, and how
    many missing source joints a skeleton may have and still be filled and kept."""

    layout: str = "ntu25"
    max_missing_joints: int = 3


def stamp_ns(stamp: Any) -> int:
    """A ``builtin_interfaces/Time`` as integer nanoseconds."""
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def canonical_frame(
    joints: np.ndarray,
    layout: JointLayout,
    max_missing: int,
    confidences: Sequence[float] = (),
) -> np.ndarray | Drop:
    """``(V, 3)`` source joints -> finite ``(25, 3)`` canonical joints, or why not."""
    if joints.shape != (layout.num_joints, 3):
        return Drop(
            WRONG_JOINT_COUNT,
            f"layout {layout.name} has {layout.num_joints} joints, got {len(joints)}",
        )
    x = np.array(joints, dtype=np.float32)
    if len(confidences):
        if len(confidences) != len(x):
            return Drop(BAD_CONFIDENCES, f"{len(confidences)} confidences for {len(x)} joints")
        x[np.asarray(confidences) <= 0.0] = np.nan
    missing = int((~np.isfinite(x).all(axis=1)).sum())
    if missing > max_missing:
        return Drop(
            NON_FINITE,
            f"{missing} of {len(x)} joints missing (NaN/inf or confidence 0); "
            f"at most {max_missing} are filled",
        )
    canonical = layout.to_canonical(x)
    if missing:
        try:
            canonical = clean(canonical[None], CANONICAL_PARENTS)[0]
        except ValueError as error:
            return Drop(NON_FINITE, f"missing joints cannot be filled: {error}")
    extent = float(np.ptp(canonical, axis=0).max())
    if extent < MIN_EXTENT:
        return Drop(DEGENERATE, f"all joints within {extent * 1000:.1f} mm of each other")
    return canonical


def _points(points: Sequence[Any]) -> np.ndarray:
    return np.array([(p.x, p.y, p.z) for p in points], dtype=np.float32).reshape(-1, 3)


def _add(
    out: Adapted, person_id: int, stamp: int, frame_id: str, joints: np.ndarray | Drop
) -> None:
    """Append a frame, or the drop (naming the person) that ``canonical_frame`` returned."""
    if isinstance(joints, Drop):
        out.drops.append(Drop(joints.reason, f"person {person_id}: {joints.detail}"))
    elif stamp == 0:
        out.drops.append(Drop(MISSING_STAMP, f"person {person_id}: the stamp is zero"))
    else:
        out.frames.append(Frame(person_id, stamp, frame_id, joints))


def adapt_skeleton_array(msg: SkeletonArray, config: InputConfig) -> Adapted:
    """Each skeleton with its own layout (or the configured one), stamp and frame (or the
    array's). An empty array means nobody is in view."""
    out = Adapted()
    counts: dict[int, int] = {}
    for skeleton in msg.skeletons:
        counts[skeleton.person_id] = counts.get(skeleton.person_id, 0) + 1
    for skeleton in msg.skeletons:
        person = skeleton.person_id
        if counts[person] > 1:
            out.drops.append(
                Drop(DUPLICATE_PERSON, f"person {person} appears {counts[person]} times")
            )
            continue
        name = skeleton.layout or config.layout
        try:
            layout = get_layout(name)
        except ValueError as error:
            out.drops.append(Drop(UNKNOWN_LAYOUT, f"person {person}: {error}"))
            continue
        joints = canonical_frame(
            _points(skeleton.joints), layout, config.max_missing_joints, skeleton.confidences
        )
        _add(
            out,
            person,
            stamp_ns(skeleton.header.stamp) or stamp_ns(msg.header.stamp),
            skeleton.header.frame_id or msg.header.frame_id,
            joints,
        )
    return out


def adapt_marker_array(msg: MarkerArray, config: InputConfig) -> Adapted:
    """Azure Kinect body tracking markers: one marker per joint, ``id = body * 100 +
    joint``, 32 joints in SDK order, a stamp per marker. Markers that delete rather than
    draw are skipped; an unknown or repeated id drops that marker only (the joint then
    counts as missing). An empty array means nobody is in view, as the driver reports it.
    The ``layout`` parameter does not apply: the layout is always ``azure_kinect``."""
    layout = get_layout(AZURE_LAYOUT)
    out = Adapted()
    bodies: dict[int, list[Marker]] = {}
    seen: set[int] = set()
    for marker in msg.markers:
        if marker.action in (Marker.DELETE, Marker.DELETEALL):
            continue
        body, joint = divmod(marker.id, AZURE_ID_STRIDE)
        if marker.id < 0 or joint >= layout.num_joints:
            out.drops.append(
                Drop(
                    UNKNOWN_MARKER_ID,
                    f"marker id {marker.id} (ns {marker.ns!r}) is not body*{AZURE_ID_STRIDE}"
                    f" + joint < {layout.num_joints}",
                )
            )
        elif marker.id in seen:
            out.drops.append(Drop(DUPLICATE_MARKER_ID, f"marker id {marker.id} appears twice"))
        else:
            seen.add(marker.id)
            bodies.setdefault(body, []).append(marker)
    for body, markers in sorted(bodies.items()):
        joints = np.full((layout.num_joints, 3), np.nan, dtype=np.float32)
        for marker in markers:
            p = marker.pose.position
            joints[marker.id % AZURE_ID_STRIDE] = (p.x, p.y, p.z)
        stamp = max(stamp_ns(m.header.stamp) for m in markers)
        frame = canonical_frame(joints, layout, config.max_missing_joints)
        _add(out, body, stamp, markers[0].header.frame_id, frame)
    return out


def adapt_pose_array(msg: PoseArray, config: InputConfig) -> Adapted:
    """One person (id 0), one pose per joint in the configured layout's order; only the
    positions are used. An empty array is dropped: it names no person to clear."""
    if not msg.poses:
        return Adapted(drops=[Drop(EMPTY_MESSAGE, "PoseArray without poses")])
    out = Adapted()
    joints = _points([pose.position for pose in msg.poses])
    frame = canonical_frame(joints, get_layout(config.layout), config.max_missing_joints)
    _add(out, 0, stamp_ns(msg.header.stamp), msg.header.frame_id, frame)
    return out


@dataclass(frozen=True)
class InputAdapter:
    """The message type to subscribe to for an ``input_type`` and how to read it."""

    message_type: type
    adapt: Callable[[Any, InputConfig], Adapted]


ADAPTERS: dict[str, InputAdapter] = {
    "skeleton_array": InputAdapter(SkeletonArray, adapt_skeleton_array),
    "marker_array": InputAdapter(MarkerArray, adapt_marker_array),
    "pose_array": InputAdapter(PoseArray, adapt_pose_array),
}
INPUT_TYPES = tuple(ADAPTERS)


def input_adapter(input_type: str) -> InputAdapter:
    """The adapter for ``input_type``; ValueError naming the accepted types otherwise."""
    try:
        return ADAPTERS[input_type]
    except KeyError:
        raise ValueError(
            f"unknown input_type {input_type!r}; accepted: {', '.join(INPUT_TYPES)}"
        ) from None
