"""Test-side ROS 2 helpers: a client node in the test process and node subprocesses.

The node under test always runs in its own process (as ``ros2 run`` or launch would
start it); the test process talks to it over DDS through ``RosClient``, on the domain of
the test's ``ros_env`` so parallel tests never meet.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import rclpy
import yaml
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import SetParametersResult
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile

from dynapurls_ros.ros.process import stop_process


class RosClient:
    """An rclpy node in the test process, in the DDS domain of ``env``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=int(env["ROS_DOMAIN_ID"]))
        self.node = rclpy.create_node(f"test_client_{os.getpid()}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Process callbacks until ``done()`` or ``timeout`` seconds; returns ``done()``."""
        deadline = self.node.get_clock().now().nanoseconds + int(timeout * 1e9)
        while not done() and self.node.get_clock().now().nanoseconds < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return done()

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, seconds)

    def collect(self, msg_type: type, topic: str, qos: QoSProfile | int = 10) -> list[Any]:
        """Subscribe; the returned list fills as messages arrive while spinning."""
        received: list[Any] = []
        self.node.create_subscription(msg_type, topic, received.append, qos)
        return received

    def call(self, srv_type: type, name: str, request: Any, timeout: float = 20.0) -> Any:
        client = self.node.create_client(srv_type, name)
        assert self.spin_until(client.service_is_ready, timeout), f"service {name} not up"
        future = client.call_async(request)
        assert self.spin_until(future.done, timeout), f"no answer from {name}"
        return future.result()

    def set_parameters(self, node: str, **values: Any) -> list[SetParametersResult]:
        """What ``ros2 param set`` does: one SetParameters request to ``node``."""
        request = SetParameters.Request(
            parameters=[Parameter(k, value=v).to_parameter_msg() for k, v in values.items()]
        )
        return list(self.call(SetParameters, f"{node}/set_parameters", request).results)

    def set_raw_parameter(self, node: str, parameter: ParameterMsg) -> SetParametersResult:
        """Send a parameter message as built by hand (e.g. a wrongly typed value)."""
        request = SetParameters.Request(parameters=[parameter])
        return self.call(SetParameters, f"{node}/set_parameters", request).results[0]

    def get_parameters(self, node: str, names: Sequence[str]) -> dict[str, Any]:
        request = GetParameters.Request(names=list(names))
        response = self.call(GetParameters, f"{node}/get_parameters", request)
        return {
            name: Parameter.from_parameter_msg(ParameterMsg(name=name, value=value)).value
            for name, value in zip(names, response.values, strict=True)
        }

    def node_names(self) -> list[str]:
        """Fully qualified names of the nodes discovered so far."""
        return [
            f"{ns.rstrip('/')}/{name}" for name, ns in self.node.get_node_names_and_namespaces()
        ]

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


class NodeProcess:
    """A node started as a subprocess; ``stop()`` ends it as ``ros2 launch`` would (SIGINT)
    and returns its exit status and output. ``group``: the command runs the node as its
    child (``ros2 run``, ``ros2 launch``); it gets a session of its own and ``stop()``
    sends SIGINT to the whole group, as Ctrl-C in a terminal does (and SIGKILL to all of
    it if that fails, so no node outlives the test)."""

    def __init__(self, command: Sequence[str], env: dict[str, str], group: bool = False) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        self.group = group
        self.process = subprocess.Popen(
            list(command),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=group,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self, timeout: float = 20.0) -> tuple[int, str]:
        code = stop_process(self.process, timeout, group=self.group)
        if not self.log.closed:
            self._output = self.output()
            self.log.close()
        return code, self._output


def write_params(path: Path, values: dict[str, Any], key: str = "/**") -> Path:
    """A ROS 2 parameter file for the nodes matching ``key``."""
    path.write_text(yaml.safe_dump({key: {"ros__parameters": values}}), encoding="utf-8")
    return path
