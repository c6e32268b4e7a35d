"""Turn raw joint sequences into model input: clean, normalise, resample.

The same chain (layout -> canonical joints, ``clean``, then ``to_input``) runs on every
training window and on every window in the live node, so training and inference see
identically prepared data. It is numpy only and vectorised.

The canonical frame after ``normalize`` (see docs/DATA.md): origin at the spine base at the
start of the sequence, +y along the spine (up), +x toward the body's left (right hip ->
left hip), +z the direction the body faces; right-handed; lengths in units of the body's
torso length (spine base -> spine shoulder).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layouts import NTU25_JOINTS, JointLayout, get_layout

SPINE_BASE = NTU25_JOINTS.index("spine_base")
SPINE_SHOULDER = NTU25_JOINTS.index("spine_shoulder")
LEFT_HIP, RIGHT_HIP = NTU25_JOINTS.index("left_hip"), NTU25_JOINTS.index("right_hip")
LEFT_SHOULDER = NTU25_JOINTS.index("left_shoulder")
RIGHT_SHOULDER = NTU25_JOINTS.index("right_shoulder")

# Frames averaged for the origin and the orientation: a few frames smooth sensor jitter
# while still describing the posture the action starts from.
ALIGN_FRAMES = 5

# Below this, a torso or lateral direction is a sensor failure, not a body.
_MIN_LENGTH = 1e-6

# A frame whose joints all lie within this distance (metres) of each other, or whose
# torso is shorter, is a tracker's placeholder for a lost body (Kinect trackers send all
# joints at 0), not a pose: no person is 1 cm tall.
MIN_EXTENT = 0.01


def _as_sequence(joints: np.ndarray) -> np.ndarray:
    x = np.asarray(joints, dtype=np.float32)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"joints must have shape (T, V, 3), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("joints is an empty sequence (0 frames)")
    return x


def _finite_joints(x: np.ndarray) -> np.ndarray:
    """``(..., V)`` mask of joints whose 3 coordinates are all finite.

    Written out per coordinate: a reduction over the length-3 axis is ~10x slower.
    """
    finite = np.isfinite(x)
    return finite[..., 0] & finite[..., 1] & finite[..., 2]


def clean(joints: np.ndarray, parents: Sequence[int] | None = None) -> np.ndarray:
    """Replace NaN/inf joints so that every returned value is finite.

    A joint counts as missing in a frame when any of its coordinates is NaN/inf. Frames
    where every joint is missing are dropped (the body was not tracked then). Each other
    missing joint is linearly interpolated over time from the frames where it was seen,
    holding the first/last seen position at the ends. A joint missing in *every* frame is
    copied from its nearest seen ancestor in ``parents`` (``parents[v]`` is the parent of
    joint ``v``, -1 for the root, e.g. ``layouts.CANONICAL_PARENTS``); without ``parents``
    that is a ValueError. An input with no valid frame raises ValueError.

    Returns ``(T', V, 3)`` float32 with ``T' <= T``; the input itself when it was clean.
    """
    x = _as_sequence(joints)
    if np.isfinite(x).all():
        return x
    valid = _finite_joints(x)  # (T, V)
    kept = valid.any(axis=1)
    if not kept.any():
        raise ValueError(
            f"no valid frame: every joint of all {len(x)} frames is NaN/inf "
            "(the body was never tracked)"
        )
    x, valid = x[kept], valid[kept]
    out = x.copy()
    frames = np.arange(len(x))
    never_seen = []
    for v in np.flatnonzero(~valid.all(axis=0)):
        ok = valid[:, v]
        if not ok.any():
            never_seen.append(int(v))
            continue
        # np.interp holds the first/last valid value beyond the ends.
        for c in range(3):
            out[:, v, c] = np.interp(frames, frames[ok], x[ok, v, c])
    if never_seen:
        if parents is None:
            raise ValueError(
                f"joints {never_seen} are NaN/inf in every frame; pass parents= to fill "
                "them from the skeleton tree"
            )
        missing = set(never_seen)
        for v in never_seen:
            source = v
            while source in missing:
                source = parents[source]
                if source < 0:
                    raise ValueError(f"joint {v} and all its ancestors are NaN/inf in every frame")
            out[:, v] = out[:, source]
    return out


def lost_frames(joints: np.ndarray) -> np.ndarray:
    """``(T,)`` mask of the frames of a canonical ``(T, 25, 3)`` sequence that hold no
    body: every joint missing (NaN/inf), the seen joints collapsed within ``MIN_EXTENT``
    (lost-tracking zeros), or a torso shorter than that (normalize could not orient it)."""
    x = _as_sequence(joints)
    finite = _finite_joints(x)[..., None]
    # a frame without any finite joint gets -inf - inf: no extent
    extent = np.where(finite, x, -np.inf).max(axis=1) - np.where(finite, x, np.inf).min(axis=1)
    collapsed = ~(extent.max(axis=1) >= MIN_EXTENT)
    torso_seen = finite[:, SPINE_SHOULDER, 0] & finite[:, SPINE_BASE, 0]
    with np.errstate(invalid="ignore"):
        torso = np.linalg.norm(x[:, SPINE_SHOULDER] - x[:, SPINE_BASE], axis=-1)
    return collapsed | (torso_seen & ~(torso >= MIN_EXTENT))


def repair(joints: np.ndarray, parents: Sequence[int]) -> tuple[np.ndarray, int]:
    """A canonical sequence with its lost frames (``lost_frames``) dropped and its missing
    joints filled (``clean``), and how many frames were dropped. ValueError when no frame
    holds a body."""
    x = _as_sequence(joints)
    lost = lost_frames(x)
    if lost.all():
        raise ValueError(f"no tracked body in any of its {len(x)} frames (lost tracking)")
    return clean(x[~lost], parents), int(lost.sum())


def normalize(joints: np.ndarray) -> np.ndarray:
    """Express a clean canonical ``(T, 25, 3)`` sequence in the canonical body frame.

    - Centre: the spine base averaged over the first ``ALIGN_FRAMES`` frames, one offset
      for the whole sequence. Per-frame centring would erase the body's own translation,
      which is what tells "walk", "sit down" or "jump up" apart; centring once keeps it
      while removing where the person stood in the room.
    - Scale: divide by the median torso length (spine base -> spine shoulder) over all
      frames. The torso is the best-tracked segment and does not change with arm or leg
      poses; the median ignores glitch frames. This removes body-size and depth-estimate
      differences between people and sensors.
    - Rotation: from the same averaged first frames, the spine becomes +y and the lateral
      direction (right -> left hip plus right -> left shoulder, orthogonalised against the
      spine) becomes +x, so the body faces +z. Using shoulders as well as hips makes the
      lateral direction robust: Kinect hips are only ~15 cm apart and noisy. Later frames
      keep their rotation relative to the start (turning around stays visible).

    The result is invariant to any rotation, translation and uniform scaling of the input.
    It is not invariant to a mirror image (left and right are part of the action).
    """
    x = _as_sequence(joints)
    if x.shape[1] != len(NTU25_JOINTS):
        raise ValueError(f"normalize expects canonical joints (T, 25, 3), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("normalize needs finite joints; run clean() first")
    start = x[:ALIGN_FRAMES].mean(axis=0, dtype=np.float64)
    torso = x[:, SPINE_SHOULDER] - x[:, SPINE_BASE]
    scale = float(np.sqrt(_median(np.einsum("ij,ij->i", torso, torso))))
    if scale < _MIN_LENGTH:
        raise ValueError("degenerate skeleton: spine base and spine shoulder coincide")
    up = _unit(start[SPINE_SHOULDER] - start[SPINE_BASE])
    if up is None:
        raise ValueError("degenerate skeleton: no spine direction in the first frames")
    lateral = (start[LEFT_HIP] - start[RIGHT_HIP]) + (start[LEFT_SHOULDER] - start[RIGHT_SHOULDER])
    lateral = _unit(lateral - lateral.dot(up) * up)
    if lateral is None:
        raise ValueError("degenerate skeleton: hips and shoulders give no left-right direction")
    (ax, ay, az), (bx, by, bz) = lateral.tolist(), up.tolist()
    facing = (ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx)  # lateral x up
    # rows of the rotation are the new x, y, z axes; applied as points @ rotation.T / scale
    transform = np.array([lateral, up, facing]).T / scale
    out = x.reshape(-1, 3) @ transform.astype(np.float32)
    out -= (start[SPINE_BASE] @ transform).astype(np.float32)
    return out.reshape(x.shape)


def _median(values: np.ndarray) -> float:
    """Median of a 1-D array (np.median costs ~10x more on the short arrays used here)."""
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float(ordered[middle - 1] + ordered[middle]) / 2


def _unit(vector: np.ndarray) -> np.ndarray | None:
    """``vector`` scaled to length 1, or None when it is too short to have a direction."""
    length = float(np.sqrt(vector.dot(vector)))
    return None if length < _MIN_LENGTH else vector / length


def resample(
    joints: np.ndarray, length: int, timestamps: Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """Linearly interpolate a ``(T, ...)`` sequence to ``length`` frames.

    Without ``timestamps`` the frames are taken as evenly spaced; with them (seconds, one
    per frame, strictly increasing) the output frames are evenly spaced in time between the
    first and last timestamp, so dropped or jittery sensor frames do not distort the
    motion. A single frame is repeated; shorter sequences are stretched, longer ones
    squeezed, always keeping the first and last frame. Returns float32, the input itself
    when it already has ``length`` frames and no timestamps are given.
    """
    x = np.asarray(joints, dtype=np.float32)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError("cannot resample an empty sequence")
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    count = len(x)
    if timestamps is None and count == length:
        return x
    if timestamps is None:
        position = np.linspace(0.0, count - 1, length)
    else:
        t = np.asarray(timestamps, dtype=np.float64)
        if t.shape != (count,):
            raise ValueError(f"expected {count} timestamps, got shape {t.shape}")
        if not np.isfinite(t).all() or (np.diff(t) <= 0).any():
            raise ValueError("timestamps must be finite and strictly increasing")
        position = np.interp(np.linspace(t[0], t[-1], length), t, np.arange(count))
    low = np.minimum(position.astype(np.intp), max(count - 2, 0))
    high = np.minimum(low + 1, count - 1)
    weight = (position - low).astype(np.float32).reshape((length,) + (1,) * (x.ndim - 1))
    return x[low] * (1 - weight) + x[high] * weight


def motion_energy(bodies: np.ndarray) -> np.ndarray:
    """How much each of ``(M, T, V, 3)`` bodies moves: one score per body.

    The score is the variance over time of every joint coordinate, summed, over the frames
    where the joint is finite, times the fraction of frames the body is present in. A
    bystander or a furniture false positive barely moves; a ghost body seen for a few
    frames is discounted. Bodies never seen score -1.
    """
    b = np.asarray(bodies, dtype=np.float64)
    if b.ndim != 4 or b.shape[-1] != 3 or b.shape[1] == 0:
        raise ValueError(f"bodies must have shape (M, T > 0, V, 3), got {b.shape}")
    seen = np.isfinite(b)
    count = np.maximum(seen.sum(axis=1), 1)
    mean = np.where(seen, b, 0).sum(axis=1) / count
    variance = np.where(seen, (b - mean[:, None]) ** 2, 0).sum(axis=1) / count
    present = _finite_joints(b).any(axis=-1).mean(axis=1)
    return np.where(present > 0, variance.sum(axis=(1, 2)) * present, -1.0)


def select_main_body(bodies: np.ndarray) -> np.ndarray:
    """The ``(T, V, 3)`` body of ``(M, T, V, 3)`` that moves most (see ``motion_energy``)."""
    energy = motion_energy(bodies)
    if len(energy) == 0 or energy.max() < 0:
        raise ValueError("no body is tracked in any frame")
    return np.asarray(bodies, dtype=np.float32)[int(np.argmax(energy))]


def mirror(joints: np.ndarray, layout: str | JointLayout) -> np.ndarray:
    """The left/right mirror image of ``(..., V, 3)`` joints: x negated, sides swapped.

    Negating x alone would give a left-handed body; swapping the joint labels as well
    gives a proper body performing the mirrored action (a left-hand wave becomes a
    right-hand wave), whatever the facing direction.
    """
    permutation = list(get_layout(layout).mirror_permutation)
    out = np.array(np.asarray(joints, dtype=np.float32)[..., permutation, :])
    out[..., 0] *= -1
    return out


def to_input(window: np.ndarray) -> np.ndarray:
    """``(T, 25, 3)`` clean canonical window -> normalised ``(3, T, 25)`` float32 model
    input: what training, evaluation and the live recognizer all feed the network."""
    return np.ascontiguousarray(normalize(window).transpose(2, 0, 1), dtype=np.float32)
