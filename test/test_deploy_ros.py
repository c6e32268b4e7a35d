"""Train, then deploy: a checkpoint the user trained with ``dynapurls train`` on their
own recordings runs in the node, and a window length it was not trained for is refused
with the reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_node_ros import Session, recording

from dynapurls_ros.datasets import load_dataset

pytestmark = [pytest.mark.ros, pytest.mark.slow]  # trains a checkpoint first

WINDOW = 32  # not the shipped model's, so the node must take it from the checkpoint


@pytest.fixture(scope="module")
def own_checkpoint(tmp_path_factory) -> tuple[Path, list[str]]:
    """A checkpoint trained by the CLI on a .npy folder of GTU-3D clips (one epoch)."""
    folder = tmp_path_factory.mktemp("recordings")
    gtu = load_dataset("gtu3d", mirror=False)
    rows = ["file,label"]
    for i, sample in enumerate(gtu.samples[::40][:12]):
        np.save(folder / f"rec{i}.npy", np.asarray(sample.joints))
        rows.append(f"rec{i}.npy,{gtu.class_names[sample.label]}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    checkpoint = folder / "own.pt"
    subprocess.run(
        [sys.executable, "-m", "dynapurls_ros", "train", "--npy-folder", str(folder),
         "-o", str(checkpoint), "--encoder-epochs", "1", "--align-epochs", "1",
         "--views", "1", "--window-length", str(WINDOW)],
        check=True, timeout=600, capture_output=True,
    )  # fmt: skip
    return checkpoint, sorted({row.split(",", 1)[1] for row in rows[1:]})


def test_node_runs_a_user_trained_checkpoint(own_checkpoint, ros_env, tmp_path) -> None:
    checkpoint, labels = own_checkpoint
    session = Session(ros_env, tmp_path, checkpoint=str(checkpoint), vocabulary=labels)
    try:
        session.wait_for_vocabulary(labels)
        values = session.diagnostic_values()
        assert (values["window_frames"], values["frame_rate_hz"]) == (str(WINDOW), "30")
        frames = session.frames_for_labels(2)
        session.stream({4: recording("6", frames)}, range(frames))
        assert session.client.spin_until(lambda: len(session.labels) >= 2, 10.0)
        for msg in session.labels:
            assert msg.person_id == 4 and set(msg.top_labels) <= set(labels)
    finally:
        code, output = session.close()
    assert code == 0, output
