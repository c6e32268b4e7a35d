"""Per-person buffering: windows at the model rate cut from irregular tracker stamps."""

from __future__ import annotations

import numpy as np
import pytest

from dynapurls_ros.paths import data_root
from dynapurls_ros.ros.buffers import (
    DUPLICATE_STAMP,
    NS_PER_S,
    OUT_OF_ORDER,
    PersonBuffers,
    interpolate,
)

T0 = 1_700_000_000 * NS_PER_S + 123_456_789  # a realistic wall-clock stamp


def real_sequence() -> np.ndarray:
    """A real 30 fps Kinect v2 recording (GTU-3D, 25 joints): (T, 25, 3) metres."""
    path = data_root() / "gtu3d" / "1" / "movement1.txt"
    rows = np.loadtxt(path, dtype=np.float32)
    return rows.reshape(-1, 25, 3)


def stamps_at(rate: float, count: int, start: int = T0) -> list[int]:
    return [start + round(i * NS_PER_S / rate) for i in range(count)]


def feed(buffers: PersonBuffers, person: int, stamps: list[int], joints: np.ndarray) -> list:
    """Push frames one by one, collecting the windows due after each (as the node does:
    ``any_due`` wakes its inference, which then cuts whatever ``ready_windows`` gives)."""
    windows = []
    for stamp, frame in zip(stamps, joints, strict=True):
        assert buffers.push(person, stamp, frame, received=0.0) is None
        due = buffers.any_due()
        cut = buffers.ready_windows(now=0.0)
        assert due == bool(cut)
        assert not buffers.any_due()
        windows += cut
    return windows


def test_interpolate_is_linear_between_samples_and_holds_the_ends() -> None:
    stamps = np.array([T0, T0 + 100, T0 + 300], dtype=np.int64)
    values = np.array([[0.0], [1.0], [3.0]])
    times = np.array([T0 - 50, T0, T0 + 50, T0 + 100, T0 + 200, T0 + 300, T0 + 400])
    got = interpolate(stamps, values, times)[:, 0]
    np.testing.assert_allclose(got, [0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 3.0])


def test_same_rate_windows_reproduce_the_recording() -> None:
    seq = real_sequence()
    buffers = PersonBuffers(window_length=20, stride=5, frame_rate=30.0, person_timeout=1.0)
    stamps = stamps_at(30.0, len(seq))
    windows = feed(buffers, 4, stamps, seq)
    # First window once 20 frames are in, then one every 5 frames.
    assert len(windows) == 1 + (len(seq) - 20) // 5
    first = windows[0]
    assert first.person_id == 4 and first.stamp_ns == stamps[19]
    assert first.joints.shape == (20, 25, 3) and first.joints.dtype == np.float32
    np.testing.assert_allclose(first.joints, seq[:20], atol=1e-5)
    np.testing.assert_allclose(windows[1].joints, seq[5:25], atol=1e-5)
    assert windows[1].stamp_ns == stamps[24]


def test_slower_tracker_is_upsampled_by_interpolation() -> None:
    seq = real_sequence()[::2]  # the recording as a 15 Hz tracker would report it
    buffers = PersonBuffers(window_length=20, stride=10, frame_rate=30.0, person_timeout=1.0)
    windows = feed(buffers, 1, stamps_at(15.0, len(seq)), seq)
    assert windows, "a 15 Hz stream must fill a 30 Hz window"
    first = windows[0].joints
    # The window ends on tracker frame 10 (20/30 s) and reaches back 19/30 s: every
    # other model frame falls on a tracker frame, the ones between are midpoints.
    assert windows[0].stamp_ns == stamps_at(15.0, 11)[-1]
    np.testing.assert_allclose(first[1::2], seq[1:11], atol=1e-5)
    np.testing.assert_allclose(first[0::2], (seq[:10] + seq[1:11]) / 2, atol=1e-5)


def test_jittered_stamps_still_give_one_window_per_stride() -> None:
    rng = np.random.default_rng(0)
    seq = real_sequence()
    stamps = [s + int(rng.integers(-3_000_000, 3_000_000)) for s in stamps_at(30.0, len(seq))]
    buffers = PersonBuffers(window_length=30, stride=10, frame_rate=30.0, person_timeout=1.0)
    windows = feed(buffers, 0, stamps, seq)
    gaps = np.diff([w.stamp_ns for w in windows]) / NS_PER_S
    assert len(windows) == 1 + (len(seq) - 30) // 10
    assert np.all(gaps >= 10 / 30 - 0.01) and np.all(gaps <= 11 / 30 + 0.01)


def test_duplicate_and_out_of_order_stamps_are_dropped() -> None:
    buffers = PersonBuffers(window_length=3, stride=1, frame_rate=30.0, person_timeout=1.0)
    frame = np.zeros((25, 3), np.float32)
    assert buffers.push(1, T0 + 100, frame, received=0.0) is None
    assert buffers.push(1, T0 + 100, frame, received=0.0) == DUPLICATE_STAMP
    assert buffers.push(1, T0 + 50, frame, received=0.0) == OUT_OF_ORDER
    # Another person's clock is independent.
    assert buffers.push(2, T0 + 50, frame, received=0.0) is None


def test_silent_persons_time_out_by_receipt_time() -> None:
    buffers = PersonBuffers(window_length=3, stride=1, frame_rate=30.0, person_timeout=0.5)
    frame = np.zeros((25, 3), np.float32)
    buffers.push(1, T0, frame, received=10.0)
    buffers.push(2, T0, frame, received=10.4)
    assert buffers.expire(now=10.45) == []
    assert buffers.expire(now=10.6) == [1]
    assert buffers.persons == [2]
    assert buffers.ready_windows(now=11.0) == [] and buffers.persons == []


def test_a_stamp_gap_longer_than_the_timeout_starts_a_fresh_track() -> None:
    seq = real_sequence()[:40]
    buffers = PersonBuffers(window_length=10, stride=100, frame_rate=30.0, person_timeout=1.0)
    feed(buffers, 1, stamps_at(30.0, 20), seq[:20])
    later = stamps_at(30.0, 10, start=T0 + 5 * NS_PER_S)
    windows = feed(buffers, 1, later, seq[20:30])
    # The new track's first window uses only frames after the gap, with no stride wait.
    assert len(windows) == 1
    np.testing.assert_allclose(windows[0].joints, seq[20:30], atol=1e-5)


def test_a_track_that_ends_before_its_due_window_was_cut_still_yields_it() -> None:
    """Under load the inference can come only after the person left (timeout) or
    came back as a fresh track: the due window of the old track must not be lost."""
    seq = real_sequence()[:40]
    buffers = PersonBuffers(window_length=10, stride=100, frame_rate=30.0, person_timeout=1.0)
    stamps = stamps_at(30.0, 12)
    for stamp, frame in zip(stamps, seq[:12], strict=True):  # no ready_windows meanwhile
        buffers.push(1, stamp, frame, received=0.0)
    later = stamps_at(30.0, 3, start=T0 + 5 * NS_PER_S)
    for stamp, frame in zip(later, seq[20:23], strict=True):
        buffers.push(1, stamp, frame, received=0.0)
    assert buffers.any_due()  # the ended track's window wakes the inference too
    ended = buffers.ready_windows(now=0.0)
    assert [w.stamp_ns for w in ended] == [stamps[11]]
    np.testing.assert_allclose(ended[0].joints, seq[2:12], atol=1e-5)
    assert buffers.ready_windows(now=0.0) == []

    for stamp, frame in zip(stamps_at(30.0, 12, start=T0 + 9 * NS_PER_S), seq[:12], strict=True):
        buffers.push(2, stamp, frame, received=5.0)
    assert [w.person_id for w in buffers.ready_windows(now=7.0)] == [2]  # timed out
    assert buffers.persons == []


def test_backlog_yields_only_the_newest_window_per_person() -> None:
    seq = real_sequence()
    buffers = PersonBuffers(window_length=10, stride=2, frame_rate=30.0, person_timeout=1.0)
    stamps = stamps_at(30.0, len(seq))
    for person in (7, 3):
        for stamp, frame in zip(stamps, seq, strict=True):
            buffers.push(person, stamp, frame, received=0.0, frame_id="camera")
    windows = buffers.ready_windows(now=0.0)
    assert [w.person_id for w in windows] == [3, 7]
    for window in windows:
        assert window.stamp_ns == stamps[-1] and window.frame_id == "camera"
        np.testing.assert_allclose(window.joints, seq[-10:], atol=1e-5)
    assert buffers.ready_windows(now=0.0) == []


def test_memory_is_bounded_by_the_window_span() -> None:
    buffers = PersonBuffers(window_length=10, stride=5, frame_rate=30.0, person_timeout=1.0)
    frame = np.zeros((25, 3), np.float32)
    for stamp in stamps_at(100.0, 1000):  # a 100 Hz tracker for 10 s
        buffers.push(1, stamp, frame, received=0.0)
    kept = len(buffers._tracks[1].stamps)
    assert kept <= 9 / 30 * 100 + 3


def test_invalid_construction_is_refused() -> None:
    with pytest.raises(ValueError, match="window_length"):
        PersonBuffers(window_length=0, stride=1, frame_rate=30.0, person_timeout=1.0)
    with pytest.raises(ValueError, match="frame_rate"):
        PersonBuffers(window_length=5, stride=1, frame_rate=0.0, person_timeout=1.0)
