"""Training-time augmentation: what differs between the recordings a model learns from
and the sensors, people and wordings it meets later.

Windows here are normalised model inputs ``(N, 3, T, 25)`` (torch or numpy) unless a
function says otherwise; in that frame +x points to the body's left, so mirroring is a
sign flip of x plus a swap of the left and right joints.

- viewpoint and body size (:func:`augment`): yaw ±30°, a small tilt, per-axis scale;
- mirror (:func:`mirror`, :func:`mirror_text`): a left-handed performer is the
  right-handed one reflected; the class texts swap "left" and "right" (and clockwise
  and counter-clockwise) with it, so a sided class gets a mirrored twin;
- sensor joint sets (:func:`sensor_map`): a Kinect v1 skeleton has no hand tips or
  thumbs, and its canonical versions are copies of other joints; passing a window
  through such a layout and back teaches the encoder not to rely on joints some
  trackers never measure;
- body proportions and tracking noise (:func:`scale_bones`, :func:`add_jitter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from dynapurls_ros.skeleton.layouts import (
    CANONICAL,
    CANONICAL_PARENTS,
    NTU25_JOINTS,
    get_layout,
)
from dynapurls_ros.text.descriptions import ActionDescription
from dynapurls_ros.training.windows import SPEED_RANGE

BONE_SPREAD = 0.1  # bone lengths are scaled by a factor in [1 - spread, 1 + spread]
TORSO_RANGE = (0.65, 1.15)  # the spine's share of the body: log-uniform factor on its bones
MAX_JITTER = 0.03  # sensor noise: per-window std up to this, in torso lengths


@dataclass(frozen=True)
class Augmentation:
    """Augmentation of labelled training windows (the corpus has its own, fixed).

    ``speed``: range of the random playback speed; ``mirror``: share of windows
    reflected left/right (with their class texts); ``sensors``: share of windows passed
    through a sparser tracker's joint set (``SENSOR_LAYOUTS``); ``bones``: random bone
    lengths and torso ratio per window (:func:`scale_bones`); ``jitter``: largest std of
    white joint noise (torso lengths).
    """

    speed: tuple[float, float] = SPEED_RANGE
    mirror: float = 0.0
    sensors: float = 0.0
    bones: bool = False
    jitter: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "speed", tuple(float(v) for v in self.speed))
        low, high = self.speed
        if not 0 < low <= high:
            raise ValueError(f"Augmentation.speed must be 0 < low <= high, got {self.speed}")
        if not (0 <= self.mirror <= 1 and 0 <= self.sensors <= 1 and self.jitter >= 0):
            raise ValueError(f"Augmentation: shares must be in [0, 1], jitter >= 0: {self}")


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Viewpoint and body-size jitter on normalised windows ``(N, 3, T, V)``: a rotation
    about the vertical axis (±30°) and a small tilt, and per-axis scaling (±10%)."""
    n = batch.shape[0]
    yaw = (torch.rand(n, generator=generator) * 2 - 1) * (np.pi / 6)
    tilt = (torch.rand(n, generator=generator) * 2 - 1) * (np.pi / 18)
    cy, sy, ct, st = yaw.cos(), yaw.sin(), tilt.cos(), tilt.sin()
    zero, one = torch.zeros(n), torch.ones(n)
    rot_y = torch.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], 1).view(n, 3, 3)
    rot_x = torch.stack([one, zero, zero, zero, ct, -st, zero, st, ct], 1).view(n, 3, 3)
    scale = 1 + (torch.rand(n, 3, generator=generator) * 2 - 1) * 0.1
    transform = (rot_y @ rot_x) * scale.unsqueeze(1)
    return torch.einsum("nij,njtv->nitv", transform, batch)


MIRROR_JOINTS = list(get_layout(CANONICAL).mirror_permutation)


def mirror(windows: torch.Tensor) -> torch.Tensor:
    """Normalised windows ``(N, 3, T, 25)`` reflected left/right: the same body doing the
    mirrored action."""
    out = windows[..., MIRROR_JOINTS].clone()
    out[:, 0] *= -1
    return out


_SIDE_WORDS = {
    "left": "right",
    "right": "left",
    "clockwise": "counter clockwise",
    "counterclockwise": "clockwise",
    "anticlockwise": "clockwise",
}
_SIDES = re.compile(r"\b(counter[ -]clockwise|anti[ -]clockwise|left|right|clockwise)\b", re.I)


def mirror_text(text: str) -> str:
    """``text`` with left and right (and the senses of rotation) swapped: what a mirrored
    performer does. Text without such words is returned unchanged."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        key = re.sub(r"[ -]", "", word.lower())
        swapped = _SIDE_WORDS.get(key, word)
        return swapped.capitalize() if word[0].isupper() else swapped

    return _SIDES.sub(swap, text)


SIDE_WORDS = frozenset(
    ("left", "right", "clockwise", "counter", "counterclockwise", "anti", "anticlockwise")
)


def side_signature(text: str) -> str:
    """The side and rotation words of ``text`` in order ("" for none): two slot texts
    may count as the same only if they agree on these (a left and a right leg swing read
    alike to the text encoder)."""
    return " ".join(w for w in re.findall(r"[a-z]+", text.lower()) if w in SIDE_WORDS)


def mirror_description(description: ActionDescription) -> ActionDescription:
    """The description of the mirrored action (label and every slot swapped)."""
    return ActionDescription(
        label=mirror_text(description.label),
        texts=tuple(mirror_text(t) for t in description.texts),
        synonyms=tuple(mirror_text(s) for s in description.synonyms),
    )


# Sparser trackers whose joint sets a window may be passed through.
SENSOR_LAYOUTS = ("kinect_v1",)


def sensor_matrix(layout: str) -> torch.Tensor:
    """``(25, 25)`` map of canonical joints onto what ``layout`` gives back: each joint
    the layout measures is read from its nearest canonical joint, then the layout's own
    canonical mapping fills the rest (hand tips from hands, ...)."""
    spec = get_layout(layout)
    matrix = spec.to_canonical.matrix  # (25, V)
    nearest = matrix.argmax(axis=0)  # canonical joint each layout joint stands for
    select = np.zeros((matrix.shape[1], len(NTU25_JOINTS)), dtype=np.float32)
    select[np.arange(matrix.shape[1]), nearest] = 1.0
    return torch.from_numpy(matrix @ select)


SENSOR_MATRICES = torch.stack([sensor_matrix(name) for name in SENSOR_LAYOUTS])


def sensor_map(windows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Windows ``(N, 3, T, 25)`` passed through a random one of ``SENSOR_LAYOUTS``."""
    pick = torch.randint(len(SENSOR_LAYOUTS), (len(windows),), generator=generator)
    return torch.einsum("nuv,nctv->nctu", SENSOR_MATRICES[pick], windows)


def _tree_order(parents: tuple[int, ...]) -> list[int]:
    """Joints ordered so that every parent comes before its children."""
    order = [j for j, p in enumerate(parents) if p < 0]
    for joint in order:  # grows while iterating: breadth-first
        order += [j for j, p in enumerate(parents) if p == joint]
    return order


CANONICAL_ORDER = _tree_order(CANONICAL_PARENTS)
SPINE_BONES = [NTU25_JOINTS.index(j) for j in ("spine_mid", "spine_shoulder")]  # by child


def scale_bones(
    clip: np.ndarray,
    rng: np.random.Generator,
    spread: float = BONE_SPREAD,
    torso_range: tuple[float, float] = TORSO_RANGE,
) -> np.ndarray:
    """``(T, 25, 3)`` canonical clip with every bone's length scaled by its own random
    factor (constant over the clip), rebuilt from the root outwards so that children
    follow their scaled parents; the root trajectory is unchanged.

    The two spine bones also share one factor from ``torso_range`` (log-uniform):
    windows are measured in torso lengths, and trackers place the spine joints
    differently (Kinect v1's hip centre sits high: NW-UCLA's legs measure 2.1 torso
    lengths, CMU's and GTU-3D's 1.4-1.6), so training must not teach the encoder one
    limb-to-torso ratio."""
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=len(CANONICAL_PARENTS))
    low, high = np.log(torso_range[0]), np.log(torso_range[1])
    factors[SPINE_BONES] *= float(np.exp(rng.uniform(low, high)))
    out = clip.copy()
    for joint in CANONICAL_ORDER:
        parent = CANONICAL_PARENTS[joint]
        if parent >= 0:
            out[:, joint] = out[:, parent] + factors[joint] * (clip[:, joint] - clip[:, parent])
    return out


def add_jitter(
    windows: np.ndarray, rng: np.random.Generator, max_std: float = MAX_JITTER
) -> np.ndarray:
    """Normalised windows ``(B, 3, T, V)`` plus white sensor noise, each window with its
    own std drawn from ``[0, max_std]`` torso lengths.

    Motion capture is smooth; depth-camera trackers are not (frame-to-frame
    acceleration of NW-UCLA joints is ~12x CMU's, GTU-3D's ~4x). An encoder that has
    only seen smooth motion reads that jitter as violent motion."""
    std = rng.uniform(0.0, max_std, size=(len(windows), 1, 1, 1))
    return (windows + std * rng.standard_normal(windows.shape)).astype(np.float32)
