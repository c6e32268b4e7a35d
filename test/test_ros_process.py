"""``stop_process``: a node child is interrupted first and killed only when it hangs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from dynapurls_ros.ros.process import stop_process

# Prints once its SIGINT handler is installed, so the test never signals it too early.
CHILD = """
import signal, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
else:
    signal.signal(signal.SIGINT, lambda *_: sys.exit(7))
print("ready", flush=True)
time.sleep(60)
"""


def start(mode: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_sigint_lets_the_child_exit_through_its_own_handler() -> None:
    with start("exit") as process:
        assert stop_process(process, timeout=10) == 7
        assert stop_process(process) == 7  # already exited: the same status, no signal


def test_a_child_ignoring_sigint_is_killed_after_the_timeout() -> None:
    with start("ignore") as process:
        begin = time.monotonic()
        assert stop_process(process, timeout=0.5) == -signal.SIGKILL
        assert 0.5 <= time.monotonic() - begin < 10
