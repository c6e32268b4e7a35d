"""Test-wide settings: keep ROS 2 discovery on this machine, in a domain of our own.

These variables must be set before any process imports rclpy, so they are set here (for
in-process use) and passed on to every subprocess the tests start.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 100)))
os.environ.setdefault("AMENT_PREFIX_PATH", sys.prefix)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Text-feature caches of test runs stay in the checkout's ignored .cache/ folder.
os.environ.setdefault("DYNAPURLS_CACHE", str(REPO_ROOT / ".cache"))


@pytest.fixture
def ros_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a subprocess that starts rclpy: localhost discovery, a fresh
    domain id per test (so tests never see each other's nodes), the checkout first on
    PYTHONPATH, and a private cache/log dir."""
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(random.randint(1, 100))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["ROS_LOG_DIR"] = str(tmp_path / "ros_log")
    env["PYTHONUNBUFFERED"] = "1"
    return env
