"""Where the package finds data, caches and its installed share files.

Every location can be overridden by an environment variable, because the same code
runs from a source checkout, a ``pip install`` on a GPU box and a colcon install on a
robot.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def data_root() -> Path:
    """Root of the skeleton datasets: ``$DYNAPURLS_DATA``, else ``../shared/data`` of the
    source checkout, else that of the working directory: an installed copy of the
    package (the venv's ``dynapurls`` script) lives far from any checkout, and is run
    from one."""
    env = os.environ.get("DYNAPURLS_DATA")
    if env:
        return Path(env).expanduser()
    candidates = [root.parent / "shared" / "data" for root in (SOURCE_ROOT, Path.cwd())]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def cache_dir() -> Path:
    """Writable cache (text features, ...): ``$DYNAPURLS_CACHE``, else the user cache."""
    env = os.environ.get("DYNAPURLS_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "dynapurls_ros"
    path.mkdir(parents=True, exist_ok=True)
    return path


def share_dir() -> Path:
    """Directory holding ``config/`` and ``launch/``.

    A source checkout keeps them next to the package; a colcon install keeps them in
    ``share/dynapurls_ros`` of the ament prefix (or of the venv, after ``pip install``).
    """
    if (SOURCE_ROOT / "config").is_dir():
        return SOURCE_ROOT
    installed = Path(sys.prefix) / "share" / "dynapurls_ros"
    if (installed / "config").is_dir():
        return installed
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("dynapurls_ros"))
    except (ImportError, LookupError, KeyError, ValueError):
        return SOURCE_ROOT


def config_dir() -> Path:
    return share_dir() / "config"
