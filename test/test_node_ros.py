"""The action_recognizer node in its own process, driven over DDS from the test process.

Needs the Recognizer (``dynapurls_ros/recognizer.py``) and its default checkpoint: the
node loads the real model and text encoder.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from dynapurls_ros.msg import ActionLabel, SkeletonArray
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_client import NodeProcess, RosClient, write_params
from std_msgs.msg import String
from std_srvs.srv import Trigger

from dynapurls_ros.paths import config_dir, data_root
from dynapurls_ros.ros.buffers import NS_PER_S
from dynapurls_ros.ros.inputs import stamp_ns
from dynapurls_ros.ros.replay import skeleton_array_msg

NODE = "/action_recognizer"
T0 = 1_700_000_000 * NS_PER_S
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
STARTUP_S = 120.0  # model and text encoder load on two shared cores


def recording(folder: str, frames: int) -> np.ndarray:
    """A real GTU-3D recording (Kinect v2, 30 fps), looped to ``frames`` frames."""
    rows = np.loadtxt(data_root() / "gtu3d" / folder / "movement1.txt", dtype=np.float32)
    seq = rows.reshape(-1, 25, 3)
    return np.concatenate([seq, seq[::-1]] * (frames // (2 * len(seq)) + 1))[:frames]


def adaptation_counts(value: str) -> tuple[int, int]:
    """(updates, windows in memory) from the diagnostics' "on: 3 updates, 5 windows ..."."""
    match = re.match(r"on: (\d+) updates, (\d+) windows in memory", value)
    assert match, value
    return int(match[1]), int(match[2])


def stamp(k: int) -> int:
    return T0 + round(k * NS_PER_S / 30)


class Session:
    """The node process plus a client node with the subscriptions every test reads."""

    def __init__(self, env: dict[str, str], tmp_path: Path, **params) -> None:
        values = {"diagnostics_period": 0.5, **params}
        params_file = write_params(tmp_path / "params.yaml", values)
        command = [sys.executable, "-m", "dynapurls_ros.ros.node"]
        self.node = NodeProcess([*command, "--ros-args", "--params-file", str(params_file)], env)
        self.client = RosClient(env)
        self.labels = self.client.collect(ActionLabel, "/action_labels", 100)
        self.vocabularies = self.client.collect(String, f"{NODE}/vocabulary", LATCHED)
        self.diagnostics = self.client.collect(DiagnosticArray, "/diagnostics", 10)
        self.skeletons = self.client.node.create_publisher(SkeletonArray, "/skeletons", 10)

    def vocabulary(self) -> list[str]:
        return json.loads(self.vocabularies[-1].data)["labels"] if self.vocabularies else []

    def wait_for_vocabulary(self, labels: list[str], timeout: float = STARTUP_S) -> None:
        up = self.client.spin_until(
            lambda: self.vocabulary() == labels or not self.node.running(), timeout
        )
        assert up and self.node.running(), (
            f"vocabulary {labels} never active:\n{self.node.output()}"
        )

    def publish(self, msg: SkeletonArray) -> None:
        self.skeletons.publish(msg)
        self.client.spin_for(1 / 60)

    def stream(self, persons: dict[int, np.ndarray], frames: range) -> set[int]:
        """Publish frames ``frames`` of each person's recording; returns the stamps sent."""
        for k in frames:
            people = [(person, seq[k]) for person, seq in persons.items()]
            self.publish(skeleton_array_msg(people, "ntu25", stamp(k), "camera"))
        return {stamp(k) for k in frames}

    def frames_for_labels(self, count: int) -> int:
        """Tracker frames (30 Hz) that give each person ``count`` windows: the window and
        stride come from the node's diagnostics (window_frames, frame_rate_hz, stride_frames)."""
        values = self.diagnostic_values()
        window, rate = values["window_frames"], values["frame_rate_hz"]
        stride = int(values["stride_frames"])
        model_frames = int(window) + (count - 1) * stride
        return int(np.ceil(model_frames * 30 / float(rate))) + 5

    def diagnostic_values(self) -> dict[str, str]:
        """Key-values of the newest /diagnostics status published after this call."""
        count = len(self.diagnostics)
        assert self.client.spin_until(lambda: len(self.diagnostics) > count, 10.0)
        return {kv.key: kv.value for kv in self.diagnostics[-1].status[0].values}

    def close(self) -> tuple[int, str]:
        """Stop both ends (again after a test already did: the fixture's cleanup)."""
        if self.client.context.ok():
            self.client.close()
        return self.node.stop()


@pytest.fixture
def session_factory(ros_env, tmp_path):
    sessions: list[Session] = []

    def start(**params) -> Session:
        sessions.append(Session(ros_env, tmp_path, **params))
        return sessions[-1]

    yield start
    for session in sessions:
        session.close()


@pytest.mark.ros
def test_bad_input_is_counted_and_dropped_while_labels_keep_coming(session_factory) -> None:
    session = session_factory()
    session.wait_for_vocabulary(["wave", "clap", "point", "bow", "drink", "sit down", "fall down"])
    frames = max(150, session.frames_for_labels(3))
    persons = {1: recording("12", frames), 2: recording("6", frames)}
    good = set()
    nan = persons[1][0].copy()
    nan[4:10] = np.nan
    for k in range(frames):
        good |= session.stream(persons, range(k, k + 1))
        bad = {
            10: skeleton_array_msg([(5, nan)], "ntu25", stamp(k), "camera"),
            20: skeleton_array_msg([(6, persons[1][k][:20])], "ntu25", stamp(k), "camera"),
            30: skeleton_array_msg([(7, persons[1][k])], "bogus", stamp(k), "camera"),
            40: SkeletonArray(),
            50: skeleton_array_msg([(1, persons[1][45])], "ntu25", stamp(45), "camera"),
            60: skeleton_array_msg([(2, persons[2][k])], "ntu25", stamp(k), "camera"),
            70: skeleton_array_msg([(8, np.zeros((25, 3)))], "ntu25", stamp(k), "camera"),
            80: skeleton_array_msg([(9, persons[1][k])], "ntu25", 0, "camera"),
        }.get(k)
        if bad is not None:
            session.publish(bad)
    session.client.spin_for(1.0)
    assert session.node.running(), session.node.output()

    values = session.diagnostic_values()
    for reason in (
        "non_finite_joints",
        "wrong_joint_count",
        "unknown_layout",
        "out_of_order",
        "duplicate_stamp",
        "degenerate_skeleton",
        "missing_stamp",
    ):
        assert int(values.get(f"dropped {reason}", 0)) == 1, (reason, values)
    assert int(values["nobody_in_view"]) == 1
    assert "latency p50 ms" in values

    labels = session.labels
    assert {msg.person_id for msg in labels} == {1, 2}
    vocabulary = set(session.vocabulary())
    for msg in labels:
        assert stamp_ns(msg.header.stamp) in good and msg.header.frame_id == "camera"
        assert msg.label in vocabulary | {"unknown"} and 0.0 <= msg.confidence <= 1.0
        assert len(msg.top_labels) == 5 and set(msg.top_labels) <= vocabulary
        assert list(msg.top_scores) == sorted(msg.top_scores, reverse=True)
        assert not msg.adaptation_active  # online adaptation is off by default
    # Both persons' windows fall due together and go to the model as one batch.
    assert int(values["labels"]) == 2 * int(values["inferences"])
    code, output = session.close()
    assert code == 0, output


@pytest.mark.ros
def test_vocabulary_changes_from_another_process_and_bad_values_are_refused(
    session_factory,
) -> None:
    session = session_factory(vocabulary=["wave", "clap", "point"], max_vocabulary=5)
    session.wait_for_vocabulary(["wave", "clap", "point"])
    client = session.client

    def refused(parameter: ParameterMsg) -> str:
        result = client.set_raw_parameter(NODE, parameter)
        assert not result.successful
        return result.reason

    def strings(name: str, values: list[str]) -> ParameterMsg:
        return Parameter(name, Parameter.Type.STRING_ARRAY, values).to_parameter_msg()

    assert "vocabulary is empty" in refused(strings("vocabulary", []))
    assert "is blank" in refused(strings("vocabulary", ["wave", "  "]))
    assert "duplicates" in refused(strings("vocabulary", ["Wave", "wave"]))
    assert "at most 5" in refused(strings("vocabulary", list("abcdef")))
    assert "reserved" in refused(strings("vocabulary", ["wave", "unknown"]))
    assert "Wrong parameter type" in refused(
        Parameter("vocabulary", Parameter.Type.STRING, "wave").to_parameter_msg()
    )
    # `ros2 param set /action_recognizer vocabulary "[]"` sends an empty bool array.
    assert "Wrong parameter type" in refused(
        ParameterMsg(
            name="vocabulary", value=ParameterValue(type=ParameterType.PARAMETER_BOOL_ARRAY)
        )
    )
    assert "cannot read description" in refused(
        Parameter("descriptions_file", value="/nonexistent/bank.yaml").to_parameter_msg()
    )
    assert "read-only" in refused(Parameter("input_topic", value="/x").to_parameter_msg())
    assert "out of range" in refused(Parameter("top_k", value=0).to_parameter_msg())
    assert client.get_parameters(NODE, ["vocabulary"]) == {"vocabulary": ["wave", "clap", "point"]}

    # What `ros2 param set /action_recognizer vocabulary "['sit down', 'stand up']"` sends.
    bank = str(config_dir() / "descriptions" / "nw_ucla.yaml")
    results = client.set_parameters(
        NODE, vocabulary=["sit down", "stand up"], descriptions_file=bank
    )
    assert all(r.successful for r in results), results
    session.wait_for_vocabulary(["sit down", "stand up"], timeout=60.0)

    frames = session.frames_for_labels(2)
    persons = {3: recording("6", 4 * frames)}
    session.labels.clear()
    session.stream(persons, range(frames))
    assert session.client.spin_until(lambda: len(session.labels) >= 2, 10.0)
    for msg in session.labels:
        assert msg.person_id == 3 and set(msg.top_labels) == {"sit down", "stand up"}

    assert client.set_parameters(NODE, min_confidence=1.0)[0].successful
    session.labels.clear()
    session.stream(persons, range(frames, 2 * frames))
    assert session.client.spin_until(lambda: len(session.labels) >= 2, 10.0)
    assert {msg.label for msg in session.labels} == {"unknown"}

    # Online adaptation switched on live, gated open (every window enters the memory and
    # an update may run at once): labels must then report refined texts, the diagnostics
    # the memory's content, and the reset must empty it.
    assert session.diagnostic_values()["adaptation"] == "off"
    results = client.set_parameters(
        NODE, adaptation_enabled=True, adaptation_threshold=0.0, adaptation_min_balance=0.0
    )
    assert all(r.successful for r in results), results
    session.labels.clear()
    session.stream(persons, range(2 * frames, 4 * frames))
    assert session.client.spin_until(
        lambda: any(msg.adaptation_active for msg in session.labels), 10.0
    ), [msg.adaptation_active for msg in session.labels]
    updates, windows = adaptation_counts(session.diagnostic_values()["adaptation"])
    assert updates >= 1 and windows >= 1
    reset = client.call(Trigger, f"{NODE}/reset_adaptation", Trigger.Request())
    assert reset.success and "cleared" in reset.message
    assert adaptation_counts(session.diagnostic_values()["adaptation"]) == (0, 0)
    code, output = session.close()
    assert code == 0, output


@pytest.mark.ros
def test_invalid_parameter_file_stops_the_node_with_the_reason(ros_env, tmp_path) -> None:
    params_file = write_params(tmp_path / "bad.yaml", {"vocabulary": ["wave", "Wave"]})
    command = [sys.executable, "-m", "dynapurls_ros.ros.node"]
    node = NodeProcess([*command, "--ros-args", "--params-file", str(params_file)], ros_env)
    node.process.wait(timeout=STARTUP_S)
    code, output = node.stop()
    assert code == 1
    assert "cannot start" in output and "duplicates" in output
