"""Procedural skeleton motions: the demo's stream when no dataset is on the machine.

A neutral NTU-25 standing pose (metres, y up, facing +z, the person's left at +x) is
animated with a few textbook gestures. They are kinematic sketches, not captures, but
they run the whole path (tracker message -> buffers -> model -> labels) on any machine.
"""

from __future__ import annotations

import numpy as np

FPS = 30.0

# Neutral pose, NTU-25 joint order.
NEUTRAL = np.array(
    [
        [0.00, 1.00, 0.0],  # 0 spine base
        [0.00, 1.25, 0.0],  # 1 spine mid
        [0.00, 1.55, 0.0],  # 2 neck
        [0.00, 1.70, 0.0],  # 3 head
        [0.18, 1.45, 0.0],  # 4 L shoulder
        [0.22, 1.18, 0.0],  # 5 L elbow
        [0.24, 0.95, 0.0],  # 6 L wrist
        [0.24, 0.88, 0.0],  # 7 L hand
        [-0.18, 1.45, 0.0],  # 8 R shoulder
        [-0.22, 1.18, 0.0],  # 9 R elbow
        [-0.24, 0.95, 0.0],  # 10 R wrist
        [-0.24, 0.88, 0.0],  # 11 R hand
        [0.10, 0.98, 0.0],  # 12 L hip
        [0.11, 0.55, 0.0],  # 13 L knee
        [0.11, 0.10, 0.0],  # 14 L ankle
        [0.11, 0.03, 0.10],  # 15 L foot
        [-0.10, 0.98, 0.0],  # 16 R hip
        [-0.11, 0.55, 0.0],  # 17 R knee
        [-0.11, 0.10, 0.0],  # 18 R ankle
        [-0.11, 0.03, 0.10],  # 19 R foot
        [0.00, 1.48, 0.0],  # 20 spine shoulder
        [0.24, 0.82, 0.0],  # 21 L hand tip
        [0.22, 0.87, 0.03],  # 22 L thumb
        [-0.24, 0.82, 0.0],  # 23 R hand tip
        [-0.22, 0.87, 0.03],  # 24 R thumb
    ],
    dtype=np.float32,
)
L_ARM, R_ARM = [5, 6, 7, 21, 22], [9, 10, 11, 23, 24]
L_SHOULDER, R_SHOULDER = 4, 8


def _rotate_about(points: np.ndarray, pivot: np.ndarray, axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rotation = {
        "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
        "x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
    }[axis]
    return (points - pivot) @ rotation.T + pivot


def _frames(count: int) -> np.ndarray:
    return np.repeat(NEUTRAL[None], count, axis=0).copy()


def arms_open_close(cycles: int = 2, seconds: float = 3.0) -> np.ndarray:
    """Both straight arms rise sideways to shoulder height and come back down."""
    t = np.linspace(0, 1, round(seconds * FPS))
    pose = _frames(len(t))
    for i, phase in enumerate(t):
        angle = (np.pi / 2) * 0.5 * (1 - np.cos(2 * np.pi * cycles * phase))
        pose[i, L_ARM] = _rotate_about(pose[i, L_ARM], pose[i, L_SHOULDER], "z", angle)
        pose[i, R_ARM] = _rotate_about(pose[i, R_ARM], pose[i, R_SHOULDER], "z", -angle)
    return pose


def wave_right_hand(seconds: float = 3.0) -> np.ndarray:
    """The right arm rises beside the head and the forearm sways side to side."""
    t = np.linspace(0, seconds, round(seconds * FPS))
    pose = _frames(len(t))
    for i, time in enumerate(t):
        lift = min(1.0, time / 0.5)
        arm = _rotate_about(pose[i, R_ARM], pose[i, R_SHOULDER], "z", -lift * 2.6)
        elbow = arm[0]
        sway = lift * 0.5 * np.sin(2 * np.pi * 2.0 * time)
        arm[1:] = _rotate_about(arm[1:], elbow, "z", sway)
        pose[i, R_ARM] = arm
    return pose


def crouch(cycles: int = 2, seconds: float = 3.0) -> np.ndarray:
    """Half squats: hips and everything above them drop while the knees move forward."""
    t = np.linspace(0, 1, round(seconds * FPS))
    pose = _frames(len(t))
    upper = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 20, 21, 22, 23, 24]
    for i, phase in enumerate(t):
        depth = 0.35 * 0.5 * (1 - np.cos(2 * np.pi * cycles * phase))
        pose[i, upper, 1] -= depth
        pose[i, upper, 2] -= 0.4 * depth
        pose[i, [13, 17], 1] -= 0.4 * depth
        pose[i, [13, 17], 2] += 0.6 * depth
        pose[i, L_ARM + R_ARM, 2] += 1.2 * depth  # arms reach forward for balance
    return pose


def walk_in_place(seconds: float = 3.0) -> np.ndarray:
    """Alternate knee lifts with opposite arm swings."""
    t = np.linspace(0, seconds, round(seconds * FPS))
    pose = _frames(len(t))
    for i, time in enumerate(t):
        swing = np.sin(2 * np.pi * 1.0 * time)
        for knee, ankle, foot, sign in ((13, 14, 15, 1.0), (17, 18, 19, -1.0)):
            lift = max(0.0, sign * swing) * 0.15
            pose[i, [knee, ankle, foot], 1] += lift
            pose[i, knee, 2] += lift
        pose[i, L_ARM] = _rotate_about(pose[i, L_ARM], pose[i, L_SHOULDER], "x", -0.4 * swing)
        pose[i, R_ARM] = _rotate_about(pose[i, R_ARM], pose[i, R_SHOULDER], "x", 0.4 * swing)
    return pose


MOTIONS = {
    "opening and closing the arms": arms_open_close,
    "wave": wave_right_hand,
    "crouching": crouch,
    "walking": walk_in_place,
}


def motion(label: str) -> np.ndarray:
    """``(T, 25, 3)`` float32 NTU-25 sequence of the named motion at :data:`FPS`."""
    try:
        return MOTIONS[label]().astype(np.float32)
    except KeyError:
        raise ValueError(f"no synthetic motion {label!r}; known: {sorted(MOTIONS)}") from None
