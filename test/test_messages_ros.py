"""The generated messages work between two real rclpy processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.ros

PUBLISHER = textwrap.dedent(
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from dynapurls_ros.msg import ActionLabel

    rclpy.init()
    node = rclpy.create_node("label_publisher")
    publisher = node.create_publisher(ActionLabel, "/action_labels", 10)

    def publish():
        msg = ActionLabel(person_id=7, label="wave", confidence=0.875,
                          top_labels=["wave", "clap"], top_scores=[0.875, 0.125],
                          adaptation_active=True)
        msg.header.frame_id = "camera"
        msg.header.stamp.sec = 42
        publisher.publish(msg)

    node.create_timer(0.05, publish)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    """
)

SUBSCRIBER = textwrap.dedent(
    """
    import json
    import rclpy
    from dynapurls_ros.msg import ActionLabel

    rclpy.init()
    node = rclpy.create_node("label_listener")
    received = []
    node.create_subscription(ActionLabel, "/action_labels", received.append, 10)
    while not received:
        rclpy.spin_once(node, timeout_sec=0.1)
    msg = received[0]
    print(json.dumps({
        "person_id": msg.person_id, "label": msg.label, "confidence": msg.confidence,
        "top_labels": list(msg.top_labels), "top_scores": list(msg.top_scores),
        "adaptation_active": msg.adaptation_active, "frame_id": msg.header.frame_id,
        "sec": msg.header.stamp.sec,
    }))
    node.destroy_node()
    rclpy.shutdown()
    """
)


def test_action_label_crosses_process_boundary(ros_env: dict[str, str]) -> None:
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER], env=ros_env)
    try:
        out = subprocess.run(
            [sys.executable, "-c", SUBSCRIBER],
            env=ros_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        publisher.terminate()
        publisher.wait(timeout=20)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {
        "person_id": 7,
        "label": "wave",
        "confidence": 0.875,
        "top_labels": ["wave", "clap"],
        "top_scores": [0.875, 0.125],
        "adaptation_active": True,
        "frame_id": "camera",
        "sec": 42,
    }
    assert publisher.returncode == 0, "publisher must exit cleanly on SIGTERM"


def test_skeleton_array_fields() -> None:
    from dynapurls_ros.msg import Skeleton, SkeletonArray
    from geometry_msgs.msg import Point

    skeleton = Skeleton(person_id=3, layout="coco17", joints=[Point(x=1.0, y=2.0, z=3.0)] * 17)
    skeleton.confidences = [0.5] * 17
    frame = SkeletonArray(skeletons=[skeleton])
    assert frame.skeletons[0].layout == "coco17"
    assert len(frame.skeletons[0].joints) == 17
    assert frame.skeletons[0].confidences[0] == pytest.approx(0.5)
