"""Input adapters: real tracker message classes -> canonical frames, bad content dropped."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dynapurls_ros.msg import Skeleton, SkeletonArray
from geometry_msgs.msg import Point
from visualization_msgs.msg import Marker, MarkerArray

from dynapurls_ros.paths import data_root
from dynapurls_ros.ros import inputs
from dynapurls_ros.ros.inputs import InputConfig, input_adapter
from dynapurls_ros.ros.replay import (
    marker_array_msg,
    pose_array_msg,
    skeleton_array_msg,
    to_azure,
)
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS, get_layout

STAMP = 1_700_000_000_123_456_789
CONFIG = InputConfig(layout="ntu25", max_missing_joints=3)
NECK = NTU25_JOINTS.index("neck")


@pytest.fixture(scope="module")
def ntu_frame() -> np.ndarray:
    """Frame 10 of a real Kinect v2 recording (GTU-3D), (25, 3) metres."""
    rows = np.loadtxt(data_root() / "gtu3d" / "1" / "movement1.txt", dtype=np.float32)
    return rows.reshape(-1, 25, 3)[10]


@pytest.fixture(scope="module")
def kinect_v1_frame() -> np.ndarray:
    """Frame 5 of a real Kinect v1 recording (NW-UCLA), (20, 3) metres."""
    path = data_root() / "nw_ucla" / "all_sqe" / "a01_s01_e00_v01.json"
    with path.open(encoding="utf-8") as handle:
        return np.asarray(json.load(handle)["skeletons"], dtype=np.float32)[5]


def adapt(input_type: str, msg, config: InputConfig = CONFIG) -> inputs.Adapted:
    return input_adapter(input_type).adapt(msg, config)


def reasons(adapted: inputs.Adapted) -> list[str]:
    return [drop.reason for drop in adapted.drops]


def test_skeleton_array_maps_each_layout_to_canonical(ntu_frame, kinect_v1_frame) -> None:
    msg = skeleton_array_msg([(4, ntu_frame)], "ntu25", STAMP, "camera")
    v1 = skeleton_array_msg([(9, kinect_v1_frame)], "kinect_v1", STAMP, "camera").skeletons[0]
    msg.skeletons.append(v1)
    got = adapt("skeleton_array", msg)
    assert got.drops == []
    first, second = got.frames
    assert (first.person_id, first.stamp_ns, first.frame_id) == (4, STAMP, "camera")
    np.testing.assert_allclose(first.joints, ntu_frame, atol=1e-6)
    assert second.person_id == 9 and second.joints.shape == (25, 3)
    expected = get_layout("kinect_v1").to_canonical(kinect_v1_frame)
    np.testing.assert_allclose(second.joints, expected, atol=1e-6)


def test_skeleton_without_layout_stamp_or_frame_uses_the_configured_and_the_arrays(
    kinect_v1_frame,
) -> None:
    msg = skeleton_array_msg([(1, kinect_v1_frame)], "", STAMP, "array_frame")
    msg.skeletons[0].header.frame_id = ""
    got = adapt("skeleton_array", msg, InputConfig(layout="kinect_v1"))
    assert got.frames[0].stamp_ns == STAMP and got.frames[0].frame_id == "array_frame"
    # Its own stamp and frame win over the array's.
    msg.skeletons[0].header.stamp.sec = 5
    msg.skeletons[0].header.frame_id = "own"
    frame = adapt("skeleton_array", msg, InputConfig(layout="kinect_v1")).frames[0]
    assert (frame.stamp_ns, frame.frame_id) == (5_000_000_000, "own")


def test_empty_skeleton_array_is_nobody_in_view_not_an_error() -> None:
    got = adapt("skeleton_array", SkeletonArray())
    assert got.frames == [] and got.drops == []


def test_a_few_missing_joints_are_filled_from_their_ancestors(ntu_frame) -> None:
    joints = ntu_frame.copy()
    hand_tip, hand = NTU25_JOINTS.index("left_hand_tip"), NTU25_JOINTS.index("left_hand")
    knee, hip = NTU25_JOINTS.index("right_knee"), NTU25_JOINTS.index("right_hip")
    joints[hand_tip] = np.nan
    joints[knee] = (np.inf, 0.0, 0.0)
    msg = skeleton_array_msg([(1, joints)], "ntu25", STAMP, "camera")
    # Confidence 0 also means "not seen".
    elbow, shoulder = NTU25_JOINTS.index("right_elbow"), NTU25_JOINTS.index("right_shoulder")
    msg.skeletons[0].confidences = [1.0] * 25
    msg.skeletons[0].confidences[elbow] = 0.0
    frame = adapt("skeleton_array", msg).frames[0]
    assert np.isfinite(frame.joints).all()
    np.testing.assert_allclose(frame.joints[hand_tip], ntu_frame[hand])
    np.testing.assert_allclose(frame.joints[knee], ntu_frame[hip])
    np.testing.assert_allclose(frame.joints[elbow], ntu_frame[shoulder])
    others = [v for v in range(25) if v not in (hand_tip, knee, elbow)]
    np.testing.assert_allclose(frame.joints[others], ntu_frame[others])


def test_too_many_missing_joints_or_a_missing_root_are_dropped(ntu_frame) -> None:
    joints = ntu_frame.copy()
    joints[[5, 6, 7, 9]] = np.nan
    got = adapt("skeleton_array", skeleton_array_msg([(1, joints)], "ntu25", STAMP, "c"))
    assert got.frames == [] and reasons(got) == [inputs.NON_FINITE]
    assert "4 of 25 joints missing" in got.drops[0].detail
    # The spine base has no ancestor to copy from.
    joints = ntu_frame.copy()
    joints[0] = np.nan
    got = adapt("skeleton_array", skeleton_array_msg([(1, joints)], "ntu25", STAMP, "c"))
    assert reasons(got) == [inputs.NON_FINITE]
    # With no tolerance, one missing joint is enough.
    joints = ntu_frame.copy()
    joints[3] = np.nan
    msg = skeleton_array_msg([(1, joints)], "ntu25", STAMP, "c")
    assert reasons(adapt("skeleton_array", msg, InputConfig(max_missing_joints=0))) == [
        inputs.NON_FINITE
    ]


def test_collapsed_placeholder_skeletons_are_dropped() -> None:
    msg = skeleton_array_msg([(1, np.zeros((25, 3)))], "ntu25", STAMP, "camera")
    got = adapt("skeleton_array", msg)
    assert got.frames == [] and reasons(got) == [inputs.DEGENERATE]


def test_bad_skeletons_are_dropped_one_by_one(ntu_frame) -> None:
    good = Skeleton(
        person_id=1,
        layout="ntu25",
        joints=[Point(x=float(x), y=float(y), z=float(z)) for x, y, z in ntu_frame],
    )
    short = Skeleton(person_id=2, layout="ntu25", joints=good.joints[:20])
    unknown = Skeleton(person_id=3, layout="kinect_v9", joints=good.joints)
    confidences = Skeleton(person_id=4, layout="ntu25", joints=good.joints, confidences=[1.0])
    msg = SkeletonArray(skeletons=[good, short, unknown, confidences])
    msg.header.stamp.sec = 100
    got = adapt("skeleton_array", msg)
    assert [f.person_id for f in got.frames] == [1]
    assert reasons(got) == [
        inputs.WRONG_JOINT_COUNT,
        inputs.UNKNOWN_LAYOUT,
        inputs.BAD_CONFIDENCES,
    ]
    assert "person 2" in got.drops[0].detail and "25 joints, got 20" in got.drops[0].detail
    assert "kinect_v9" in got.drops[1].detail


def test_repeated_person_ids_and_missing_stamps_are_dropped(ntu_frame) -> None:
    msg = skeleton_array_msg([(1, ntu_frame), (1, ntu_frame), (2, ntu_frame)], "ntu25", 0, "c")
    got = adapt("skeleton_array", msg)
    assert got.frames == []
    assert reasons(got) == [inputs.DUPLICATE_PERSON] * 2 + [inputs.MISSING_STAMP]


def test_azure_markers_round_trip_to_canonical(ntu_frame) -> None:
    azure = to_azure(ntu_frame, "ntu25")
    assert azure.shape == (32, 3)
    msg = marker_array_msg([(1, azure), (2, azure + 1.0)], STAMP, "depth_camera_link")
    assert len(msg.markers) == 64 and msg.markers[33].id == 201
    got = adapt("marker_array", msg)
    assert got.drops == []
    assert [(f.person_id, f.stamp_ns, f.frame_id) for f in got.frames] == [
        (1, STAMP, "depth_camera_link"),
        (2, STAMP, "depth_camera_link"),
    ]
    # Every canonical joint comes back, except the neck which the Azure Kinect places
    # between its own neck and head (a few centimetres off the Kinect v2 neck).
    others = [v for v in range(25) if v != NECK]
    np.testing.assert_allclose(got.frames[0].joints[others], ntu_frame[others], atol=1e-5)
    assert np.linalg.norm(got.frames[0].joints[NECK] - ntu_frame[NECK]) < 0.08
    np.testing.assert_allclose(got.frames[1].joints, got.frames[0].joints + 1.0, atol=1e-5)


def test_bad_markers_are_dropped_and_the_body_kept(ntu_frame) -> None:
    msg = marker_array_msg([(1, to_azure(ntu_frame, "ntu25"))], STAMP, "depth_camera_link")
    msg.markers[27].id = 140  # joint index 40 does not exist
    msg.markers[28].id = -3
    msg.markers[29].id = 126  # a second "head"
    msg.markers.append(Marker(action=Marker.DELETEALL))
    got = adapt("marker_array", msg)
    assert reasons(got) == [
        inputs.UNKNOWN_MARKER_ID,
        inputs.UNKNOWN_MARKER_ID,
        inputs.DUPLICATE_MARKER_ID,
    ]
    assert "marker id 140" in got.drops[0].detail
    # Three face markers lost: within the tolerance, and the head keeps its position.
    assert [f.person_id for f in got.frames] == [1]
    assert np.isfinite(got.frames[0].joints).all()


def test_empty_marker_array_is_nobody_in_view() -> None:
    got = adapt("marker_array", MarkerArray())
    assert got.frames == [] and got.drops == []


def test_pose_array_is_one_person_in_the_configured_layout(kinect_v1_frame) -> None:
    msg = pose_array_msg(kinect_v1_frame, STAMP, "camera")
    got = adapt("pose_array", msg, InputConfig(layout="kinect_v1"))
    assert [(f.person_id, f.stamp_ns) for f in got.frames] == [(0, STAMP)]
    expected = get_layout("kinect_v1").to_canonical(kinect_v1_frame)
    np.testing.assert_allclose(got.frames[0].joints, expected, atol=1e-6)
    # The same poses read as ntu25 have the wrong joint count.
    assert reasons(adapt("pose_array", msg)) == [inputs.WRONG_JOINT_COUNT]


def test_empty_pose_array_is_dropped() -> None:
    got = adapt("pose_array", pose_array_msg(np.zeros((0, 3)), STAMP, "camera"))
    assert reasons(got) == [inputs.EMPTY_MESSAGE]


def test_unknown_input_type_names_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="skeleton_array, marker_array, pose_array"):
        input_adapter("image")
