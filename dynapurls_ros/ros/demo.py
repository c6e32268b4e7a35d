"""`dynapurls demo` (`make demo`): the recognizer node on a replayed stream, labels printed.

Three processes, as on a robot: the stand-in tracker (`replay`) publishes skeletons, the
`action_recognizer` node publishes `/action_labels`, and this process listens and prints
each label next to the true action of the sequence being replayed. GTU-3D sequences are
replayed when `$DYNAPURLS_DATA` has them; otherwise synthetic motions
(:mod:`dynapurls_ros.synthetic`) are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from dynapurls_ros.paths import data_root
from dynapurls_ros.ros.domains import lease_domain_id

DISTRACTORS = ["clap", "sit down", "jump", "kick"]


def _stream(count: int, workdir: Path) -> tuple[list[str], list[str]]:
    """Replay arguments and the vocabulary to recognise."""
    if (data_root() / "gtu3d").is_dir():
        from dynapurls_ros.datasets import load_dataset

        vocabulary = list(load_dataset("gtu3d").class_names)
        return ["--dataset", "gtu3d", "--count", str(count), "--seed", "1"], vocabulary
    from dynapurls_ros.synthetic import MOTIONS, motion

    files = []
    for label in list(MOTIONS)[:count]:
        path = workdir / f"{label}.npy"
        np.save(path, motion(label))
        files.append(str(path))
    return ["--npy", *files], [*MOTIONS, *DISTRACTORS]


def run_demo(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    # Demo processes keep DDS discovery on this machine unless the caller chose otherwise.
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if "ROS_DOMAIN_ID" not in env:
        lease = lease_domain_id()  # held until this process exits
        env["ROS_DOMAIN_ID"] = str(lease.id)
    os.environ.update(env)
    import rclpy
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    from dynapurls_ros.msg import ActionLabel

    with tempfile.TemporaryDirectory() as tmp:
        replay_args, vocabulary = _stream(args.count, Path(tmp))
        print(f"vocabulary: {vocabulary}", flush=True)
        node = subprocess.Popen(
            [sys.executable, "-m", "dynapurls_ros.ros.node", "--ros-args",
             "-p", f"vocabulary:={json.dumps(vocabulary)}", "-p", "window_stride:=12"],
            env=env,
        )  # fmt: skip
        replayed: list[str] = []  # the true action of each sequence, in replay order
        # votes of each sequence: (person, index into replayed) -> label counts
        votes: dict[tuple[int, int], Counter] = {}
        current: dict[int, int] = {}  # person -> index of the sequence now replayed

        rclpy.init()
        listener = rclpy.create_node("demo_listener")

        def on_label(msg: ActionLabel) -> None:
            true = "?"
            if msg.person_id in current:
                key = (msg.person_id, current[msg.person_id])
                votes.setdefault(key, Counter())[msg.label] += 1
                true = replayed[key[1]]
            mark = "ok" if msg.label == true else "  "
            print(
                f"{mark} person {msg.person_id}: {msg.label:32s} {msg.confidence:5.2f}   "
                f"(replaying: {true})",
                flush=True,
            )

        listener.create_subscription(ActionLabel, "/action_labels", on_label, 50)
        # Replay only once the node has loaded its model and encoded the vocabulary.
        ready: list[String] = []
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        listener.create_subscription(String, "/action_recognizer/vocabulary", ready.append, latched)
        while not ready and node.poll() is None:
            rclpy.spin_once(listener, timeout_sec=0.1)
        replay = subprocess.Popen(
            [sys.executable, "-m", "dynapurls_ros.ros.replay", *replay_args, "--wait", "60"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )

        def follow_replay() -> None:
            for line in replay.stdout:
                event = json.loads(line)
                current[event["person_id"]] = len(replayed)
                replayed.append(event["label"])

        reader = threading.Thread(target=follow_replay, daemon=True)
        reader.start()
        try:
            while replay.poll() is None and node.poll() is None:
                rclpy.spin_once(listener, timeout_sec=0.1)
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                rclpy.spin_once(listener, timeout_sec=0.1)
        finally:
            replay.terminate()
            node.terminate()
            node.wait(timeout=20)
            listener.destroy_node()
            rclpy.try_shutdown()
    right = sum(
        replayed[index] == counter.most_common(1)[0][0] for (_, index), counter in votes.items()
    )
    unlabelled = len(replayed) - len(votes)
    print(
        f"majority label right for {right} of {len(replayed)} replayed sequences"
        + (f" ({unlabelled} got no label)" if unlabelled else "")
    )
    return 0 if node.returncode in (0, -15) else 1
