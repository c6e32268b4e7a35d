"""The build installs the package as colcon would: an ament prefix that ROS tools read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ament_index_python.packages import get_package_prefix, get_package_share_directory


def test_share_holds_launch_and_config() -> None:
    share = Path(get_package_share_directory("dynapurls_ros"))
    assert (share / "package.xml").is_file()
    assert (share / "launch").is_dir()
    assert (share / "config" / "descriptions").is_dir()


def test_executables_installed_where_ros2_run_looks() -> None:
    lib = Path(get_package_prefix("dynapurls_ros")) / "lib" / "dynapurls_ros"
    for name in ("recognizer", "replay"):
        assert os.access(lib / name, os.X_OK), f"{name} is not an executable in {lib}"


def test_python_package_and_messages_import_together() -> None:
    from dynapurls_ros.msg import ActionLabel, Skeleton, SkeletonArray

    import dynapurls_ros

    assert dynapurls_ros.__version__
    assert {ActionLabel.__name__, Skeleton.__name__, SkeletonArray.__name__} == {
        "ActionLabel",
        "Skeleton",
        "SkeletonArray",
    }


def _bare_env() -> dict[str, str]:
    """The environment of a shell where the venv was never activated: only the system's
    directories on PATH, so a ``#!/usr/bin/env python3`` script gets the system Python."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


@pytest.mark.parametrize("script", ["bin/dynapurls", "lib/dynapurls_ros/replay"])
def test_installed_scripts_run_when_called_by_path(script: str) -> None:
    path = Path(get_package_prefix("dynapurls_ros")) / script
    result = subprocess.run(
        [str(path), "--help"], env=_bare_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_installed_node_runs_when_called_by_path(ros_env: dict[str, str]) -> None:
    """The node has no --help; an out-of-range parameter makes it start, refuse and exit,
    which only an interpreter that imports the package and rclpy gets to."""
    path = Path(get_package_prefix("dynapurls_ros")) / "lib" / "dynapurls_ros" / "recognizer"
    env = {k: v for k, v in ros_env.items() if k != "PYTHONPATH"}
    env["PATH"] = _bare_env()["PATH"]
    result = subprocess.run(
        [str(path), "--ros-args", "-p", "top_k:=0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot start" in result.stderr and "top_k" in result.stderr


def test_dynapurls_runs_after_activating_the_venv(tmp_path: Path) -> None:
    activate = Path(sys.prefix) / "bin" / "activate"
    result = subprocess.run(
        ["bash", "-c", f". {activate} && cd {tmp_path} && dynapurls --help"],
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "evaluate" in result.stdout


def test_installed_package_run_from_the_checkout_finds_the_datasets() -> None:
    """`dynapurls train` from the venv imports the installed copy, which lives in
    site-packages, far from ``../shared/data``; run from the checkout it must still find
    the data the checkout's own copy finds (without ``$DYNAPURLS_DATA``)."""
    from dynapurls_ros.paths import SOURCE_ROOT, data_root

    if not (SOURCE_ROOT.parent / "shared" / "data").is_dir():
        pytest.skip("no ../shared/data next to this checkout (a colcon workspace copy)")
    env = {k: v for k, v in os.environ.items() if k != "DYNAPURLS_DATA"}
    code = "import dynapurls_ros.paths as p; print(p.PACKAGE_DIR); print(p.data_root())"
    result = subprocess.run(
        [sys.executable, "-P", "-c", code],  # -P: the installed copy, not the checkout's
        cwd=SOURCE_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    package_dir, root = result.stdout.split()
    assert Path(package_dir) != SOURCE_ROOT / "dynapurls_ros"
    assert Path(root) == SOURCE_ROOT.parent / "shared" / "data"
    if "DYNAPURLS_DATA" not in os.environ:
        assert Path(root) == data_root()
