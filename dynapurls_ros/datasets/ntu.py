"""NTU RGB+D 60 / 120 in the official ``.skeleton`` text format.

File layout (one value group per line): the frame count; per frame the body count; per
body a line of 10 body fields (tracking id first), the joint count (25) and one line of
12 numbers per joint (x y z in metres, camera coordinates with y up and z depth, then
depth/colour pixel coordinates, orientation and tracking state). Bodies are matched
across frames by their tracking id; a body missing from a frame is NaN there.

File names ``SsssCcccPpppRrrrAaaa`` give setup, camera, performer (subject), replication
and action (A001 = class 0). NTU-60 is setups 1-17 with actions 1-60; NTU-120 adds setups
18-32 and actions 61-120.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..skeleton.preprocess import motion_energy
from .base import (
    DataFileError,
    SkeletonDataset,
    SkeletonSample,
    Skips,
    parse_rows,
    read_only,
    readable_dataset,
    resolve_root,
)

NTU120_CLASS_NAMES = (
    "drink water",
    "eat meal/snack",
    "brushing teeth",
    "brushing hair",
    "drop",
    "pickup",
    "throw",
    "sitting down",
    "standing up (from sitting position)",
    "clapping",
    "reading",
    "writing",
    "tear up paper",
    "wear jacket",
    "take off jacket",
    "wear a shoe",
    "take off a shoe",
    "wear on glasses",
    "take off glasses",
    "put on a hat/cap",
    "take off a hat/cap",
    "cheer up",
    "hand waving",
    "kicking something",
    "reach into pocket",
    "hopping (one foot jumping)",
    "jump up",
    "make a phone call/answer phone",
    "playing with phone/tablet",
    "typing on a keyboard",
    "pointing to something with finger",
    "taking a selfie",
    "check time (from watch)",
    "rub two hands together",
    "nod head/bow",
    "shake head",
    "wipe face",
    "salute",
    "put the palms together",
    "cross hands in front (say stop)",
    "sneeze/cough",
    "staggering",
    "falling",
    "touch head (headache)",
    "touch chest (stomachache/heart pain)",
    "touch back (backache)",
    "touch neck (neckache)",
    "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person",
    "kicking other person",
    "pushing other person",
    "pat on back of other person",
    "point finger at the other person",
    "hugging other person",
    "giving something to other person",
    "touch other person's pocket",
    "handshaking",
    "walking towards each other",
    "walking apart from each other",
    "put on headphone",
    "take off headphone",
    "shoot at the basket",
    "bounce ball",
    "tennis bat swing",
    "juggling table tennis balls",
    "hush (quite)",
    "flick hair",
    "thumb up",
    "thumb down",
    "make ok sign",
    "make victory sign",
    "staple book",
    "counting money",
    "cutting nails",
    "cutting paper (using scissors)",
    "snapping fingers",
    "open bottle",
    "sniff (smell)",
    "squat down",
    "toss a coin",
    "fold paper",
    "ball up paper",
    "play magic cube",
    "apply cream on face",
    "apply cream on hand back",
    "put on bag",
    "take off bag",
    "put something into a bag",
    "take something out of a bag",
    "open a box",
    "move heavy objects",
    "shake fist",
    "throw up cap/hat",
    "hands up (both hands)",
    "cross arms",
    "arm circles",
    "arm swings",
    "running on the spot",
    "butt kicks (kick backward)",
    "cross toe touch",
    "side kick",
    "yawn",
    "stretch oneself",
    "blow nose",
    "hit other person with something",
    "wield knife towards other person",
    "knock over other person (hit with body)",
    "grab other person's stuff",
    "shoot at other person with a gun",
    "step on foot",
    "high-five",
    "cheers and drink",
    "carry something with other person",
    "take a photo of other person",
    "follow other person",
    "whisper in other person's ear",
    "exchange things with other person",
    "support somebody with hand",
    "finger-guessing game (playing rock-paper-scissors)",
)
NTU60_CLASS_NAMES = NTU120_CLASS_NAMES[:60]

# Performers in the training half of the cross-subject benchmarks (the first 20 for NTU-60).
XSUB_TRAIN_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
    + (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83)
    + (84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
)
XVIEW_TRAIN_CAMERAS = frozenset((2, 3))
BENCHMARKS = ("xsub", "xview", "xset")
NTU60_SETUPS = 17

_NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
_BODY_FIELDS = 10
_JOINT_FIELDS = 12
_JOINTS = 25


class NtuId(NamedTuple):
    setup: int
    camera: int
    subject: int
    replication: int
    action: int  # 1-based, as in the file name


def parse_name(name: str) -> NtuId:
    """Setup, camera, subject, replication and action of an NTU sample name or file name."""
    match = _NAME.search(Path(name).name)
    if match is None:
        raise ValueError(f"{name!r} is not an NTU RGB+D sample name (SsssCcccPpppRrrrAaaa)")
    return NtuId(*(int(group) for group in match.groups()))


def benchmark_part(name: str, benchmark: str) -> str:
    """``"train"`` or ``"test"``: the side of ``benchmark`` a sample belongs to.

    ``xsub``: training performers listed in XSUB_TRAIN_SUBJECTS; ``xview``: cameras 2
    and 3 train, camera 1 tests; ``xset`` (NTU-120): even setup ids train.
    """
    ident = parse_name(name)
    if benchmark == "xsub":
        train = ident.subject in XSUB_TRAIN_SUBJECTS
    elif benchmark == "xview":
        train = ident.camera in XVIEW_TRAIN_CAMERAS
    elif benchmark == "xset":
        train = ident.setup % 2 == 0
    else:
        raise ValueError(f"unknown NTU benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
    return "train" if train else "test"


class _Cursor:
    """Line-by-line reader that names the file and line in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.next = 0  # index of the next line to read

    def take(self, count: int, what: str) -> list[str]:
        if self.next + count > len(self.lines):
            raise DataFileError(self.path, len(self.lines) + 1, f"file ends early: expected {what}")
        self.next += count
        return self.lines[self.next - count : self.next]

    def integer(self, what: str) -> int:
        line = self.take(1, what)[0]
        try:
            return int(line)
        except ValueError:
            raise DataFileError(self.path, self.next, f"expected {what}, found {line!r}") from None


def read_skeleton_file(path: Path | str) -> np.ndarray:
    """All bodies of one ``.skeleton`` file: ``(M, T, 25, 3)`` float32, metres.

    Bodies are ordered by decreasing motion (``motion_energy``), so ``[0]`` is the main
    actor; a body is NaN in frames where it was not tracked. A file without any body
    raises DataFileError (the official list of samples with missing skeletons names them).
    """
    path = Path(path)
    cursor = _Cursor(path)
    frame_count = cursor.integer("the frame count")
    tracks: dict[str, dict[int, np.ndarray]] = {}
    for frame in range(frame_count):
        for _ in range(cursor.integer(f"the body count of frame {frame + 1}")):
            info = cursor.take(1, "a body line")[0].split()
            if len(info) != _BODY_FIELDS:
                raise DataFileError(
                    path, cursor.next, f"expected {_BODY_FIELDS} body fields, found {len(info)}"
                )
            track = tracks.setdefault(info[0], {})
            if frame in track:
                raise DataFileError(path, cursor.next, f"body {info[0]} appears twice in a frame")
            if (joint_count := cursor.integer("the joint count")) != _JOINTS:
                raise DataFileError(
                    path, cursor.next, f"expected {_JOINTS} joints, not {joint_count}"
                )
            first = cursor.next + 1
            rows = parse_rows(path, cursor.take(_JOINTS, "25 joint lines"), _JOINT_FIELDS, first)
            track[frame] = rows[:, :3]
    if any(line.strip() for line in cursor.lines[cursor.next :]):
        raise DataFileError(path, cursor.next + 1, f"unexpected data after frame {frame_count}")
    if not tracks:
        raise DataFileError(path, None, "no body is tracked in any frame")
    bodies = np.full((len(tracks), frame_count, _JOINTS, 3), np.nan, dtype=np.float32)
    for index, track in enumerate(tracks.values()):
        for frame, joints in track.items():
            bodies[index, frame] = joints
    return bodies[np.argsort(-motion_energy(bodies), kind="stable")]


def _read_name_list(path: Path | str) -> set[str]:
    """Sample names, one a line (extensions and blank lines ignored)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {Path(line.strip()).stem for line in lines if line.strip()}


def load_ntu(
    root: Path | str | None = None,
    *,
    num_classes: int = 60,
    missing_list: Path | str | None = None,
    benchmark: str | None = None,
    part: str | None = None,
) -> SkeletonDataset:
    """NTU RGB+D samples from the ``.skeleton`` files anywhere under ``root``.

    ``root`` defaults to ``data_root()/ntu_rgbd``. ``num_classes`` 60 keeps NTU-60
    (setups 1-17, actions 1-60), 120 keeps everything. ``missing_list`` is the official
    text file of samples with missing skeletons, which are skipped. ``benchmark``
    (``xsub``/``xview``/``xset``) with ``part`` (``train``/``test``) keeps one side of
    a benchmark. Files are parsed on every call (no cache: the full set is gigabytes).
    """
    if num_classes not in (60, 120):
        raise ValueError(f"num_classes must be 60 or 120, got {num_classes}")
    if (benchmark is None) != (part is None):
        raise ValueError("give benchmark and part together (e.g. benchmark='xsub', part='train')")
    if part not in (None, "train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    directory = resolve_root(root, "ntu_rgbd")
    skip = _read_name_list(missing_list) if missing_list is not None else set()
    samples, skips = [], Skips()
    for path in sorted(directory.rglob("*.skeleton")):
        try:
            ident = parse_name(path.stem)
        except ValueError as error:
            skips.skipped.append((path.name, str(DataFileError(path, None, str(error)))))
            continue
        if ident.action > num_classes or (num_classes == 60 and ident.setup > NTU60_SETUPS):
            continue
        if path.stem in skip or (benchmark and benchmark_part(path.stem, benchmark) != part):
            continue
        with skips.item(path.name):
            bodies = read_only(read_skeleton_file(path))
            samples.append(
                SkeletonSample(
                    name=path.stem,
                    joints=bodies[0],
                    label=ident.action - 1,
                    subject=ident.subject,
                    view=ident.camera,
                    bodies=bodies if len(bodies) > 1 else None,
                )
            )
    if not samples and not skips.skipped:
        raise FileNotFoundError(f"no NTU-{num_classes} .skeleton files selected under {directory}")
    class_names = NTU60_CLASS_NAMES if num_classes == 60 else NTU120_CLASS_NAMES
    return readable_dataset(
        directory, f"ntu{num_classes}", "ntu25", class_names, samples, skips.skipped
    )
