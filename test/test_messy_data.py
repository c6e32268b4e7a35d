"""Offline tools on real, messy recordings: lost-tracking frames (all joints at 0, as
Kinect trackers send them), NaN joints, collapsed torsos, clips shorter than a window and
unreadable files are repaired or skipped clip by clip, named with the reason and counted
in metrics.json; only a folder with nothing usable fails, with a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS

pytestmark = pytest.mark.slow

DYNAPURLS = [sys.executable, "-m", "dynapurls_ros"]
SPINE_BASE, SPINE_SHOULDER = NTU25_JOINTS.index("spine_base"), NTU25_JOINTS.index("spine_shoulder")


def messy_folder(folder: Path) -> None:
    """Real GTU-3D walking / crouching clips (longer than a window of the shipped model,
    but one), most of them damaged in one way."""
    gtu = load_dataset("gtu3d", mirror=False)

    def clips_of(action: str) -> list[np.ndarray]:
        label = gtu.class_names.index(action)
        return [s.joints for s in gtu.samples if s.label == label and len(s.joints) >= 64]

    walking, crouching = clips_of("walking"), clips_of("crouching")
    lost = np.array(walking[1])
    lost[20:35] = 0.0  # tracking lost for half a second
    holes = np.array(crouching[0])
    holes[::7, 5:9] = np.nan  # an arm missing in every 7th frame
    collapsed = np.array(crouching[1])
    collapsed[10:14, SPINE_SHOULDER] = collapsed[10:14, SPINE_BASE]
    clips = {
        "clean": (walking[0], "walk"),
        "lost_frames": (lost, "walk"),
        "never_tracked": (np.zeros_like(walking[2]), "walk"),
        "nan_joints": (holes, "crouch"),
        "short": (np.array(crouching[2][:3]), "crouch"),
        "collapsed_torso": (collapsed, "crouch"),
    }
    rows = ["file,label"]
    for name, (joints, label) in clips.items():
        np.save(folder / f"{name}.npy", joints)
        rows.append(f"{name}.npy,{label}")
    (folder / "broken.npy").write_bytes(b"not an array")
    rows.append("broken.npy,walk")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


def evaluate(folder: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DYNAPURLS, "evaluate", "--npy-folder", str(folder), "--output-dir", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_evaluate_and_train_go_on_past_bad_clips_and_count_them(tmp_path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    messy_folder(folder)
    result = evaluate(folder, tmp_path / "eval")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_clips"] == 5 and metrics["num_short"] == 1
    skipped = {row["clip"]: row["reason"] for row in metrics["skipped"]}
    assert metrics["num_skipped"] == 2 and set(skipped) == {
        "npy_folder/never_tracked",
        "npy_folder/broken.npy",
    }
    assert "no tracked body" in skipped["npy_folder/never_tracked"]
    assert "cannot load" in skipped["npy_folder/broken.npy"]
    repaired = {row["clip"]: row["repair"] for row in metrics["repaired"]}
    assert repaired == {
        "npy_folder/lost_frames": "15 lost-tracking frames dropped",
        "npy_folder/nan_joints": "missing joints filled",
        "npy_folder/collapsed_torso": "4 lost-tracking frames dropped",
    }
    assert metrics["num_repaired"] == 3
    for name in skipped:
        assert f"skipped {name}: " in result.stderr

    trained = subprocess.run(
        [*DYNAPURLS, "train", "--npy-folder", str(folder), "-o", str(tmp_path / "own.pt"),
         "--encoder-epochs", "1", "--align-epochs", "1", "--views", "1"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "skipped npy_folder/never_tracked" in trained.stderr


def test_nothing_usable_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "labels.csv").write_text("file,label\nzeros.npy,walk\nbroken.npy,walk\n")
    np.save(tmp_path / "zeros.npy", np.zeros((40, 25, 3), dtype=np.float32))
    (tmp_path / "broken.npy").write_bytes(b"not an array")
    result = evaluate(tmp_path, tmp_path / "eval")
    assert result.returncode == 2
    assert "no usable clip" in result.stderr and "zeros" in result.stderr
    assert "Traceback" not in result.stderr
