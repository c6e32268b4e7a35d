"""The README's ROS 2 commands, run as a user types them: ``ros2 launch``, ``ros2 param``,
``ros2 topic echo``, ``ros2 node list``, ``ros2 run`` and ``launch_test``.

Each command runs as its own process against a node in its own process, on the test's
leased domain. The tools are the real ones: a ROS 2 installation's, or those ``make
test`` installs from ../shared/ros2-src. Where neither exists, these tests skip with that
reason and test_launch_stand_in.py checks the launch file through a stand-in.

``ros2 param``, ``node list`` and ``topic echo`` run with ``--no-daemon`` (a daemon would
outlive the test); ``ros2 param`` with ``--timeout 5`` (the default 1 s intermittently
misses a node on a busy machine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from dynapurls_ros.msg import ActionLabel
from launch_common import (
    EXPECTED,
    LATCHED,
    NAMESPACE,
    PACKAGE,
    STARTUP_S,
    check_node_over_dds,
    replay,
    user_params,
)
from ros_client import NodeProcess, RosClient
from std_msgs.msg import String

from dynapurls_ros.ros.params import DEFAULT_VOCABULARY

ROS2 = shutil.which("ros2")
LAUNCH_TEST = shutil.which("launch_test")
pytestmark = [
    pytest.mark.ros,
    pytest.mark.skipif(
        ROS2 is None or LAUNCH_TEST is None,
        reason="ros2 / launch_test not installed: no ROS 2 sourced and no "
        "../shared/ros2-src for make test to install them from",
    ),
]
NODE = "/action_recognizer"
LAUNCH_TEST_FILE = Path(__file__).parent / "launch_tests" / "recognize_launch.py"


def ros2(env: dict[str, str], *args: str, timeout: float = 60.0) -> str:
    """Run ``ros2 ARGS`` to its end; returns stdout and stderr together."""
    result = subprocess.run(
        [ROS2, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return result.stdout + result.stderr


def param(env: dict[str, str], verb: str, *args: str) -> str:
    return ros2(env, "param", verb, "--no-daemon", "--timeout", "5", *args)


def wait_for_vocabulary(client: RosClient, process: NodeProcess, node: str, labels: list[str]):
    """Spin until ``node`` publishes ``labels`` as its active vocabulary."""
    published = client.collect(String, f"{node}/vocabulary", LATCHED)

    def active() -> bool:
        return bool(published) and json.loads(published[-1].data)["labels"] == labels

    up = client.spin_until(lambda: active() or not process.running(), STARTUP_S)
    assert up and process.running(), f"vocabulary {labels} never active:\n{process.output()}"


def test_ros2_launch_shows_its_arguments(ros_env) -> None:
    shown = ros2(ros_env, "launch", PACKAGE, "recognize.launch.py", "--show-args")
    for argument in ("params_file", "namespace", "input_topic", "input_type", "layout"):
        assert f"'{argument}':" in shown, shown
    assert "config/recognize.yaml" in shown


def test_ros2_launch_then_param_set_get_and_topic_echo(ros_env) -> None:
    """The README's robot session: launch with defaults, change the vocabulary with
    ``ros2 param set`` (refused values say why), read it back, echo the labels."""
    process = NodeProcess([ROS2, "launch", PACKAGE, "recognize.launch.py"], ros_env, group=True)
    client = RosClient(ros_env)
    try:
        wait_for_vocabulary(client, process, NODE, DEFAULT_VOCABULARY)
        # Each `ros2 node list --no-daemon` discovers afresh: on a loaded machine its
        # spin can end before the node is seen, so ask again as a user would.
        listings = [ros2(ros_env, "node", "list", "--no-daemon", "--spin-time", "3")]
        while NODE not in listings[-1].split() and len(listings) < 5:
            listings.append(ros2(ros_env, "node", "list", "--no-daemon", "--spin-time", "3"))
        assert NODE in listings[-1].split(), listings

        refused = param(ros_env, "set", NODE, "vocabulary", "['wave', 'Wave']")
        assert "Setting parameter failed" in refused and "duplicates" in refused
        assert "out of range" in param(ros_env, "set", NODE, "top_k", "0")
        assert "read-only" in param(ros_env, "set", NODE, "input_topic", "/x")
        vocabulary = ["walk", "sit down", "stand up"]
        answer = param(ros_env, "set", NODE, "vocabulary", str(vocabulary))
        assert "Set parameter successful" in answer, answer
        wait_for_vocabulary(client, process, NODE, vocabulary)
        assert f"String values are: {vocabulary}" in param(ros_env, "get", NODE, "vocabulary")

        echo = subprocess.Popen(
            [ROS2, "topic", "echo", "/action_labels", "--once", "--no-daemon", "--spin-time", "3"],
            env=ros_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        client.spin_for(2.0)  # the echo's subscription is matched before the replay starts
        tracker = replay(ros_env, "--count", "1", "--rate", "2")
        echoed, _ = echo.communicate(timeout=90)
        tracker.wait(timeout=60)
    finally:
        client.close()
        code, output = process.stop()
    assert code == 0, output
    assert echo.returncode == 0, echoed
    (label, *_) = [doc for doc in yaml.safe_load_all(echoed) if doc]
    assert label["person_id"] == 1 and label["label"] in vocabulary
    assert set(label["top_labels"]) == set(vocabulary)


def test_ros2_launch_with_arguments_and_a_params_file(ros_env, tmp_path) -> None:
    command = [
        ROS2,
        "launch",
        PACKAGE,
        "recognize.launch.py",
        f"params_file:={user_params(tmp_path)}",
        f"namespace:={NAMESPACE}",
        "input_type:=marker_array",
        "input_topic:=/body_tracking_data",
    ]
    process = NodeProcess(command, ros_env, group=True)
    try:
        check_node_over_dds(ros_env, process, EXPECTED)
    finally:
        code, output = process.stop()
    assert code == 0, output


def test_ros2_run_pose_array_input_with_live_top_k_and_person_timeout(ros_env) -> None:
    """``ros2 run`` with a PoseArray tracker (one person, id 0): labels arrive, and
    ``top_k`` and ``person_timeout`` changed with ``ros2 param set`` take effect live."""
    command = [ROS2, "run", PACKAGE, "recognizer", "--ros-args"]
    command += ["-p", "input_type:=pose_array", "-p", "input_topic:=/pose"]
    command += ["-p", "diagnostics_period:=0.5", "-p", "person_timeout:=30.0"]
    process = NodeProcess(command, ros_env, group=True)
    client = RosClient(ros_env)
    labels = client.collect(ActionLabel, "/action_labels", 50)
    diagnostics = client.collect(DiagnosticArray, "/diagnostics", 10)

    def persons_in_view() -> str:
        count = len(diagnostics)
        assert client.spin_until(lambda: len(diagnostics) > count, 10.0)
        values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
        return values["persons"]

    try:
        wait_for_vocabulary(client, process, NODE, DEFAULT_VOCABULARY)
        assert "Set parameter successful" in param(ros_env, "set", NODE, "top_k", "2")
        tracker = replay(ros_env, "--count", "1", "--input-type", "pose_array", "--topic", "/pose")
        assert client.spin_until(lambda: tracker.poll() is not None, 90)
        client.spin_for(3.0)
        assert labels, process.output()
        assert {msg.person_id for msg in labels} == {0}
        assert {len(msg.top_labels) for msg in labels} == {2}
        # Silent for 3 s with a 30 s timeout: the person is still buffered.
        assert persons_in_view() == "0"
        assert "Set parameter successful" in param(ros_env, "set", NODE, "person_timeout", "0.5")
        client.spin_for(1.5)
        assert persons_in_view() == "none"
    finally:
        client.close()
        code, output = process.stop()
    assert code == 0, output


def test_launch_testing_runs_the_launch_file(ros_env) -> None:
    result = subprocess.run(
        [LAUNCH_TEST, str(LAUNCH_TEST_FILE)],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=STARTUP_S + 60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Ran 2 tests" in output and "Ran 1 test" in output, output
