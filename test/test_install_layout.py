"""The build installs the package as colcon would: an ament prefix that ROS tools read."""

from __future__ import annotations

import os
from pathlib import Path

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
