"""The README's robot path, as typed there: clone into a colcon workspace, ``colcon
build --packages-select dynapurls_ros``, source ``install/setup.bash``, then ``ros2``
finds the package and ``colcon test`` passes. colcon is PyPI's (requirements/
ros-tools.txt); the ROS 2 "installation" is this venv, set up as sourcing a ROS 2
setup.bash would (its prefix on AMENT_PREFIX_PATH, CMAKE_PREFIX_PATH and PATH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.ros,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("colcon") is None or shutil.which("ros2") is None,
        reason="colcon or ros2 not installed (make test installs them)",
    ),
]
REPO_ROOT = Path(__file__).resolve().parents[1]


def sourced_ros_env(ros_env: dict[str, str]) -> dict[str, str]:
    """``ros_env`` as after ``. /opt/ros/<distro>/setup.bash``, with the venv as that
    installation, and without the checkout on PYTHONPATH: the workspace must serve."""
    env = {k: v for k, v in ros_env.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["AMENT_PREFIX_PATH"] = env["CMAKE_PREFIX_PATH"] = sys.prefix
    env["PATH"] = os.pathsep.join([str(Path(sys.prefix) / "bin"), env["PATH"]])
    return env


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        ["bash", "-c", f"set -e; {script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return result.stdout


def test_colcon_build_then_ros2_and_colcon_test_in_a_workspace(ros_env, tmp_path) -> None:
    workspace = tmp_path / "ros2_ws"
    (workspace / "src").mkdir(parents=True)
    env = sourced_ros_env(ros_env)
    bash(f"cd src && git clone --quiet {REPO_ROOT} dynapurls_ros", workspace, env, 60)
    bash("colcon build --packages-select dynapurls_ros", workspace, env, 600)

    install = workspace / "install" / "dynapurls_ros"
    found = bash(
        ". install/setup.bash && ros2 pkg prefix dynapurls_ros && "
        "ros2 pkg executables dynapurls_ros",
        workspace,
        env,
        60,
    ).split("\n")
    assert found[0] == str(install)
    assert {"dynapurls_ros recognizer", "dynapurls_ros replay"} <= set(found[1:])

    tested = bash(
        ". install/setup.bash && colcon test --packages-select dynapurls_ros && "
        "colcon test-result --verbose",
        workspace,
        env,
        900,
    )
    assert "0 errors, 0 failures" in tested, tested
