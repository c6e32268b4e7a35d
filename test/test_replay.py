"""The stand-in tracker publishes real recordings as a body tracker would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import PoseArray
from ros_client import RosClient
from visualization_msgs.msg import MarkerArray

from dynapurls_ros.paths import data_root
from dynapurls_ros.ros.buffers import NS_PER_S
from dynapurls_ros.ros.inputs import stamp_ns
from dynapurls_ros.ros.replay import dataset_clips, ticks, to_azure

pytestmark = pytest.mark.ros

REPLAY = [sys.executable, "-m", "dynapurls_ros.ros.replay"]


def run_replay(env: dict[str, str], args: list[str], msg_type: type, topic: str):
    """Run the replay to its end while collecting what it publishes."""
    client = RosClient(env)
    try:
        received = client.collect(msg_type, topic, 100)
        process = subprocess.Popen(
            REPLAY + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        finished = client.spin_until(lambda: process.poll() is not None, 60)
        client.spin_for(0.3)
    finally:
        client.close()
    if not finished:
        process.kill()
    out, err = process.communicate()
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()], received


def test_timeline_plays_each_persons_clips_with_pauses() -> None:
    clips = dataset_clips("gtu3d", ["walking"], count=3)
    steps = list(ticks({1: clips[:2], 2: clips[2:]}, pause=5, loop=False))
    lengths = [len(c.joints) for c in clips]
    assert len(steps) == max(lengths[0] + lengths[1] + 10, lengths[2] + 5)
    assert [(p, i) for p, _, i in steps[0]] == [(1, 0), (2, 0)]
    # Person 1 is away for the 5 ticks after its first clip.
    away = steps[lengths[0] : lengths[0] + 5]
    assert all(1 not in [p for p, _, _ in step] for step in away)


def test_replay_publishes_azure_markers_and_announces_the_truth(ros_env) -> None:
    args = ["--dataset", "gtu3d", "--classes", "walking", "--count", "2"]
    args += ["--input-type", "marker_array", "--person-ids", "3", "7"]
    args += ["--rate", "3", "--pause", "0.2"]
    lines, received = run_replay(ros_env, args, MarkerArray, "/body_tracking_data")
    assert [(line["person_id"], line["label"]) for line in lines] == [
        (3, "walking"),
        (7, "walking"),
    ]
    clips = {c.name: c for c in dataset_clips("gtu3d", ["walking"], count=2)}
    assert {line["sequence"] for line in lines} == set(clips)
    assert len(received) > 20, "most frames of a loopback replay arrive"
    first = lines[0]
    clip = clips[first["sequence"]]
    period = NS_PER_S / clip.fps
    for msg in received:
        ids = sorted(m.id for m in msg.markers)
        bodies = {i // 100 for i in ids}
        assert ids == [b * 100 + j for b in sorted(bodies) for j in range(32)]
        stamp = stamp_ns(msg.markers[0].header.stamp) if msg.markers else None
        if 3 in bodies:
            frame = round((stamp - first["first_stamp_ns"]) / period)
            assert abs(stamp - first["first_stamp_ns"] - frame * period) <= 1
            expected = to_azure(clip.joints[frame], clip.layout)
            got = [m.pose.position for m in msg.markers if m.id // 100 == 3]
            np.testing.assert_allclose([(p.x, p.y, p.z) for p in got], expected, atol=1e-5)


def test_replay_plays_npy_files_as_pose_arrays(ros_env, tmp_path: Path) -> None:
    rows = np.loadtxt(data_root() / "gtu3d" / "4" / "movement1.txt", dtype=np.float32)
    path = tmp_path / "crouch.npy"
    np.save(path, rows.reshape(-1, 25, 3)[:20])
    args = ["--npy", str(path), "--input-type", "pose_array", "--topic", "/poses"]
    args += ["--rate", "4", "--pause", "0"]
    lines, received = run_replay(ros_env, args, PoseArray, "/poses")
    assert [(line["sequence"], line["label"], line["frames"]) for line in lines] == [
        ("crouch", "crouch", 20)
    ]
    assert 10 <= len(received) <= 20
    assert all(len(msg.poses) == 25 and msg.header.frame_id == "camera" for msg in received)
    stamps = [stamp_ns(msg.header.stamp) for msg in received]
    assert stamps == sorted(stamps) and stamps[0] >= lines[0]["first_stamp_ns"]
    assert stamps[-1] <= lines[0]["last_stamp_ns"]
