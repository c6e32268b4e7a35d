"""Test-wide settings: keep ROS 2 discovery on this machine, in a domain of our own.

These variables must be set before any process imports rclpy, so they are set here (for
in-process use) and passed on to every subprocess the tests start. Domain ids are leased
(``dynapurls_ros.ros.domains``): no two tests, of this run or of a concurrent one on the
same machine, share one.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynapurls_ros.ros.domains import lease_domain_id

REPO_ROOT = Path(__file__).resolve().parents[1]

# A run started in the background of a non-interactive shell (`make test &`, some CI
# runners) inherits SIGINT ignored, and so would every node and `ros2 launch` the tests
# start: they could not be stopped the way Ctrl-C and launch stop them. Undo that.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
if "ROS_DOMAIN_ID" not in os.environ:
    # Held for the whole session (released when pytest exits).
    _SESSION_DOMAIN = lease_domain_id()
    os.environ["ROS_DOMAIN_ID"] = str(_SESSION_DOMAIN.id)
os.environ.setdefault("AMENT_PREFIX_PATH", sys.prefix)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Text-feature caches of test runs stay in the checkout's ignored .cache/ folder.
os.environ.setdefault("DYNAPURLS_CACHE", str(REPO_ROOT / ".cache"))

# The stand-in of the launch classes is the fallback where launch_ros is absent; with the
# real tools installed, test_launch.py runs `ros2 launch` and `launch_test` instead.
collect_ignore = (
    ["test_launch_stand_in.py"] if importlib.util.find_spec("launch_ros") is not None else []
)


@pytest.fixture
def ros_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a subprocess that starts rclpy: localhost discovery, a domain id
    leased for this test (so no other test sees its nodes), the checkout first on
    PYTHONPATH, and a private cache/log dir."""
    lease = lease_domain_id()
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(lease.id)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["ROS_LOG_DIR"] = str(tmp_path / "ros_log")
    env["PYTHONUNBUFFERED"] = "1"
    with lease:
        yield env
