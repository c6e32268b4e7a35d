"""Point the ROS message wheels' exported CMake files at this Python's include dirs.

The PyPI ROS wheels were built under /opt/python/cpXY-cpXY; their exported CMake
targets name that prefix's Python and numpy include directories, so CMake refuses to
build any package against them ("includes non-existent path"). Rewriting those two
paths to this interpreter's real ones lets `rosidl_generate_interfaces` build here.
Idempotent: run it after every install of message wheels.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy

PYTHON_INCLUDE = re.compile(r"/opt/python/cp\d+-cp\d+/include/python3\.\d+")
NUMPY_INCLUDE = re.compile(
    r"/opt/python/cp\d+-cp\d+/lib/python3\.\d+/site-packages/numpy/_core/include"
)


def main(prefix: str) -> int:
    python_include = sysconfig.get_paths()["include"]
    numpy_include = numpy.get_include()
    changed = 0
    for path in Path(prefix, "share").glob("*/cmake/*.cmake"):
        text = path.read_text()
        fixed = NUMPY_INCLUDE.sub(numpy_include, PYTHON_INCLUDE.sub(python_include, text))
        if fixed != text:
            path.write_text(fixed)
            changed += 1
    print(f"fix_wheel_cmake_paths: rewrote {changed} CMake files under {prefix}/share")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else sys.prefix))
