"""Training and zero-shot evaluation on real NW-UCLA / GTU-3D files (tiny settings)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from dynapurls_ros.checkpoint import load_checkpoint, save_checkpoint
from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.training.augment import Augmentation
from dynapurls_ros.training.data import reference_description, split_classes
from dynapurls_ros.training.evaluate import evaluate, prepare
from dynapurls_ros.training.texts import MAX_PHRASINGS
from dynapurls_ros.training.train import (
    TrainConfig,
    build_model,
    load_seen,
    pretrain_encoder,
    seed_everything,
    seen_texts,
    train,
    train_encoder_stage,
)
from dynapurls_ros.training.windows import evaluation_windows, place

TINY_ENCODER = {"stem_width": 16, "widths": [32, 32], "strides": [1, 2]}
UNSEEN_8_2 = {"pick up with two hands", "sit down"}


def tiny_config(split: str, seed: int) -> TrainConfig:
    """NW-UCLA split, one epoch per stage, a small encoder: seconds, not minutes."""
    return TrainConfig(
        datasets=["nw_ucla"],
        split=split,
        encoder_epochs=1,
        align_epochs=1,
        views=1,
        encoder=TINY_ENCODER,
        seed=seed,
    )


@pytest.fixture(scope="module")
def tiny_run():
    return train(tiny_config("8/2", seed=3), progress=False)


def test_training_sees_only_seen_classes(tiny_run) -> None:
    info = tiny_run.info
    assert len(info.seen_labels) == 8
    assert not UNSEEN_8_2 & set(info.seen_labels)
    dataset = load_dataset("nw_ucla")
    by_name = {f"nw_ucla/{s.name}": dataset.class_names[s.label] for s in dataset.samples}
    assert info.heldout, "a share of the seen clips is held out for GZSL"
    assert all(by_name[name] not in UNSEEN_8_2 for name in info.heldout)


def test_stage1_text_alignment_trains_the_global_projection_early() -> None:
    """``text_weight``: stage 1 aligns labelled windows with their global descriptions,
    so the global projection leaves stage 1 trained; without it stage 1 leaves it as
    initialised (stage 2 alone trains it)."""
    config = tiny_config("5/5", seed=1)
    data = load_seen(config)
    texts = seen_texts(data, config)
    for weight in (0.0, 1.0):
        aligned = replace(config, text_weight=weight)
        seed_everything(1)
        model = build_model(aligned, texts.variants.shape[-1], len(data.classes.names))
        before = [p.detach().clone() for p in model.global_proj.parameters()]
        history = pretrain_encoder(model, data, aligned, progress=False, texts=texts)
        after = model.global_proj.parameters()
        moved = any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
        assert moved == (weight > 0)
        assert (history[0]["text_loss"] > 0) == (weight > 0)
    with pytest.raises(ValueError, match="text_weight"):
        pretrain_encoder(model, data, replace(config, text_weight=1.0), progress=False)


def test_augmented_varied_run_trains_mirrored_twins_with_every_phrasing() -> None:
    """UTD-MHAD 22/5 with mirroring and varied phrasings: the sided seen classes get
    twins (one aux class each), every phrasing is encoded, and the checkpoint records
    only the dataset's own seen classes."""
    config = replace(
        tiny_config("5/5", seed=0),
        datasets=["utd_mhad"],
        split="22/5",
        descriptions="varied",
        augmentation=Augmentation(mirror=0.5, sensors=0.5, bones=True, jitter=0.02),
    )
    stage = train_encoder_stage(config, progress=False)
    classes = stage.data.classes
    assert classes.num_seen == 22 and len(classes.names) > 22
    assert "left hand wave" in classes.names and "right hand wave" in classes.names
    assert stage.model.aux_head.out_features == len(classes.names)
    assert stage.texts.variants.shape[0] == len(classes.names)
    assert stage.texts.variants.shape[1] <= MAX_PHRASINGS
    assert (stage.texts.counts >= 2).all()  # the description and the label at least
    assert set(stage.labels.tolist()) > set(range(22))  # some views were mirrored
    result = stage.align()
    assert result.info.seen_labels == classes.names[:22]
    assert TrainConfig(**result.info.settings).augmentation == config.augmentation


def test_checkpoint_round_trip_is_weights_only(tiny_run, tmp_path) -> None:
    path = save_checkpoint(tmp_path / "model.pt", tiny_run.model, tiny_run.info)
    raw = torch.load(path, weights_only=True)
    assert raw["run"]["seen_labels"] == tiny_run.info.seen_labels
    assert raw["config"]["text_encoder"] == "minilm"
    model, info = load_checkpoint(path)
    x = torch.randn(2, 3, info.window_length, 25)
    text = torch.randn(3, 8, 384)
    with torch.inference_mode():
        assert torch.allclose(model(x, text), tiny_run.model(x, text), atol=1e-5)


def test_corrupt_checkpoint_names_the_file(tmp_path) -> None:
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="broken.pt"):
        load_checkpoint(bad)


def test_zero_shot_evaluation_reports_unseen_metrics(tiny_run, tmp_path) -> None:
    setup = prepare(tiny_run.info, ["nw_ucla"], "8/2", "bank")
    result = evaluate(tiny_run.model, tiny_run.info, setup, tmp_path)
    dataset = load_dataset("nw_ucla")
    expected = sum(dataset.class_names[s.label] in UNSEEN_8_2 for s in dataset.samples)
    assert set(result["classes"]) == UNSEEN_8_2
    assert result["num_clips"] == expected
    assert 0.0 <= result["top1"] <= 100.0 and result["top5"] == 100.0  # two candidates
    assert set(result["gzsl"]) == {"seen", "unseen", "harmonic"}
    assert json.loads((tmp_path / "metrics.json").read_text())["top1"] == result["top1"]
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_random_splits_are_reproducible_from_their_name() -> None:
    seen, unseen = split_classes("nw_ucla", "random5-3", 10)
    assert (seen, unseen) == split_classes("nw_ucla", "random5-3", 10)
    assert len(unseen) == 5 and sorted(seen + unseen) == list(range(10))
    assert unseen != split_classes("nw_ucla", "random5-4", 10)[1]
    with pytest.raises(ValueError, match="unseen"):
        split_classes("nw_ucla", "random10-0", 10)


def test_reference_descriptions_are_the_authors_eight_texts() -> None:
    desc = reference_description("nw_ucla", "throw")
    assert len(desc.texts) == 8 and all(desc.texts)
    with pytest.raises(ValueError, match="no NW-UCLA entry"):
        reference_description("nw_ucla", "juggle")
    with pytest.raises(ValueError, match="no sheet"):
        reference_description("gtu3d", "walking")


def test_windows_hold_the_edge_poses_of_short_clips() -> None:
    clip = np.arange(10 * 25 * 3, dtype=np.float32).reshape(10, 25, 3)
    window = place(clip, 16, -3)
    assert np.array_equal(window[:4], np.repeat(clip[:1], 4, axis=0))
    assert np.array_equal(window[3:13], clip)
    assert np.array_equal(window[13:], np.repeat(clip[-1:], 3, axis=0))
    gtu = load_dataset("gtu3d").samples[0].joints
    assert evaluation_windows(gtu, 16).shape[1:] == (3, 16, 25)
    assert evaluation_windows(gtu[:5], 16).shape == (1, 3, 16, 25)


def test_cli_trains_and_evaluates_users_own_recordings(tmp_path) -> None:
    """The generic format: a folder of .npy (frames x joints x 3) plus file,label CSV."""
    gtu = load_dataset("gtu3d", mirror=False)
    rows = ["file,label"]
    for i, sample in enumerate(gtu.samples[::40][:12]):
        name = f"rec{i}.npy"
        np.save(tmp_path / name, np.asarray(sample.joints))
        rows.append(f"{name},{gtu.class_names[sample.label]}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    labels = sorted({row.split(",", 1)[1] for row in rows[1:]})
    checkpoint = tmp_path / "own.pt"
    common = ["--npy-folder", str(tmp_path), "--layout", "ntu25"]
    run = [sys.executable, "-m", "dynapurls_ros"]
    subprocess.run(
        [*run, "train", *common, "-o", str(checkpoint), "--encoder-epochs", "1",
         "--align-epochs", "1", "--views", "1"],
        check=True, timeout=300,
    )  # fmt: skip
    out = subprocess.run(
        [*run, "evaluate", *common, "--checkpoint", str(checkpoint), "--output-dir",
         str(tmp_path / "eval"), "--vocabulary", *labels, "unrelated action"],
        check=True, timeout=300, capture_output=True, text=True,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_clips"] == 12
    assert metrics["classes"] == [*labels, "unrelated action"]
    assert "top1" in out.stdout
    # the same clips streamed class by class through the online refinement
    subprocess.run(
        [*run, "evaluate", *common, "--checkpoint", str(checkpoint), "--output-dir",
         str(tmp_path / "refine"), "--refine", "--stream", "blocked", "--stream-orders", "2",
         "--threshold", "0"],
        check=True, timeout=300, capture_output=True, text=True,
    )  # fmt: skip
    refined = json.loads((tmp_path / "refine" / "refinement.json").read_text())
    assert refined["stream"] == "blocked" and refined["num_clips"] == 12
    assert [row["order"] for row in refined["orders"]] == [0, 1]
    assert refined["config"]["threshold"] == 0.0
