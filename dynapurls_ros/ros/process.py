"""Ending a node that runs as a child process, the way ``ros2 launch`` ends it.

Tests and benchmarks start the node as its own process (as ``ros2 run`` does) and must
end it so that its shutdown path runs (SIGINT lets rclpy clean up and the node log its
final state); a node stuck in shutdown must still not outlive its caller.
"""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 20.0, group: bool = False) -> int:
    """SIGINT ``process``, then SIGKILL it if it has not exited within ``timeout``
    seconds; returns its exit status (also for one that had already exited).

    ``group``: signal the process group instead, as Ctrl-C in a terminal does; for a
    process started with ``start_new_session=True`` that runs the node as its child
    (``ros2 run`` of Jazzy does not pass SIGINT on), and so that no child outlives it.
    """

    def send(sig: signal.Signals) -> None:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)

    if process.poll() is None:
        send(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()
    return process.returncode
