"""The node's robot-facing outputs, each in its own node process driven over DDS:
"unknown" (open-set rejection), smoothing, action segments and RViz markers.

Real model, real GTU-3D recordings, real messages; the test process is the tracker and
the listener.
"""

from __future__ import annotations

import numpy as np
import pytest
from dynapurls_ros.msg import ActionSegment
from test_node_ros import NODE, recording, session_factory, stamp  # noqa: F401 (fixture)
from visualization_msgs.msg import Marker, MarkerArray

from dynapurls_ros.ros.buffers import NS_PER_S
from dynapurls_ros.ros.inputs import stamp_ns
from dynapurls_ros.ros.markers import CLEARANCE_M, HEAD, NAMESPACE

# GTU-3D class names: the recordings below are of the first two.
VOCABULARY = ["crouching", "walking", "right handed shaking", "neck relaxation"]


@pytest.mark.ros
def test_rejection_says_unknown_keeps_the_window_label_and_can_be_switched_off(
    session_factory,  # noqa: F811
) -> None:
    # Without smoothing, a window is "unknown" exactly when its open-set score is below
    # 0; the window's own best label and its probability stay in the message. At the
    # highest level most windows of a recording are rejected.
    session = session_factory(vocabulary=VOCABULARY, rejection_level=0.99, smoothing_window=0.0)
    session.wait_for_vocabulary(VOCABULARY)
    frames = session.frames_for_labels(6)
    person = {1: recording("12", 3 * frames)}
    session.stream(person, range(frames))
    assert session.client.spin_until(lambda: len(session.labels) >= 5, 10.0), session.node.output()
    for msg in session.labels:
        assert (msg.label == "unknown") == (msg.known_score < 0.0)
        assert msg.label in {"unknown", msg.window_label}
        assert msg.window_label in VOCABULARY and msg.top_labels[0] == msg.window_label
        assert msg.window_confidence == pytest.approx(msg.top_scores[0])
    unknown = [msg.label == "unknown" for msg in session.labels]
    assert sum(unknown) > len(unknown) / 2, [m.known_score for m in session.labels]

    # Rejection off (live): every label is a vocabulary label; with no smoothing it is
    # the window's own.
    assert session.client.set_parameters(NODE, rejection_enabled=False)[0].successful
    seen = len(session.labels)
    session.stream(person, range(frames, 2 * frames))
    assert session.client.spin_until(lambda: len(session.labels) >= seen + 3, 10.0)
    after = [m for m in session.labels if stamp_ns(m.header.stamp) >= stamp(frames)]
    assert len(after) >= 3
    for msg in after:
        assert msg.label == msg.window_label and msg.label in VOCABULARY
    code, output = session.close()
    assert code == 0, output


@pytest.mark.ros
def test_hysteresis_holds_the_label_until_a_rival_leads(session_factory) -> None:  # noqa: F811
    # A lead of more than every vote is impossible: the first label stays, whatever the
    # windows say. Without smoothing the label follows the windows.
    session = session_factory(
        vocabulary=VOCABULARY,
        rejection_enabled=False,
        smoothing_window=60.0,
        smoothing_hysteresis=1.0,
    )
    session.wait_for_vocabulary(VOCABULARY)
    frames = session.frames_for_labels(6)
    # Two different actions one after the other: crouching (12), then walking (6).
    person = {1: np.concatenate([recording("12", frames), recording("6", 2 * frames)])}
    session.stream(person, range(2 * frames))
    assert session.client.spin_until(lambda: len(session.labels) >= 10, 15.0)
    labels = session.labels
    assert len({msg.window_label for msg in labels}) > 1, "the windows never disagreed"
    assert {msg.label for msg in labels} == {labels[0].label}
    votes = [msg.window_label == labels[0].label for msg in labels]
    # The confidence is the share of the span's windows that voted for the label.
    assert labels[-1].confidence == pytest.approx(sum(votes) / len(votes), abs=1e-6)

    assert session.client.set_parameters(NODE, smoothing_window=0.0)[0].successful
    seen = len(session.labels)
    session.stream(person, range(2 * frames, 3 * frames))
    assert session.client.spin_until(lambda: len(session.labels) >= seen + 4, 10.0)
    after = [m for m in session.labels if stamp_ns(m.header.stamp) >= stamp(2 * frames)]
    assert len(after) >= 3
    for msg in after:  # windows cut after the change
        assert msg.label == msg.window_label and msg.confidence == 1.0
    code, output = session.close()
    assert code == 0, output


@pytest.mark.ros
def test_segments_and_markers_follow_each_person(session_factory) -> None:  # noqa: F811
    session = session_factory(vocabulary=VOCABULARY, person_timeout=0.3, marker_lifetime=0.5)
    segments = session.client.collect(ActionSegment, "/action_segments", 100)
    markers = session.client.collect(MarkerArray, f"{NODE}/markers", 100)
    session.wait_for_vocabulary(VOCABULARY)
    frames = session.frames_for_labels(8)
    persons = {1: recording("12", 2 * frames), 2: recording("6", 2 * frames)}
    session.stream(persons, range(frames))
    # Both tracks end: after the timeout each person's open segment is published and
    # their marker deleted.
    assert session.client.spin_until(
        lambda: (
            {s.person_id for s in segments} == {1, 2}
            and sum(m.action == Marker.DELETE for a in markers for m in a.markers) == 2
        ),
        10.0,
    ), session.node.output()

    labels = {1: [], 2: []}
    for msg in session.labels:
        labels[msg.person_id].append(msg)
    for person, published in labels.items():
        mine = sorted(
            (s for s in segments if s.person_id == person), key=lambda s: stamp_ns(s.start)
        )
        # Segments tile the person's labels: each starts where the label changed, the
        # next starts where it ended, and together they hold every window.
        runs = [published[0]]
        for before, msg in zip(published, published[1:], strict=False):
            if msg.label != before.label:
                runs.append(msg)
        assert [s.label for s in mine] == [r.label for r in runs]
        assert [stamp_ns(s.start) for s in mine] == [stamp_ns(r.header.stamp) for r in runs]
        assert sum(s.windows for s in mine) == len(published)
        for segment, following in zip(mine, mine[1:], strict=False):
            assert stamp_ns(segment.end) == stamp_ns(following.start)
        assert stamp_ns(mine[-1].end) == stamp_ns(published[-1].header.stamp)
        for segment in mine:
            assert segment.header.frame_id == "camera" and 0.0 <= segment.confidence <= 1.0

    text = [m for a in markers for m in a.markers if m.action == Marker.ADD]
    assert {m.id for m in text} == {1, 2}
    newest = {m.id: m for m in text}
    for person, marker in newest.items():
        assert marker.ns == NAMESPACE and marker.type == Marker.TEXT_VIEW_FACING
        assert marker.header.frame_id == "camera"
        assert marker.text.split(" ")[0] == labels[person][-1].label.split(" ")[0]
        assert marker.lifetime.sec + marker.lifetime.nanosec / NS_PER_S == pytest.approx(0.5)
        # Above the head of the window's last frame, by the clearance, along the spine.
        k = (stamp_ns(marker.header.stamp) - stamp(0)) * 30 // NS_PER_S
        head = persons[person][int(round(k))][HEAD]
        position = np.array(
            [marker.pose.position.x, marker.pose.position.y, marker.pose.position.z]
        )
        assert np.linalg.norm(position - head) == pytest.approx(CLEARANCE_M, abs=1e-3)

    # Markers off (live): labels keep coming, no marker does.
    assert session.client.set_parameters(NODE, markers_enabled=False)[0].successful
    count, seen = len(markers), len(session.labels)
    session.stream(persons, range(frames, 2 * frames))
    assert session.client.spin_until(lambda: len(session.labels) > seen, 10.0)
    session.client.spin_for(1.0)
    assert len(markers) == count
    code, output = session.close()
    assert code == 0, output
