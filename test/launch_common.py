"""What the launch tests share, with the real ``ros2 launch`` (test_launch.py) and with the
stand-in used only where launch_ros is absent (test_launch_stand_in.py): the installed
launch file, a user's params file, and the check over DDS of the node it started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from ament_index_python.packages import get_package_share_directory
from dynapurls_ros.msg import ActionLabel
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_client import NodeProcess, RosClient, write_params
from std_msgs.msg import String

PACKAGE = "dynapurls_ros"
SHARE = Path(get_package_share_directory(PACKAGE))
LAUNCH_FILE = SHARE / "launch" / "recognize.launch.py"
INSTALLED_PARAMS = SHARE / "config" / "recognize.yaml"
NAMESPACE = "/robot1"
FULL_NAME = f"{NAMESPACE}/action_recognizer"
STARTUP_S = 120.0
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)

# What a node started with user_params() and the marker-array overrides must report.
EXPECTED = {
    "input_type": "marker_array",
    "input_topic": "/body_tracking_data",
    "layout": "ntu25",
    "top_k": 3,
    "vocabulary": ["walk", "wave", "sit down"],
}


def user_params(tmp_path: Path) -> Path:
    """A user's params file: the installed one with some values changed."""
    with INSTALLED_PARAMS.open(encoding="utf-8") as handle:
        values = yaml.safe_load(handle)["/**"]["ros__parameters"]
    values.update(top_k=3, vocabulary=["walk", "wave", "sit down"], input_topic="/wrong")
    return write_params(tmp_path / "user.yaml", values)


def replay(env: dict[str, str], *args: str) -> subprocess.Popen:
    """The stand-in tracker (``replay``) publishing GTU-3D walking clips; it prints one
    JSON line per clip it starts."""
    command = [sys.executable, "-m", "dynapurls_ros.ros.replay", "--dataset", "gtu3d"]
    command += ["--classes", "walking", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def check_node_over_dds(env: dict[str, str], process: NodeProcess, expected: dict) -> None:
    """The node is up under its namespaced name with ``expected`` parameter values, its
    vocabulary topic is namespaced, and its labels go to the absolute /action_labels."""
    client = RosClient(env)
    try:
        vocabularies = client.collect(String, f"{FULL_NAME}/vocabulary", LATCHED)
        up = client.spin_until(lambda: bool(vocabularies) or not process.running(), STARTUP_S)
        assert up and process.running(), process.output()
        assert FULL_NAME in client.node_names()
        assert client.get_parameters(FULL_NAME, list(expected)) == expected
        assert json.loads(vocabularies[0].data)["labels"] == expected["vocabulary"]
        labels = client.collect(ActionLabel, "/action_labels", 50)
        tracker = replay(env, "--count", "1", "--input-type", "marker_array", "--rate", "2")
        client.spin_until(lambda: tracker.poll() is not None, 60)
        client.spin_for(0.5)
        (announced,) = [json.loads(line) for line in tracker.communicate()[0].splitlines()]
    finally:
        client.close()
    assert labels, "the replayed Azure Kinect markers must produce labels"
    for msg in labels:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        assert announced["first_stamp_ns"] <= stamp <= announced["last_stamp_ns"]
        assert msg.header.frame_id == "camera" and msg.person_id == 1
