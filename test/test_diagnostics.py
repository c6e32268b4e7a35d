"""Node counters, latency percentiles and the /diagnostics message built from them."""

from __future__ import annotations

import threading

import pytest
from diagnostic_msgs.msg import DiagnosticStatus

from dynapurls_ros.ros.diagnostics import Snapshot, Stats, diagnostic_array, status_level, summary


def test_counts_drops_and_latency_percentiles() -> None:
    stats = Stats(latency_samples=100)
    for ms in range(1, 201):  # only the newest 100 (101..200 ms) are kept
        stats.latency(ms / 1000)
    stats.count("messages", 3)
    stats.drop("out_of_order")
    stats.drop("out_of_order")
    snap = stats.snapshot()
    assert snap.counts == {"messages": 3} and snap.drops == {"out_of_order": 2}
    assert snap.latency_ms["p50"] == pytest.approx(150.5)
    assert snap.latency_ms["p99"] == pytest.approx(199.01)
    assert snap.latency_ms["max"] == pytest.approx(200.0)
    line = summary(snap)
    assert "messages=3" in line and "out_of_order=2" in line and "p90=" in line


def test_counters_are_safe_across_threads() -> None:
    stats = Stats()

    def work() -> None:
        for _ in range(5000):
            stats.count("skeletons")
            stats.drop("non_finite_joints")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snap = stats.snapshot()
    assert snap.counts["skeletons"] == 20000 and snap.drops["non_finite_joints"] == 20000


def test_status_warns_on_a_problem_or_mostly_dropped_input() -> None:
    before = Snapshot({"skeletons": 10}, {"wrong_joint_count": 1})
    fine = Snapshot({"skeletons": 40}, {"wrong_joint_count": 2})
    assert status_level(fine, before, None) == (DiagnosticStatus.OK, "running")
    level, message = status_level(fine, before, "no vocabulary yet")
    assert level == DiagnosticStatus.WARN and message == "no vocabulary yet"
    bad = Snapshot({"skeletons": 12}, {"wrong_joint_count": 9})
    level, message = status_level(bad, before, None)
    assert level == DiagnosticStatus.WARN and "8 of 10 skeletons dropped" in message


def test_diagnostic_array_lists_every_value() -> None:
    snap = Snapshot({"labels": 4}, {"out_of_order": 1}, {"p50": 12.345})
    array = diagnostic_array(
        "node: recognition", DiagnosticStatus.OK, "running", snap, {"persons": "1,2"}
    )
    (status,) = array.status
    assert status.name == "node: recognition" and status.level == DiagnosticStatus.OK
    values = {kv.key: kv.value for kv in status.values}
    assert values == {
        "labels": "4",
        "dropped out_of_order": "1",
        "latency p50 ms": "12.35",
        "persons": "1,2",
    }
