"""`make demo` (`python -m dynapurls_ros demo`): tracker, node and listener as three
processes, with the GTU-3D recordings and with the synthetic fallback used where the
data folder has none."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dynapurls_ros.paths import data_root

pytestmark = pytest.mark.ros

SEQUENCES = 2


def run_demo(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dynapurls_ros", "demo", "--count", str(SEQUENCES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check_output(output: str, vocabulary_holds: str) -> None:
    """Every replayed sequence got labels, each line names the true action."""
    assert vocabulary_holds in output.splitlines()[0], output
    summary = re.search(r"majority label right for (\d+) of (\d+) replayed sequences", output)
    assert summary, output
    assert int(summary[2]) == SEQUENCES, output
    assert re.search(r"person 1: .+\(replaying: .+\)", output), output


def test_demo_on_the_gtu3d_recordings(ros_env) -> None:
    assert (data_root() / "gtu3d").is_dir(), "the demo test needs $DYNAPURLS_DATA/gtu3d"
    check_output(run_demo(ros_env), "'neck relaxation'")


def test_demo_falls_back_to_synthetic_motions_without_data(ros_env, tmp_path: Path) -> None:
    check_output(run_demo({**ros_env, "DYNAPURLS_DATA": str(tmp_path)}), "'kick'")
