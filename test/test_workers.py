"""The node's background threads: vocabulary encoding and event-driven inference."""

from __future__ import annotations

import threading
import time

from dynapurls_ros.ros.workers import InferenceLoop, VocabularyWorker


def wait_until(done, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert done()


def test_vocabulary_worker_ends_on_the_newest_request_and_reports_failures() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []
    ready: list[list[str]] = []
    failed: list[str] = []

    def encode(labels: list[str], descriptions_file: str) -> list[str]:
        calls.append(labels)
        started.set()
        release.wait(5.0)
        if labels == ["boom"]:
            raise RuntimeError("encoder failed")
        return labels

    worker = VocabularyWorker(
        encode, lambda labels, _, encoded: ready.append(encoded), lambda _, e: failed.append(str(e))
    )
    try:
        worker.request(["a"], "")
        assert started.wait(5.0)
        worker.request(["b"], "")  # superseded while queued: never encoded
        worker.request(["c"], "")  # supersedes "a" while it is being encoded
        release.set()
        wait_until(lambda: ready)
        assert calls == [["a"], ["c"]] and ready == [["c"]]
        worker.request(["boom"], "")
        wait_until(lambda: failed)
        assert failed == ["encoder failed"] and ready == [["c"]]
    finally:
        worker.shutdown()


def test_inference_runs_when_woken_not_on_a_timer_and_keeps_a_wake_that_came_mid_step() -> None:
    steps: list[float] = []
    in_step, release = threading.Event(), threading.Event()

    def step() -> None:
        steps.append(time.monotonic())
        in_step.set()
        release.wait(5.0)

    loop = InferenceLoop(step, idle_period=30.0, on_error=lambda error: None)
    loop.start()
    try:
        time.sleep(0.2)
        assert steps == []  # nothing due, and the idle period is far away
        woken = time.monotonic()
        loop.wake()
        assert in_step.wait(1.0)
        assert steps[0] - woken < 0.05  # at once, not at the next tick of a period
        in_step.clear()
        loop.wake()  # a window fell due during the step...
        loop.wake()  # ...and another: one more step cuts both
        release.set()
        wait_until(lambda: len(steps) == 2)
        time.sleep(0.2)
        assert len(steps) == 2
    finally:
        loop.stop()
    assert not loop.alive


def test_inference_loop_reports_an_escaped_error_and_goes_on() -> None:
    errors: list[str] = []
    steps: list[int] = []

    def step() -> None:
        steps.append(1)
        if len(steps) == 1:
            raise RuntimeError("buffers broke")

    loop = InferenceLoop(step, idle_period=0.01, on_error=lambda e: errors.append(str(e)))
    loop.start()
    try:
        wait_until(lambda: len(steps) >= 3)  # the idle period alone keeps it stepping
    finally:
        loop.stop()
    assert errors == ["buffers broke"]
