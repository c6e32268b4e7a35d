"""launch/recognize.launch.py without launch_ros: the fallback where the real tools are absent.

Where ``launch_ros`` is importable (a ROS 2 install, or ``make test`` with
../shared/ros2-src), conftest leaves this module out and test_launch.py runs the real
``ros2 launch`` and ``launch_test``. Without it (PyPI carries no launch packages), a
test-only stand-in of the five launch classes the file uses loads it, and the node is
started with the command line launch_ros builds from what the file returns:
``<prefix>/lib/dynapurls_ros/recognizer --ros-args -r __node:=NAME -r __ns:=/NS
--params-file FILE [--params-file OVERRIDES]`` (dict parameters go to a ``/**`` file).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from ament_index_python.packages import get_package_prefix
from launch_common import (
    EXPECTED,
    INSTALLED_PARAMS,
    LAUNCH_FILE,
    NAMESPACE,
    PACKAGE,
    check_node_over_dds,
    user_params,
)
from ros_client import NodeProcess, write_params

pytestmark = pytest.mark.ros


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


def test_launched_node_comes_up_with_the_expected_parameters(
    launch_module, ros_env, tmp_path
) -> None:
    description = launch_module.generate_launch_description()
    configurations = _arguments(description) | {
        "params_file": str(user_params(tmp_path)),
        "namespace": NAMESPACE,
        "input_type": "marker_array",
        "input_topic": "/body_tracking_data",
    }
    (node,) = _nodes(description, configurations)
    process = NodeProcess(_command_line(node, tmp_path), ros_env)
    try:
        check_node_over_dds(ros_env, process, EXPECTED)
    finally:
        code, output = process.stop()
    assert code == 0, output
