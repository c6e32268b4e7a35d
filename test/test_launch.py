"""launch/recognize.launch.py: what it declares, and the node it starts, checked over DDS.

Where ``launch_ros`` is importable (a ROS 2 install), ``ros2 launch`` runs the installed
launch file. Without it (PyPI wheels: no launch packages exist there), a test-only
stand-in of the five launch classes the file uses loads it, and the node is started
with the command line launch_ros builds from what the file returns:
``<prefix>/lib/dynapurls_ros/recognizer --ros-args -r __node:=NAME -r __ns:=/NS
--params-file FILE [--params-file OVERRIDES]`` (dict parameters go to a ``/**`` file).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from ament_index_python.packages import get_package_prefix, get_package_share_directory
from dynapurls_ros.msg import ActionLabel
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_client import NodeProcess, RosClient, write_params
from std_msgs.msg import String

pytestmark = pytest.mark.ros

PACKAGE = "dynapurls_ros"
LAUNCH_FILE = Path(get_package_share_directory(PACKAGE)) / "launch" / "recognize.launch.py"
INSTALLED_PARAMS = Path(get_package_share_directory(PACKAGE)) / "config" / "recognize.yaml"
HAS_LAUNCH_ROS = importlib.util.find_spec("launch_ros") is not None
NAMESPACE = "/robot1"
FULL_NAME = f"{NAMESPACE}/action_recognizer"
STARTUP_S = 120.0


# --- test-only stand-in for the launch classes the file uses ------------------------------


class _Context:
    def __init__(self, configurations: dict[str, str]) -> None:
        self.launch_configurations = configurations


class _LaunchConfiguration:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: _Context) -> str:
        return context.launch_configurations[self.name]


class _Recorded:
    """Any launch entity: keeps its constructor arguments for inspection."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs


def _stand_in_modules() -> dict[str, types.ModuleType]:
    modules = {
        name: types.ModuleType(name)
        for name in (
            "launch",
            "launch.actions",
            "launch.substitutions",
            "launch_ros",
            "launch_ros.actions",
        )
    }
    modules["launch"].LaunchDescription = type("LaunchDescription", (_Recorded,), {})
    modules["launch.actions"].DeclareLaunchArgument = type(
        "DeclareLaunchArgument", (_Recorded,), {}
    )
    modules["launch.actions"].OpaqueFunction = type("OpaqueFunction", (_Recorded,), {})
    modules["launch.substitutions"].LaunchConfiguration = _LaunchConfiguration
    modules["launch_ros.actions"].Node = type("Node", (_Recorded,), {})
    return modules


@pytest.fixture
def launch_module(monkeypatch):
    """The installed launch file, imported against the stand-in."""
    if HAS_LAUNCH_ROS:
        pytest.skip("launch_ros is installed: the real launch test runs instead")
    for name, module in _stand_in_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("recognize_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arguments(description) -> dict[str, str]:
    return {
        entity.args[0]: entity.kwargs["default_value"]
        for entity in description.args[0]
        if type(entity).__name__ == "DeclareLaunchArgument"
    }


def _nodes(description, configurations: dict[str, str]) -> list:
    """Resolve the OpaqueFunctions as launch would, returning the Node actions."""
    context = _Context(configurations)
    nodes = []
    for entity in description.args[0]:
        if type(entity).__name__ == "OpaqueFunction":
            nodes += entity.kwargs["function"](context)
    return nodes


def _command_line(node, tmp_path: Path) -> list[str]:
    """The command launch_ros would run for ``node``."""
    kwargs = node.kwargs
    executable = Path(get_package_prefix(kwargs["package"])) / "lib" / kwargs["package"]
    command = [str(executable / kwargs["executable"]), "--ros-args"]
    command += ["-r", f"__node:={kwargs['name']}"]
    if kwargs["namespace"]:
        command += ["-r", f"__ns:={kwargs['namespace']}"]
    for index, parameters in enumerate(kwargs["parameters"]):
        if isinstance(parameters, dict):
            parameters = write_params(tmp_path / f"launch_params_{index}.yaml", parameters)
        command += ["--params-file", str(parameters)]
    return command


# --- tests ---------------------------------------------------------------------------------


def test_launch_file_declares_its_arguments(launch_module) -> None:
    description = launch_module.generate_launch_description()
    assert _arguments(description) == {
        "params_file": str(INSTALLED_PARAMS),
        "namespace": "",
        "input_topic": "",
        "input_type": "",
        "layout": "",
        "checkpoint": "",
    }


def test_empty_overrides_leave_the_params_file_alone(launch_module) -> None:
    description = launch_module.generate_launch_description()
    (node,) = _nodes(description, _arguments(description))
    assert node.kwargs["package"] == PACKAGE and node.kwargs["executable"] == "recognizer"
    assert node.kwargs["name"] == "action_recognizer" and node.kwargs["namespace"] == ""
    assert node.kwargs["parameters"] == [str(INSTALLED_PARAMS)]


def _check_node_over_dds(env: dict[str, str], process: NodeProcess, expected: dict) -> None:
    """The node is up under its namespaced name with ``expected`` parameter values, its
    vocabulary topic is namespaced, and its labels go to the absolute /action_labels."""
    client = RosClient(env)
    try:
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        vocabularies = client.collect(String, f"{FULL_NAME}/vocabulary", latched)
        up = client.spin_until(lambda: bool(vocabularies) or not process.running(), STARTUP_S)
        assert up and process.running(), process.output()
        assert FULL_NAME in client.node_names()
        assert client.get_parameters(FULL_NAME, list(expected)) == expected
        assert json.loads(vocabularies[0].data)["labels"] == expected["vocabulary"]
        labels = client.collect(ActionLabel, "/action_labels", 50)
        replay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dynapurls_ros.ros.replay",
                "--dataset",
                "gtu3d",
                "--classes",
                "walking",
                "--count",
                "1",
                "--input-type",
                "marker_array",
                "--rate",
                "2",
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        client.spin_until(lambda: replay.poll() is not None, 60)
        client.spin_for(0.5)
        (announced,) = [json.loads(line) for line in replay.communicate()[0].splitlines()]
    finally:
        client.close()
    assert labels, "the replayed Azure Kinect markers must produce labels"
    for msg in labels:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        assert announced["first_stamp_ns"] <= stamp <= announced["last_stamp_ns"]
        assert msg.header.frame_id == "camera" and msg.person_id == 1


EXPECTED = {
    "input_type": "marker_array",
    "input_topic": "/body_tracking_data",
    "layout": "ntu25",
    "top_k": 3,
    "vocabulary": ["walk", "wave", "sit down"],
}


def _user_params(tmp_path: Path) -> Path:
    """A user's params file: the installed one with some values changed."""
    with INSTALLED_PARAMS.open(encoding="utf-8") as handle:
        values = yaml.safe_load(handle)["/**"]["ros__parameters"]
    values.update(top_k=3, vocabulary=["walk", "wave", "sit down"], input_topic="/wrong")
    return write_params(tmp_path / "user.yaml", values)


def test_launched_node_comes_up_with_the_expected_parameters(
    launch_module, ros_env, tmp_path
) -> None:
    description = launch_module.generate_launch_description()
    configurations = _arguments(description) | {
        "params_file": str(_user_params(tmp_path)),
        "namespace": NAMESPACE,
        "input_type": "marker_array",
        "input_topic": "/body_tracking_data",
    }
    (node,) = _nodes(description, configurations)
    process = NodeProcess(_command_line(node, tmp_path), ros_env)
    try:
        _check_node_over_dds(ros_env, process, EXPECTED)
    finally:
        code, output = process.stop()
    assert code == 0, output


@pytest.mark.skipif(not HAS_LAUNCH_ROS or shutil.which("ros2") is None, reason="needs ros2 launch")
def test_ros2_launch_starts_the_node_with_the_expected_parameters(ros_env, tmp_path) -> None:
    command = [
        "ros2",
        "launch",
        PACKAGE,
        "recognize.launch.py",
        f"params_file:={_user_params(tmp_path)}",
        f"namespace:={NAMESPACE}",
        "input_type:=marker_array",
        "input_topic:=/body_tracking_data",
    ]
    process = NodeProcess(command, ros_env)
    try:
        _check_node_over_dds(ros_env, process, EXPECTED)
    finally:
        code, output = process.stop()
    assert code == 0, output
