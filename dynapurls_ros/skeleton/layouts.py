"""Joint layouts of the skeleton sources the package accepts, and their mapping to CANONICAL.

The model only ever sees the NTU RGB+D / Kinect v2 25-joint layout (``CANONICAL``). Every
other layout carries a fixed linear map to it: each canonical joint is one source joint, a
weighted mean of source joints (e.g. the spine base of COCO is the mid-point of the hips),
or, where the source truly lacks the joint (thumbs in COCO), a copy of the nearest joint
it has. The maps are weight matrices so that mapping a whole window is one matmul, which
matters in the live node. docs/DATA.md lists every fill and why it was chosen.

Joint names are snake_case with ``left``/``right`` as separate words, so the left/right
mirror of any layout can be derived from the names alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

CANONICAL = "ntu25"

# A canonical joint's source: one source joint name, or {source joint name: weight}.
Source = str | Mapping[str, float]


@dataclass(frozen=True, eq=False)
class CanonicalMap:
    """Linear map from a layout's V joints to the 25 canonical joints.

    ``matrix[c, v]`` is the weight of source joint ``v`` in canonical joint ``c``; every
    row sums to 1 (negative weights are not used, so a canonical joint always lies in the
    convex hull of its sources).
    """

    matrix: np.ndarray  # (25, V) float32
    # The same map acting on flattened (V*3) coordinates: one 2-D matmul per window.
    _flat: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_flat", np.kron(self.matrix.T, np.eye(3, dtype=np.float32)))

    def __call__(self, joints: np.ndarray) -> np.ndarray:
        """Map ``(..., V, 3)`` joints to ``(..., 25, 3)`` float32.

        A canonical joint becomes NaN when any of its sources is NaN/inf, and only then:
        a plain matmul would spread one missing source joint (0 * NaN = NaN) to every
        canonical joint.
        """
        x = np.asarray(joints, dtype=np.float32)
        if x.ndim < 2 or x.shape[-2:] != (self.matrix.shape[1], 3):
            raise ValueError(
                f"expected joints of shape (..., {self.matrix.shape[1]}, 3), got {x.shape}"
            )
        if np.isfinite(x).all():
            flat = x.reshape(*x.shape[:-2], -1) @ self._flat
            return flat.reshape(*x.shape[:-2], self.matrix.shape[0], 3)
        finite = np.isfinite(x).all(axis=-1)
        out = self.matrix @ np.where(finite[..., None], x, np.float32(0))
        uses_missing = (~finite).astype(np.float32) @ (self.matrix != 0).T.astype(np.float32)
        out[uses_missing > 0] = np.nan
        return out


@dataclass(frozen=True)
class JointLayout:
    """One skeleton source: joint names in its own order, its bones and its canonical map.

    ``bones`` are ``(a, b)`` index pairs, listed parent first where the layout has a
    hierarchy; for ``ntu25`` they form a tree rooted at the spine base (joint 0).
    """

    name: str
    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    to_canonical: CanonicalMap

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def mirror_permutation(self) -> tuple[int, ...]:
        """Index of each joint's left/right counterpart (itself for midline joints)."""
        swap = {"left": "right", "right": "left"}
        index = {name: i for i, name in enumerate(self.joint_names)}
        return tuple(
            index["_".join(swap.get(word, word) for word in name.split("_"))]
            for name in self.joint_names
        )


NTU25_JOINTS = (
    "spine_base",
    "spine_mid",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "left_hand",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "right_hand",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_foot",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_foot",
    "spine_shoulder",
    "left_hand_tip",
    "left_thumb",
    "right_hand_tip",
    "right_thumb",
)


def _sided(*chains: tuple[str, ...]) -> list[tuple[str, str]]:
    """Bones of ``chains`` (consecutive names are parent -> child), for both sides.

    A name containing ``{side}`` is expanded to ``left`` and ``right``.
    """
    bones = []
    for side in ("left", "right"):
        for chain in chains:
            names = [n.format(side=side) for n in chain]
            bones.extend(pairwise(names))
    return bones


def _mid(a: str, b: str) -> dict[str, float]:
    return {a: 0.5, b: 0.5}


def _sides(joint: str, weight: float = 0.5) -> dict[str, float]:
    """The left and right ``joint`` with ``weight`` each (the mid-point by default)."""
    return {f"left_{joint}": weight, f"right_{joint}": weight}


def _paired(*parts: str) -> tuple[str, ...]:
    """``left_<part>, right_<part>`` for each part in turn: the order in which COCO,
    MediaPipe and ZED list their paired joints."""
    return tuple(f"{side}_{part}" for part in parts for side in ("left", "right"))


# Where a layout has no spine-shoulder-to-head joint, the neck is placed a third of the way
# from the spine shoulder to the head, as measured on NTU RGB+D (0.34).
_NECK_FROM_BASE = 0.65

NTU25_BONES = [
    ("spine_base", "spine_mid"),
    ("spine_mid", "spine_shoulder"),
    ("spine_shoulder", "neck"),
    ("neck", "head"),
    *_sided(
        ("spine_shoulder", "{side}_shoulder", "{side}_elbow", "{side}_wrist", "{side}_hand"),
        ("{side}_hand", "{side}_hand_tip"),
        ("{side}_wrist", "{side}_thumb"),
        ("spine_base", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_foot"),
    ),
]

KINECT_V1_JOINTS = (
    "hip_center",
    "spine",
    "shoulder_center",
    "head",
    *NTU25_JOINTS[4:20],
)
KINECT_V1_BONES = [
    ("hip_center", "spine"),
    ("spine", "shoulder_center"),
    ("shoulder_center", "head"),
    *_sided(
        ("shoulder_center", "{side}_shoulder", "{side}_elbow", "{side}_wrist", "{side}_hand"),
        ("hip_center", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_foot"),
    ),
]
KINECT_V1_TO_NTU = {
    "spine_base": "hip_center",
    # Kinect v1 "spine" sits just above the hip centre; NTU's spine mid is mid-torso.
    "spine_mid": _mid("spine", "shoulder_center"),
    "neck": {"shoulder_center": _NECK_FROM_BASE, "head": 1 - _NECK_FROM_BASE},
    "spine_shoulder": "shoulder_center",
    "left_hand_tip": "left_hand",
    "left_thumb": "left_hand",
    "right_hand_tip": "right_hand",
    "right_thumb": "right_hand",
}

# Azure Kinect Body Tracking SDK order (K4ABT_JOINT_*).
AZURE_KINECT_JOINTS = (
    "pelvis",
    "spine_navel",
    "spine_chest",
    "neck",
    *(
        f"{side}_{part}"
        for side in ("left", "right")
        for part in (
            "clavicle",
            "shoulder",
            "elbow",
            "wrist",
            "hand",
            "hand_tip",
            "thumb",
        )
    ),
    *(f"{side}_{part}" for side in ("left", "right") for part in ("hip", "knee", "ankle", "foot")),
    "head",
    "nose",
    "left_eye",
    "left_ear",
    "right_eye",
    "right_ear",
)
AZURE_KINECT_BONES = [
    ("pelvis", "spine_navel"),
    ("spine_navel", "spine_chest"),
    ("spine_chest", "neck"),
    ("neck", "head"),
    ("head", "nose"),
    *_sided(
        ("spine_chest", "{side}_clavicle", "{side}_shoulder", "{side}_elbow", "{side}_wrist"),
        ("{side}_wrist", "{side}_hand", "{side}_hand_tip"),
        ("{side}_wrist", "{side}_thumb"),
        ("pelvis", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_foot"),
        ("head", "{side}_eye"),
        ("head", "{side}_ear"),
    ),
]
AZURE_KINECT_TO_NTU = {
    "spine_base": "pelvis",
    "spine_mid": _mid("spine_navel", "spine_chest"),
    # The Azure neck joint sits at the base of the neck, where Kinect v2 has spine shoulder.
    "spine_shoulder": "neck",
    "neck": {"neck": _NECK_FROM_BASE, "head": 1 - _NECK_FROM_BASE},
}

COCO17_JOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    *_paired("shoulder", "elbow", "wrist", "hip", "knee", "ankle"),
)
COCO17_BONES = [
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    ("nose", "left_eye"),
    ("nose", "right_eye"),
    *_sided(
        ("{side}_eye", "{side}_ear"),
        ("{side}_shoulder", "{side}_elbow", "{side}_wrist"),
        ("{side}_shoulder", "{side}_hip", "{side}_knee", "{side}_ankle"),
    ),
]

# Shared by the layouts that have shoulders, hips and ears but no spine (COCO, MediaPipe):
# the spine runs from mid-hips to mid-shoulders, the head centre is between the ears.
_TORSO_FROM_LIMBS = {
    "spine_base": _sides("hip"),
    "spine_mid": {**_sides("hip", 0.25), **_sides("shoulder", 0.25)},
    "spine_shoulder": _sides("shoulder"),
    "head": _sides("ear"),
    "neck": {
        **_sides("shoulder", _NECK_FROM_BASE / 2),
        **_sides("ear", (1 - _NECK_FROM_BASE) / 2),
    },
}

# Layouts with no hand joints (COCO, OpenPose): hand, hand tip and thumb copy the wrist.
_HANDS_AT_WRISTS = {
    f"{side}_{part}": f"{side}_wrist"
    for side in ("left", "right")
    for part in ("hand", "hand_tip", "thumb")
}

# Layouts whose "neck" joint sits at the base of the neck and whose head has ears but no
# centre (OpenPose, ZED): that joint is the spine shoulder, the head centre is between the
# ears, and the canonical neck lies on the way up to it.
_HEAD_ABOVE_NECK_BASE = {
    "spine_shoulder": "neck",
    "head": _sides("ear"),
    "neck": {"neck": _NECK_FROM_BASE, **_sides("ear", (1 - _NECK_FROM_BASE) / 2)},
}

# Layouts with toes but no foot joint (OpenPose, ZED): the foot is between the toes.
_FEET_FROM_TOES = {
    f"{side}_foot": _mid(f"{side}_big_toe", f"{side}_small_toe") for side in ("left", "right")
}

COCO17_TO_NTU = {
    **_TORSO_FROM_LIMBS,
    **_HANDS_AT_WRISTS,
    "left_foot": "left_ankle",
    "right_foot": "right_ankle",
}

# OpenPose BODY_25 order. Its "neck" is the mid-point of the shoulders.
OPENPOSE25_JOINTS = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "mid_hip",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
OPENPOSE25_BONES = [
    ("neck", "nose"),
    ("neck", "mid_hip"),
    *_sided(
        ("neck", "{side}_shoulder", "{side}_elbow", "{side}_wrist"),
        ("mid_hip", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_big_toe"),
        ("{side}_big_toe", "{side}_small_toe"),
        ("{side}_ankle", "{side}_heel"),
        ("nose", "{side}_eye", "{side}_ear"),
    ),
]
OPENPOSE25_TO_NTU = {
    "spine_base": "mid_hip",
    "spine_mid": _mid("mid_hip", "neck"),
    **_HEAD_ABOVE_NECK_BASE,
    **_HANDS_AT_WRISTS,
    **_FEET_FROM_TOES,
}

# MediaPipe Pose landmark order. Its pinky/index/thumb landmarks are finger knuckles.
MEDIAPIPE33_JOINTS = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    *_paired(
        "shoulder",
        "elbow",
        "wrist",
        "pinky",
        "index",
        "thumb",
        "hip",
        "knee",
        "ankle",
        "heel",
        "foot_index",
    ),
)
MEDIAPIPE33_BONES = [
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    ("mouth_left", "mouth_right"),
    *_sided(
        ("nose", "{side}_eye_inner", "{side}_eye", "{side}_eye_outer", "{side}_ear"),
        ("{side}_shoulder", "{side}_elbow", "{side}_wrist", "{side}_pinky"),
        ("{side}_wrist", "{side}_index"),
        ("{side}_wrist", "{side}_thumb"),
        ("{side}_shoulder", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_heel"),
        ("{side}_ankle", "{side}_foot_index"),
    ),
]
_PALM = {"wrist": 0.5, "index": 0.25, "pinky": 0.25}
MEDIAPIPE33_TO_NTU = {
    **_TORSO_FROM_LIMBS,
    **{
        f"{side}_hand": {f"{side}_{part}": w for part, w in _PALM.items()}
        for side in ("left", "right")
    },
    **{f"{side}_hand_tip": _mid(f"{side}_index", f"{side}_pinky") for side in ("left", "right")},
    "left_foot": "left_foot_index",
    "right_foot": "right_foot_index",
}

# Stereolabs ZED SDK BODY_38 order.
ZED38_JOINTS = (
    "pelvis",
    "spine_1",
    "spine_2",
    "spine_3",
    "neck",
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    *_paired(
        "clavicle",
        "shoulder",
        "elbow",
        "wrist",
        "hip",
        "knee",
        "ankle",
        "big_toe",
        "small_toe",
        "heel",
        "hand_thumb_4",
        "hand_index_1",
        "hand_middle_4",
        "hand_pinky_1",
    ),
)
ZED38_BONES = [
    ("pelvis", "spine_1"),
    ("spine_1", "spine_2"),
    ("spine_2", "spine_3"),
    ("spine_3", "neck"),
    ("neck", "nose"),
    *_sided(
        ("nose", "{side}_eye", "{side}_ear"),
        ("spine_3", "{side}_clavicle", "{side}_shoulder", "{side}_elbow", "{side}_wrist"),
        ("{side}_wrist", "{side}_hand_thumb_4"),
        ("{side}_wrist", "{side}_hand_index_1"),
        ("{side}_wrist", "{side}_hand_middle_4"),
        ("{side}_wrist", "{side}_hand_pinky_1"),
        ("pelvis", "{side}_hip", "{side}_knee", "{side}_ankle", "{side}_big_toe"),
        ("{side}_ankle", "{side}_small_toe"),
        ("{side}_ankle", "{side}_heel"),
    ),
]
ZED38_TO_NTU = {
    "spine_base": "pelvis",
    "spine_mid": "spine_2",
    **_HEAD_ABOVE_NECK_BASE,
    **{
        f"{side}_hand": {
            f"{side}_wrist": 0.5,
            f"{side}_hand_index_1": 0.25,
            f"{side}_hand_pinky_1": 0.25,
        }
        for side in ("left", "right")
    },
    **{f"{side}_hand_tip": f"{side}_hand_middle_4" for side in ("left", "right")},
    **{f"{side}_thumb": f"{side}_hand_thumb_4" for side in ("left", "right")},
    **_FEET_FROM_TOES,
}


# OpenNI / NiTE 15-joint skeleton (openni_tracker, NiTE 2, several Orbbec SDKs), in NiTE 2's
# nite::JointType order. Its "neck" sits between the shoulders and its "torso" mid-trunk;
# it has no wrists, hand tips, thumbs, ankles or hip centre.
OPENNI15_JOINTS = (
    "head",
    "neck",
    *_paired("shoulder", "elbow", "hand"),
    "torso",
    *_paired("hip", "knee", "foot"),
)
OPENNI15_BONES = [
    ("torso", "neck"),
    ("neck", "head"),
    *_sided(
        ("neck", "{side}_shoulder", "{side}_elbow", "{side}_hand"),
        ("torso", "{side}_hip", "{side}_knee", "{side}_foot"),
    ),
]
OPENNI15_TO_NTU = {
    "spine_base": _sides("hip"),
    "spine_mid": "torso",
    "spine_shoulder": "neck",
    "neck": {"neck": _NECK_FROM_BASE, "head": 1 - _NECK_FROM_BASE},
    **{
        f"{side}_{part}": f"{side}_hand"
        for side in ("left", "right")
        for part in ("wrist", "hand_tip", "thumb")
    },
    "left_ankle": "left_foot",
    "right_ankle": "right_foot",
}


def _build(
    name: str,
    joint_names: tuple[str, ...],
    bones: list[tuple[str, str]],
    sources: Mapping[str, Source],
) -> JointLayout:
    """Check a layout's names and turn its named spec into index bones and a weight matrix.

    Canonical joints not listed in ``sources`` come from the source joint of the same name.
    """
    index = {joint: i for i, joint in enumerate(joint_names)}
    if len(index) != len(joint_names):
        raise ValueError(f"layout {name!r} repeats a joint name")
    unknown = set(sources) - set(NTU25_JOINTS)
    if unknown:
        raise ValueError(f"layout {name!r} maps unknown canonical joints {sorted(unknown)}")
    matrix = np.zeros((len(NTU25_JOINTS), len(joint_names)), dtype=np.float32)
    for c, canonical in enumerate(NTU25_JOINTS):
        source = sources.get(canonical, canonical)
        weights = {source: 1.0} if isinstance(source, str) else source
        for joint, weight in weights.items():
            if joint not in index:
                raise ValueError(f"layout {name!r}: {canonical} uses unknown joint {joint!r}")
            matrix[c, index[joint]] += weight
        if not np.isclose(matrix[c].sum(), 1.0):
            raise ValueError(f"layout {name!r}: weights of {canonical} do not sum to 1")
    return JointLayout(
        name=name,
        joint_names=joint_names,
        bones=tuple((index[a], index[b]) for a, b in bones),
        to_canonical=CanonicalMap(matrix),
    )


LAYOUTS: dict[str, JointLayout] = {
    layout.name: layout
    for layout in (
        _build("ntu25", NTU25_JOINTS, NTU25_BONES, {}),
        _build("kinect_v1", KINECT_V1_JOINTS, KINECT_V1_BONES, KINECT_V1_TO_NTU),
        _build("azure_kinect", AZURE_KINECT_JOINTS, AZURE_KINECT_BONES, AZURE_KINECT_TO_NTU),
        _build("coco17", COCO17_JOINTS, COCO17_BONES, COCO17_TO_NTU),
        _build("mediapipe33", MEDIAPIPE33_JOINTS, MEDIAPIPE33_BONES, MEDIAPIPE33_TO_NTU),
        _build("openpose25", OPENPOSE25_JOINTS, OPENPOSE25_BONES, OPENPOSE25_TO_NTU),
        _build("zed38", ZED38_JOINTS, ZED38_BONES, ZED38_TO_NTU),
        _build("openni15", OPENNI15_JOINTS, OPENNI15_BONES, OPENNI15_TO_NTU),
    )
}

CANONICAL_BONES: tuple[tuple[int, int], ...] = LAYOUTS[CANONICAL].bones


def _parents(bones: tuple[tuple[int, int], ...], num_joints: int) -> tuple[int, ...]:
    parents = [-1] * num_joints
    for parent, child in bones:
        parents[child] = parent
    return tuple(parents)


# parent of each canonical joint (-1 for the spine base), used to fill joints a sensor never saw
CANONICAL_PARENTS: tuple[int, ...] = _parents(CANONICAL_BONES, len(NTU25_JOINTS))


def get_layout(name: str | JointLayout) -> JointLayout:
    """The layout called ``name`` (a ``JointLayout`` is passed through)."""
    if isinstance(name, JointLayout):
        return name
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(
            f"unknown skeleton layout {name!r}; known layouts: {', '.join(sorted(LAYOUTS))}"
        ) from None
