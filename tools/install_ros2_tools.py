"""Install the real ROS 2 launch and command-line tools into a venv from their sources.

No package registry carries ``launch``, ``launch_ros``, ``launch_testing`` or ``ros2cli``
(``ros2 launch``, ``ros2 param``, ``ros2 topic``, ``ros2 run``); a ROS 2 installation
brings them, and ``../shared/ros2-src`` holds their upstream sources (README there) so
that the tests here run the tools a user types instead of stand-ins.

Each Python package is built in place by pip, and the shared folder is read-only, so the
sources are copied to a build folder first. ``composition_interfaces`` (imported by
launch_ros, no wheel) is built with CMake into the venv prefix like the project's own
messages. The Makefile runs this only where the source folder exists; without it the
tests that need the tools skip with that reason.

    python tools/install_ros2_tools.py SRC_DIR VENV BUILD_DIR
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# In dependency order: pip runs with --no-deps, so each one's ROS dependencies must
# already be there.
PYTHON_PACKAGES = (
    "rosidl_runtime_py",
    "launch/launch",
    "launch/launch_xml",
    "launch/launch_yaml",
    "launch/launch_testing",
    "ros2cli/ros2cli",
    "launch_ros/launch_ros",
    "launch_ros/launch_testing_ros",
    "launch_ros/ros2launch",
    "ros2cli/ros2pkg",
    "ros2cli/ros2node",
    "ros2cli/ros2param",
    "ros2cli/ros2topic",
    "ros2cli/ros2service",
    "ros2cli/ros2run",
    "ros2cli/ros2interface",
)
CMAKE_PACKAGES = ("rcl_interfaces/composition_interfaces",)


def run(command: list[str], log: Path) -> None:
    """Run ``command``, its output appended to ``log``; on failure show the log's end."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text().splitlines()[-40:]
        raise SystemExit("\n".join([f"failed: {' '.join(command)}", *tail]))


def main(source: Path, venv: Path, build: Path) -> int:
    if not source.is_dir():
        raise SystemExit(f"install_ros2_tools: no source folder {source}")
    python = str(venv / "bin" / "python")
    copy = build / "src"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    log = build / "install.log"
    log.write_text("")
    for package in PYTHON_PACKAGES:
        pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        run([*pip, str(copy / package)], log)
    for package in CMAKE_PACKAGES:
        out = build / Path(package).name
        run(
            [
                "cmake",
                "-S",
                str(copy / package),
                "-B",
                str(out),
                f"-DCMAKE_INSTALL_PREFIX={venv}",
                f"-DCMAKE_PREFIX_PATH={venv}",
                f"-DPython3_EXECUTABLE={python}",
                "-DBUILD_TESTING=OFF",
            ],
            log,
        )
        run(["cmake", "--build", str(out), "-j2"], log)
        run(["cmake", "--install", str(out)], log)
    print(f"install_ros2_tools: launch, launch_ros, launch_testing and ros2cli from {source}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*(Path(arg).resolve() for arg in sys.argv[1:])))
