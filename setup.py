"""pip install of the ROS-free core (data, model, training, evaluation, recognizer).

On a robot, colcon builds the package with CMakeLists.txt instead (messages + node);
this file lets a GPU box without ROS train and evaluate with `pip install .`.
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def requirements() -> list[str]:
    lines = (ROOT / "requirements" / "python.txt").read_text().splitlines()
    wanted = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [r for r in wanted if r not in {"pytest", "ruff"}]


def share_files(folder: str) -> list[tuple[str, list[str]]]:
    """(destination, files) pairs installing `folder` under share/dynapurls_ros."""
    groups: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).rglob("*")):
        if path.is_file():
            rel = path.relative_to(ROOT)
            groups.setdefault(f"share/dynapurls_ros/{rel.parent}", []).append(str(rel))
    return sorted(groups.items())


setup(
    name="dynapurls_ros",
    version="0.1.0",
    description="Zero-shot skeleton-based action recognition (DynaPURLS) for robots",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["dynapurls_ros", "dynapurls_ros.*"]),
    package_data={"dynapurls_ros": ["weights/*.pt"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/dynapurls_ros"]),
        ("share/dynapurls_ros", ["package.xml"]),
        *share_files("config"),
        *share_files("launch"),
    ],
    install_requires=requirements(),
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": ["dynapurls = dynapurls_ros.cli:main"]},
)
