"""Users' own data: rosbag2 recordings and live topics -> .npy + labels.csv -> train and
evaluate. The bags are written here with ``rosbags`` from real GTU-3D recordings, one
message per frame as a tracker publishes them (every input type the node takes)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import Writer
from test_node_ros import recording

from dynapurls_ros.ros.buffers import NS_PER_S
from dynapurls_ros.ros.record import MSG_TYPES, typestore
from dynapurls_ros.ros.replay import marker_array_msg, pose_array_msg, skeleton_array_msg, to_azure

pytestmark = pytest.mark.ros

DYNAPURLS = [sys.executable, "-m", "dynapurls_ros"]
T0 = 1_700_000_000 * NS_PER_S
FRAMES = 90  # per action: 3 s at 30 Hz
TOPICS = {
    "skeleton_array": "/skeletons",
    "marker_array": "/body_tracking_data",
    "pose_array": "/pose",
}


def message(input_type: str, joints: np.ndarray, stamp: int):
    if input_type == "skeleton_array":
        return skeleton_array_msg([(1, joints)], "ntu25", stamp, "camera")
    if input_type == "marker_array":
        return marker_array_msg([(1, to_azure(joints, "ntu25"))], stamp, "camera")
    return pose_array_msg(joints, stamp, "camera")


def write_bag(path: Path, input_type: str) -> None:
    """Two actions of 3 s each (GTU-3D "walking" then "crouching" recordings), plus one
    frame whose joints are NaN, which the import must drop and count."""
    frames = np.concatenate([recording("12", FRAMES), recording("6", FRAMES)])
    frames[30] = np.nan
    writer = Writer(path, version=8)
    writer.open()
    try:
        connection = writer.add_connection(
            TOPICS[input_type], MSG_TYPES[input_type], typestore=typestore()
        )
        for k, joints in enumerate(frames):
            stamp = T0 + round(k * NS_PER_S / 30)
            writer.write(connection, stamp, serialize_message(message(input_type, joints, stamp)))
    finally:
        writer.close()


def segments(path: Path) -> Path:
    path.write_text("start,end,label\n0,2.9,walk\n3.0,5.9,crouch\n20,25,nothing here\n")
    return path


def rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("input_type", sorted(TOPICS))
def test_import_bag_writes_one_clip_per_segment(input_type, tmp_path) -> None:
    write_bag(tmp_path / "bag", input_type)
    out = tmp_path / "mine"
    result = subprocess.run(
        [*DYNAPURLS, "import-bag", str(tmp_path / "bag"), "--topic", TOPICS[input_type],
         "--input-type", input_type, "--segments", str(segments(tmp_path / "cuts.csv")),
         "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [row["label"] for row in rows(out)] == ["walk", "crouch"]
    for row in rows(out):
        joints = np.load(out / row["file"])
        assert joints.shape[1:] == (25, 3) and 80 <= len(joints) <= 88
        assert np.isfinite(joints).all()
    assert "1 non_finite_joints" in result.stderr
    assert "skipped segment 20-25 s (nothing here)" in result.stderr


def test_import_bag_names_a_missing_topic(tmp_path) -> None:
    write_bag(tmp_path / "bag", "pose_array")
    result = subprocess.run(
        [*DYNAPURLS, "import-bag", str(tmp_path / "bag"), "--topic", "/skeletons",
         "--segments", str(segments(tmp_path / "cuts.csv")), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no topic /skeletons; it has /pose" in result.stderr


def test_record_a_live_topic_with_labels_typed_while_it_plays(ros_env, tmp_path) -> None:
    """``dynapurls record`` on the replayed Azure Kinect markers, the label typed as the
    first clip starts and ended as the second starts."""
    out = tmp_path / "mine"
    recorder = subprocess.Popen(
        [*DYNAPURLS, "record", "--topic", "/body_tracking_data", "--input-type",
         "marker_array", "-o", str(out)],
        env=ros_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    replay = subprocess.Popen(
        [*DYNAPURLS, "replay", "--dataset", "gtu3d", "--classes", "walking", "crouching",
         "--count", "2", "--input-type", "marker_array", "--pause", "0.5"],
        env=ros_env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    # The user types the first clip's label as it starts and ends it as the second starts.
    first = json.loads(replay.stdout.readline())
    recorder.stdin.write(first["label"] + "\n")
    recorder.stdin.flush()
    replay.stdout.readline()
    recorder.stdin.write("\n")
    recorder.stdin.flush()
    assert replay.wait(timeout=120) == 0
    _, err = recorder.communicate(timeout=60)  # end of stdin ends the recording
    assert recorder.returncode == 0, err
    (row,) = rows(out)
    assert row["label"] == first["label"]
    # The typed span covers that clip (minus typing latency) at 30 Hz.
    assert 0.7 * first["frames"] <= len(np.load(out / row["file"])) <= first["frames"] + 20


@pytest.mark.slow
def test_an_imported_bag_trains_and_evaluates(tmp_path) -> None:
    """The imported folder as a user then uses it: ``dynapurls train`` and ``evaluate``
    with ``--npy-folder``."""
    write_bag(tmp_path / "bag", "skeleton_array")
    out = tmp_path / "mine"
    subprocess.run(
        [*DYNAPURLS, "import-bag", str(tmp_path / "bag"), "--segments",
         str(segments(tmp_path / "cuts.csv")), "-o", str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    checkpoint = tmp_path / "mine.pt"
    subprocess.run(
        [*DYNAPURLS, "train", "--npy-folder", str(out), "-o", str(checkpoint),
         "--encoder-epochs", "1", "--align-epochs", "1", "--views", "1"],
        check=True, timeout=600, capture_output=True,
    )  # fmt: skip
    evaluated = subprocess.run(
        [*DYNAPURLS, "evaluate", "--checkpoint", str(checkpoint), "--npy-folder", str(out),
         "--output-dir", str(tmp_path / "eval")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_clips"] == 2 and metrics["classes"] == ["crouch", "walk"]
