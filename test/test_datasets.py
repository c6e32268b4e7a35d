"""Dataset readers on the real files in the data root, and on fixtures for the formats
whose data is licence-gated (NTU multi-body, PKU-MMD) or for corrupt files."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dynapurls_ros.datasets import (
    DataFileError,
    available_splits,
    load_dataset,
    zero_shot_split,
)
from dynapurls_ros.datasets import gtu3d as gtu3d_module
from dynapurls_ros.datasets import nw_ucla as nw_ucla_module
from dynapurls_ros.datasets import utd_mhad as utd_mhad_module
from dynapurls_ros.datasets.base import read_data_lines
from dynapurls_ros.datasets.ntu import benchmark_part, parse_name
from dynapurls_ros.paths import data_root
from dynapurls_ros.skeleton.layouts import NTU25_JOINTS
from dynapurls_ros.training.windows import canonical_clip, evaluation_windows

C = {name: i for i, name in enumerate(NTU25_JOINTS)}
NTU_SAMPLE = data_root() / "ntu_sample" / "S001C001P001R001A001.skeleton"


def _timed_fresh_load(name: str, *caches) -> tuple:
    """Load ``name`` with its in-process caches emptied; return it and the seconds taken."""
    for cache in caches:
        cache.cache_clear()
    start = time.perf_counter()
    dataset = load_dataset(name)
    return dataset, time.perf_counter() - start


# ---- NW-UCLA -----------------------------------------------------------------------


def test_nw_ucla_real_dataset():
    dataset, seconds = _timed_fresh_load("nw_ucla", nw_ucla_module._load)
    print(f"NW-UCLA loaded in {seconds:.2f} s")
    assert seconds < 15
    assert len(dataset) == 1484
    assert dataset.layout == "kinect_v1"
    assert dataset.class_names[1] == "pick up with two hands" and len(dataset.class_names) == 10
    assert sorted(set(dataset.labels)) == list(range(10))
    assert Counter(s.view for s in dataset.samples) == {1: 516, 2: 504, 3: 464}
    assert {s.subject for s in dataset.samples} == set(range(1, 11))
    sample = next(s for s in dataset.samples if s.name == "a08_s03_e01_v02")
    assert dataset.class_names[sample.label] == "donning"
    assert (sample.subject, sample.view) == (3, 2)
    assert all(s.joints.dtype == np.float32 and s.joints.shape[1:] == (20, 3) for s in dataset)
    assert len({s.name for s in dataset.samples}) == 1484
    with pytest.raises(ValueError, match="read-only"):
        sample.joints[0, 0, 0] = 1.0
    start = time.perf_counter()
    assert load_dataset("nw_ucla").samples[0] is dataset.samples[0]  # cached
    assert time.perf_counter() - start < 0.1


def test_nw_ucla_reads_at_a_chosen_frame_rate():
    nominal = load_dataset("nw_ucla")
    measured = load_dataset("nw_ucla", fps=15)
    assert {s.fps for s in nominal.samples} == {30.0}
    assert {s.fps for s in measured.samples} == {15.0}
    assert measured.samples[0].joints is nominal.samples[0].joints  # no second read
    assert load_dataset("nw_ucla").samples[0].fps == 30.0  # the cached samples are untouched
    sample = max(nominal.samples, key=lambda s: len(s.joints))
    slow = next(s for s in measured.samples if s.name == sample.name)
    # at half the rate a clip lasts twice as long, so the model sees twice the frames
    assert len(canonical_clip(slow, "kinect_v1", 30.0)) == 2 * len(sample.joints)
    for bad in (0, -15, float("nan"), True, "15"):
        with pytest.raises(ValueError, match="nw_ucla: fps"):
            load_dataset("nw_ucla", fps=bad)


def test_nw_ucla_corrupt_json_is_skipped_and_named_with_file_and_line(tmp_path):
    real = data_root() / "nw_ucla" / "all_sqe" / "a01_s01_e00_v01.json"
    folder = tmp_path / "all_sqe"
    folder.mkdir()
    (folder / real.name).write_text(real.read_text())
    bad = folder / "a02_s01_e00_v01.json"
    bad.write_text(real.read_text()[:5000])  # truncated mid-array
    dataset = load_dataset("nw_ucla", tmp_path)
    assert [s.name for s in dataset.samples] == ["a01_s01_e00_v01"]
    ((name, reason),) = dataset.skipped
    assert name == bad.name and reason.startswith(f"{bad}:1: invalid JSON")
    nw_ucla_module._load.cache_clear()  # the folder changes below; readers cache by folder
    (folder / real.name).unlink()
    bad.write_text('{"skeletons": [[[1, 2, 3]]]}')
    with pytest.raises(
        DataFileError, match=rf"no readable sequence \(1 skipped\): {bad}:1: .*shape"
    ):
        load_dataset("nw_ucla", tmp_path)


# ---- GTU-3D ------------------------------------------------------------------------


def test_gtu3d_real_dataset():
    dataset, seconds = _timed_fresh_load("gtu3d", gtu3d_module._load, gtu3d_module._read_all)
    print(f"GTU-3D loaded in {seconds:.2f} s")
    assert seconds < 15
    assert len(dataset) == 508
    assert len(set(dataset.class_names)) == 14 and sorted(set(dataset.labels)) == list(range(14))
    assert dataset.layout == "ntu25"
    assert dataset.class_names[12:] == ["bend the leg (one side)", "bend the leg (other side)"]
    assert len({s.name for s in dataset.samples}) == 508
    lengths = [len(s.joints) for s in dataset.samples]
    assert min(lengths) == 16 and max(lengths) == 195


@pytest.mark.parametrize("mirror", [True, False])
def test_gtu3d_mirroring_puts_the_named_hand_in_motion(mirror):
    dataset = load_dataset("gtu3d", mirror=mirror)

    def hand_motion(class_name: str, side: str) -> float:
        label = dataset.class_names.index(class_name)
        joint = C[f"{side}_hand"]
        return float(
            np.mean([s.joints[:, joint].std(axis=0).sum() for s in dataset if s.label == label])
        )

    named, other = ("right", "left") if mirror else ("left", "right")
    assert hand_motion("right handed shaking", named) > 3 * hand_motion(
        "right handed shaking", other
    )
    assert hand_motion("left handed shaking", other) > 3 * hand_motion("left handed shaking", named)


def test_gtu3d_truncated_or_corrupt_file_is_skipped_and_named_with_file_and_line(tmp_path):
    real = (data_root() / "gtu3d" / "1" / "movement1.txt").read_text().splitlines()
    for folder in range(1, 15):
        (tmp_path / str(folder)).mkdir()
        (tmp_path / str(folder) / "movement1.txt").write_text("\n".join(real[:50]) + "\n")
    bad = tmp_path / "3" / "movement1.txt"
    rows = real[:50]
    rows[31] = "0.1 oops 2.0"
    for content, reason in (
        (real[:60], "51: truncated frame 3"),  # 2 frames and 10 rows of a third
        (rows, "32: not a number"),
        ([*rows[:31], "0.1 2.0", *rows[32:]], "32: expected 3 numbers"),
    ):
        gtu3d_module._read_all.cache_clear()
        gtu3d_module._load.cache_clear()
        bad.write_text("\n".join(content))
        dataset = load_dataset("gtu3d", tmp_path)
        assert len(dataset.samples) == 13
        ((name, why),) = dataset.skipped
        assert name == "3_movement1" and why.startswith(f"{bad}:{reason}")


def test_every_real_sequence_becomes_finite_model_input():
    for name in ("nw_ucla", "gtu3d", "utd_mhad"):
        dataset = load_dataset(name)
        clips = [canonical_clip(s, dataset.layout, 30.0) for s in dataset]
        batch = np.concatenate([evaluation_windows(clip, 32) for clip in clips])
        assert batch.shape[1:] == (3, 32, 25) and np.isfinite(batch).all()


# ---- UTD-MHAD ----------------------------------------------------------------------


def test_utd_mhad_real_dataset():
    dataset, seconds = _timed_fresh_load("utd_mhad", utd_mhad_module._load)
    print(f"UTD-MHAD loaded in {seconds:.2f} s")
    assert seconds < 15
    assert len(dataset) == 861 and dataset.layout == "kinect_v1"
    assert len(dataset.class_names) == 27 and sorted(set(dataset.labels)) == list(range(27))
    counts = Counter(dataset.labels.tolist())
    assert {c for c, n in counts.items() if n == 31} == {7, 22, 26}  # a8, a23, a27
    assert all(n == 32 for c, n in counts.items() if c not in (7, 22, 26))
    assert {s.subject for s in dataset} == set(range(1, 9))
    assert {s.trial for s in dataset} == {1, 2, 3, 4}
    sample = next(s for s in dataset if s.name == "a3_s2_t4")
    assert dataset.class_names[sample.label] == "right hand wave"
    assert (sample.subject, sample.trial, sample.fps) == (2, 4, 30.0)
    lengths = [len(s.joints) for s in dataset]
    assert min(lengths) == 41 and max(lengths) == 125
    assert all(s.joints.dtype == np.float32 and s.joints.shape[1:] == (20, 3) for s in dataset)


def test_utd_mhad_joints_are_reordered_into_kinect_v1():
    """In the files the head comes first and the hip centre fourth; after reading, the
    kinect_v1 order holds: hip centre lowest of the trunk, head highest, and the hand
    named by the class is the one that moves."""
    dataset = load_dataset("utd_mhad")
    first = np.stack([s.joints[0] for s in dataset])  # (N, 20, 3), y up
    assert (first[:, 3, 1] > first[:, 2, 1]).all()  # head above shoulder centre
    assert (first[:, 2, 1] > first[:, 1, 1]).mean() > 0.99  # shoulder centre above spine
    assert (first[:, 1, 1] > first[:, 0, 1]).mean() > 0.99  # spine above hip centre

    def hand_travel(label: int, joint: int) -> float:
        clips = [s.joints for s in dataset if s.label == label]
        return float(
            np.mean([np.linalg.norm(np.diff(j[:, joint], axis=0), axis=1).sum() for j in clips])
        )

    wave = dataset.class_names.index("right hand wave")
    assert hand_travel(wave, 11) > 5 * hand_travel(wave, 7)  # kinect_v1: 11 R hand, 7 L hand


def test_utd_mhad_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "a1_s1_t1_skeleton.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file, truncated")
    with pytest.raises(DataFileError, match=rf"{bad}: not a readable MATLAB file"):
        load_dataset("utd_mhad", tmp_path)
    from scipy.io import savemat

    savemat(bad, {"d_skel": np.zeros((15, 3, 10))})
    with pytest.raises(DataFileError, match=r"d_skel has shape \(15, 3, 10\)"):
        utd_mhad_module.read_sequence(bad)
    savemat(bad, {"skeleton": np.zeros((20, 3, 10))})
    with pytest.raises(DataFileError, match="no variable 'd_skel'"):
        utd_mhad_module.read_sequence(bad)


# ---- NTU RGB+D ---------------------------------------------------------------------


def test_ntu_real_sample_file():
    dataset = load_dataset("ntu60", NTU_SAMPLE.parent)
    assert len(dataset) == 1 and len(dataset.class_names) == 60
    sample = dataset.samples[0]
    assert sample.joints.shape == (103, 25, 3)
    assert sample.bodies is None
    assert dataset.class_names[sample.label] == "drink water"
    assert (sample.subject, sample.view) == (1, 1)
    np.testing.assert_allclose(sample.joints[0, 0], [0.2181153, 0.1725972, 3.785547], rtol=1e-6)
    assert np.isfinite(sample.joints).all()
    assert len(load_dataset("ntu120", NTU_SAMPLE.parent).class_names) == 120


def _joint_lines(joints: np.ndarray) -> list[str]:
    filler = "277.4 191.8 1036.2 519.2 -0.2 0.05 0.97 -0.12 2"
    return [f"{x:.6f} {y:.6f} {z:.6f} {filler}" for x, y, z in joints]


def write_ntu_file(path: Path, frames: list[list[tuple[str, np.ndarray]]]) -> None:
    """An NTU .skeleton file: per frame, a list of (tracking id, (25, 3) joints)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines += [f"{body_id} 0 1 1 1 1 0 0.02 0.05 2", "25", *_joint_lines(joints)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def two_person_file(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    actor = rng.normal(size=(6, 25, 3))  # moves a lot
    bystander = np.repeat(rng.normal(size=(1, 25, 3)), 6, axis=0) + 0.001 * rng.normal(
        size=(6, 25, 3)
    )
    frames = [
        [("72057594037931101", actor[0])],  # bystander enters at frame 2
        [("72057594037931101", actor[1]), ("72057594037931999", bystander[1])],
        [("72057594037931999", bystander[2]), ("72057594037931101", actor[2])],
        [],  # nobody tracked
        [("72057594037931101", actor[4]), ("72057594037931999", bystander[4])],
        [("72057594037931999", bystander[5])],  # the actor left
    ]
    path = tmp_path / "S018C002P045R001A058.skeleton"
    write_ntu_file(path, frames)
    return path, actor, bystander


def test_ntu_multi_body_file_tracks_bodies_by_id(two_person_file):
    path, actor, bystander = two_person_file
    dataset = load_dataset("ntu120", path.parent)
    sample = dataset.samples[0]
    assert dataset.class_names[sample.label] == "handshaking"
    assert (sample.subject, sample.view) == (45, 2)
    assert sample.bodies.shape == (2, 6, 25, 3)
    assert sample.joints is not None and np.shares_memory(sample.joints, sample.bodies)
    seen = [0, 1, 2, 4]
    np.testing.assert_allclose(sample.bodies[0, seen], actor[seen], atol=1e-6)
    assert np.isnan(sample.bodies[0, [3, 5]]).all()
    np.testing.assert_allclose(sample.bodies[1, [1, 2, 4, 5]], bystander[[1, 2, 4, 5]], atol=1e-6)
    assert np.isnan(sample.bodies[1, [0, 3]]).all()
    assert np.isfinite(evaluation_windows(canonical_clip(sample, dataset.layout, 30.0), 8)).all()


def test_ntu_selection_missing_list_and_benchmarks(tmp_path, two_person_file):
    folder = two_person_file[0].parent
    one = [[("1", np.random.default_rng(1).normal(size=(25, 3)))]] * 3
    names = ["S001C001P001R001A001", "S002C003P003R002A010", "S017C002P008R001A061"]
    for name in names:
        write_ntu_file(folder / f"{name}.skeleton", one)
    assert [s.name for s in load_dataset("ntu60", folder)] == names[:2]
    assert len(load_dataset("ntu120", folder)) == 4
    missing = tmp_path / "missing.txt"
    missing.write_text("S002C003P003R002A010\n\n")
    assert [s.name for s in load_dataset("ntu60", folder, missing_list=missing)] == names[:1]
    xsub_test = load_dataset("ntu120", folder, benchmark="xsub", part="test")
    assert [s.name for s in xsub_test] == ["S002C003P003R002A010"]
    xview_train = load_dataset("ntu60", folder, benchmark="xview", part="train")
    assert [s.name for s in xview_train] == ["S002C003P003R002A010"]
    assert benchmark_part("S018C001P045R001A058", "xset") == "train"
    assert benchmark_part("S017C001P045R001A058", "xset") == "test"
    assert parse_name("S005C002P010R002A033.skeleton").action == 33
    with pytest.raises(ValueError, match="benchmark and part"):
        load_dataset("ntu60", folder, benchmark="xsub")
    with pytest.raises(ValueError, match="unknown NTU benchmark"):
        load_dataset("ntu60", folder, benchmark="xfoo", part="train")


def _corrupt_ntu(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "corrupt"
    folder.mkdir(exist_ok=True)
    lines = NTU_SAMPLE.read_text().splitlines()
    path = folder / NTU_SAMPLE.name
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _replace_line(index: int, edit: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """A file edit for :func:`_corrupt_ntu` that rewrites line ``index`` (0-based)."""

    def apply(lines: list[str]) -> list[str]:
        lines[index] = edit(lines[index])
        return lines

    return apply


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda lines: lines[:100], 101, "file ends early"),
        (_replace_line(8, lambda s: s.replace("0.1109304", "0.11x")), 9, "not a number: '0.11x'"),
        (_replace_line(3, lambda _: "20"), 4, "expected 25 joints"),
        (_replace_line(1, lambda _: "one"), 2, "expected the body count"),
    ],
    ids=["truncated", "bad number", "bad joint count", "bad body count"],
)
def test_ntu_corrupt_files_name_file_and_line(tmp_path, edit, line, message):
    path = _corrupt_ntu(tmp_path, edit)
    with pytest.raises(DataFileError, match=rf"{path}:{line}: {message}"):
        load_dataset("ntu60", path.parent)


# ---- PKU-MMD (fixtures: the dataset is licence-gated) ------------------------------


@pytest.fixture
def pku_root(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    frames = 40
    first = rng.normal(size=(frames, 25, 3))
    second = rng.normal(size=(frames, 25, 3)) * 3  # moves more
    second[:20] = 0  # the second person only appears at frame 20
    rows = np.concatenate([first.reshape(frames, 75), second.reshape(frames, 75)], axis=1)
    (tmp_path / "PKU_Skeleton_Renew").mkdir()
    (tmp_path / "Train_Label_PKU_final").mkdir()
    np.savetxt(tmp_path / "PKU_Skeleton_Renew" / "0002-M.txt", rows, fmt="%.6f")
    (tmp_path / "Train_Label_PKU_final" / "0002-M.txt").write_text(
        "8,0,9,1\n41,10,19,2\n14,22,39,1\n"
    )
    return tmp_path, np.stack([first, second])


def test_pku_mmd_cuts_clips_at_label_intervals(pku_root):
    root, bodies = pku_root
    dataset = load_dataset("pku_mmd", root)
    assert len(dataset.class_names) == 51 and dataset.layout == "ntu25"
    assert [s.name for s in dataset] == ["0002-M_1", "0002-M_2", "0002-M_3"]
    assert [dataset.class_names[s.label] for s in dataset] == [
        "drink water",
        "throw",
        "handshaking",
    ]
    assert [len(s.joints) for s in dataset] == [10, 10, 18]
    assert all(s.view == 2 for s in dataset)
    first, mutual = dataset.samples[0], dataset.samples[2]
    assert first.bodies is None  # the second person is absent (zeros) in frames 0..9
    np.testing.assert_allclose(first.joints, bodies[0, 0:10], atol=1e-5)
    assert mutual.bodies.shape == (2, 18, 25, 3)
    np.testing.assert_allclose(mutual.joints, bodies[1, 22:40], atol=1e-5)  # moves most


def test_pku_mmd_corrupt_files_name_file_and_line(pku_root):
    root, _ = pku_root
    skeleton = root / "PKU_Skeleton_Renew" / "0002-M.txt"
    labels = root / "Train_Label_PKU_final" / "0002-M.txt"
    labels.write_text("8,0,9,1\n41,10,45,2\n")
    with pytest.raises(DataFileError, match=rf"{labels}:2: interval 10..45 is outside"):
        load_dataset("pku_mmd", root)
    labels.write_text("8,0,9\n")
    with pytest.raises(DataFileError, match=rf"{labels}:1: expected 'class,start,end"):
        load_dataset("pku_mmd", root)
    labels.write_text("52,0,9,1\n")
    with pytest.raises(DataFileError, match=rf"{labels}:1: class 52"):
        load_dataset("pku_mmd", root)
    labels.write_text("8,0,9,1\n")
    lines = skeleton.read_text().splitlines()
    lines[6] = " ".join(lines[6].split()[:149])
    skeleton.write_text("\n".join(lines))
    with pytest.raises(DataFileError, match=rf"{skeleton}:7: expected 150 numbers"):
        load_dataset("pku_mmd", root)
    skeleton.write_text(" \n\n")
    with pytest.raises(DataFileError, match=rf"{skeleton}:1: empty skeleton file"):
        load_dataset("pku_mmd", root)


def test_data_lines_drop_trailing_blank_lines_only(tmp_path):
    """Inner blank lines stay, so readers report them at their own line numbers."""
    path = tmp_path / "rows.txt"
    path.write_text("1 2 3\n\n4 5 6\n  \n\n")
    assert read_data_lines(path) == ["1 2 3", "", "4 5 6"]
    path.write_text("")
    with pytest.raises(DataFileError, match=rf"{path}:1: empty file"):
        read_data_lines(path)


# ---- npy folder and CMU mocap ------------------------------------------------------


def test_npy_folder_reads_arrays_and_labels(tmp_path):
    rng = np.random.default_rng(4)
    (tmp_path / "clips").mkdir()
    for name, frames in (("a", 12), ("b", 7), ("c", 30)):
        np.save(tmp_path / "clips" / f"{name}.npy", rng.normal(size=(frames, 17, 3)))
    (tmp_path / "labels.csv").write_text(
        "file,label,subject\nclips/a.npy,wave,1\nclips/b.npy,bow,2\nclips/c.npy,wave,\n"
    )
    dataset = load_dataset("npy_folder", tmp_path, layout="coco17")
    assert dataset.class_names == ["bow", "wave"] and dataset.layout == "coco17"
    assert [(s.name, s.label, s.subject) for s in dataset] == [
        ("clips/a", 1, 1),
        ("clips/b", 0, 2),
        ("clips/c", 1, None),
    ]
    assert dataset.samples[2].joints.shape == (30, 17, 3)
    fixed = load_dataset("npy_folder", tmp_path, layout="coco17", class_names=["wave", "bow", "x"])
    assert [s.label for s in fixed] == [0, 1, 0] and len(fixed.class_names) == 3
    with pytest.raises(DataFileError, match=r"labels.csv:3: label 'bow' is not"):
        load_dataset("npy_folder", tmp_path, layout="coco17", class_names=["wave"])
    with pytest.raises(DataFileError, match=r"a.npy: shape \(12, 17, 3\) is not"):
        load_dataset("npy_folder", tmp_path, layout="ntu25")
    (tmp_path / "labels.csv").write_text("file,label\nclips/a.npy,wave,extra\n")
    with pytest.raises(DataFileError, match=r"labels.csv:2: expected 2 fields"):
        load_dataset("npy_folder", tmp_path, layout="coco17")
    with pytest.raises(ValueError, match="needs root"):
        load_dataset("npy_folder")


def test_cmu_mocap_subset():
    dataset = load_dataset("cmu_mocap", subjects=[2])
    assert len(dataset.class_names) == 1056
    assert [s.name for s in dataset] == [
        "02_01",
        "02_02",
        "02_03",
        "02_04",
        "02_05",
        "02_06",
        "02_07",
        "02_08",
        "02_09",
        "02_10",
    ]
    sample = dataset.samples[0]
    assert sample.joints.dtype == np.float32 and sample.joints.shape[1:] == (25, 3)
    assert sample.subject == 2 and sample.fps == 30.0
    assert dataset.class_names[sample.label] == "walk"


# ---- splits and registry -----------------------------------------------------------


def test_zero_shot_splits():
    assert available_splits("ntu60") == ["55/5", "48/12", "40/20", "30/30"]
    assert available_splits("ntu120") == ["110/10", "96/24", "80/40", "60/60"]
    assert zero_shot_split("nw_ucla", "8/2") == ([0, 2, 3, 5, 6, 7, 8, 9], [1, 4])
    assert zero_shot_split("nw-ucla", "ru5")[1] == [1, 3, 4, 6, 8]
    seen, unseen = zero_shot_split("ntu60", "55/5")
    assert unseen == [10, 11, 19, 26, 56] and len(seen) == 55
    seen, unseen = zero_shot_split("ntu120", "96/24")
    assert len(unseen) == 24 and sorted(seen + unseen) == list(range(120))
    assert zero_shot_split("gtu3d", "11/3")[1] == [7, 8, 10]
    assert available_splits("utd_mhad") == ["22/5", "18/9", "14/13"]
    assert zero_shot_split("utd_mhad", "22/5")[1] == [4, 14, 17, 23, 24]
    assert zero_shot_split("utd-mhad", "ru13")[1] == zero_shot_split("utd_mhad", "14/13")[1]
    seen, unseen = zero_shot_split("gtu3d", "7/7")
    assert len(seen) == len(unseen) == 7 and not set(seen) & set(unseen)
    with pytest.raises(ValueError, match="known: 55/5, 48/12"):
        zero_shot_split("ntu60", "50/10")
    with pytest.raises(ValueError, match="no zero-shot splits"):
        zero_shot_split("pku_mmd", "46/5")


def test_splits_match_the_seen_lists_of_the_split_file():
    import json

    table = json.loads((data_root() / "splits" / "splits.json").read_text())
    pairs = (("ntu60", "ntu60"), ("ntu120", "ntu120"), ("nw_ucla", "nw-ucla"))
    for dataset, key in (*pairs, ("utd_mhad", "utd-mhad")):
        for split in available_splits(dataset):
            seen, unseen = zero_shot_split(dataset, split)
            assert seen == sorted(table[key][f"rs{len(seen)}"])


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dataset 'kinetics'.*nw_ucla"):
        load_dataset("kinetics")
