"""Ending a node that runs as a child process, the way ``ros2 launch`` ends it.

Tests and benchmarks start the node as its own process (as ``ros2 run`` does) and must
end it so that its shutdown path runs (SIGINT lets rclpy clean up and the node log its
final state); a node stuck in shutdown must still not outlive its caller.
"""

from __future__ import annotations

import signal
import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> int:
    """SIGINT ``process``, then SIGKILL it if it has not exited within ``timeout``
    seconds; returns its exit status (also for one that had already exited)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
