"""RViz text markers: each person's label floating above their head.

One ``TEXT_VIEW_FACING`` marker per person (namespace ``action_labels``, id = person id),
in the tracker's frame, so RViz draws it where the tracker sees the person, turned to
the viewer. "Above" is along the person's own spine (spine base to head), which works
whatever way up the sensor frame is (a camera's y points down, a robot's z up). Each
marker has a lifetime, so a label disappears when the node stops sending; a person
whose track ends gets a DELETE at once.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration, Time
from visualization_msgs.msg import Marker

from dynapurls_ros.skeleton.layouts import NTU25_JOINTS

NAMESPACE = "action_labels"
HEAD = NTU25_JOINTS.index("head")
SPINE_BASE = NTU25_JOINTS.index("spine_base")
# Metres above the head joint, and the letters' height.
CLEARANCE_M = 0.25
TEXT_HEIGHT_M = 0.15
KNOWN_RGBA = (1.0, 1.0, 1.0, 1.0)
UNKNOWN_RGBA = (0.6, 0.6, 0.6, 0.8)


def _duration(seconds: float) -> Duration:
    sec = int(seconds)
    return Duration(sec=sec, nanosec=int(round((seconds - sec) * 1e9)))


def label_marker(
    person_id: int,
    frame_id: str,
    stamp: Time,
    joints: np.ndarray,
    text: str,
    known: bool,
    lifetime_s: float,
) -> Marker:
    """The text marker of one person from their latest canonical joints ``(25, 3)``."""
    head, base = joints[HEAD].astype(np.float64), joints[SPINE_BASE].astype(np.float64)
    up = head - base
    length = float(np.linalg.norm(up))
    position = head + (up / length * CLEARANCE_M if length > 1e-6 else 0.0)
    marker = Marker(ns=NAMESPACE, id=int(person_id), type=Marker.TEXT_VIEW_FACING)
    marker.action = Marker.ADD
    marker.header.frame_id = frame_id
    marker.header.stamp = stamp
    marker.pose.position.x, marker.pose.position.y, marker.pose.position.z = map(float, position)
    marker.pose.orientation.w = 1.0
    marker.scale.z = TEXT_HEIGHT_M
    marker.color.r, marker.color.g, marker.color.b, marker.color.a = (
        KNOWN_RGBA if known else UNKNOWN_RGBA
    )
    marker.text = text
    marker.lifetime = _duration(lifetime_s)
    return marker


def delete_marker(person_id: int, frame_id: str) -> Marker:
    """Removes a person's marker (their track ended)."""
    marker = Marker(ns=NAMESPACE, id=int(person_id), action=Marker.DELETE)
    marker.header.frame_id = frame_id
    return marker
