"""DDS domain ids that no other run on this machine is using, for tests, demo, benchmarks.

Processes in one ``ROS_DOMAIN_ID`` discover each other, even from unrelated runs: a
test's client would take another run's labels for its node's. Ids drawn at random
from 100 meet now and then: two concurrent tests share one with 1 % odds, and a suite
starts dozens of them while another suite (the other distribution, another checkout) runs.
A lease here is an exclusive ``flock`` on one lock file per id, held for as long as the
run uses the id; the kernel releases it when the holder exits, however it exits, so a
crashed run never keeps an id. Ids come first from 215-232, the top of the range ROS 2
allows on Linux, whose Fast DDS ports lie above Linux's ephemeral ports (ROS 2 "Domain
ID" docs: up to ~60 participants per domain there, plenty for a test): runs that draw a
random id from 1-100 without a lease never land there. Then 1-101, the range whose
ports stay below the ephemeral ones. 0, the default, is left to whatever runs without a
chosen id.

The node itself never calls this: on a robot the domain is the user's choice.
"""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
from pathlib import Path

# Tried in this order (each block from a random start).
DOMAIN_BLOCKS = (range(215, 233), range(1, 102))
LOCK_DIR = Path(tempfile.gettempdir()) / "dynapurls_ros_domains"


class DomainLease:
    """One domain id held by this process until ``release()`` (or its exit)."""

    def __init__(self, domain_id: int, handle: int) -> None:
        self.id = domain_id
        self._handle = handle

    def release(self) -> None:
        if self._handle >= 0:
            os.close(self._handle)  # closing the descriptor drops the lock
            self._handle = -1

    def __enter__(self) -> DomainLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lease_domain_id() -> DomainLease:
    """A domain id free on this machine, each block tried from a random start so that
    concurrent runs do not all contend for the same ids. RuntimeError when all are taken."""
    LOCK_DIR.mkdir(mode=0o777, parents=True, exist_ok=True)
    order = []
    for block in DOMAIN_BLOCKS:
        start = random.randrange(len(block))
        order += [*block[start:], *block[:start]]
    for domain_id in order:
        handle = os.open(LOCK_DIR / f"{domain_id}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        return DomainLease(domain_id, handle)
    raise RuntimeError(f"all DDS domain ids {DOMAIN_BLOCKS} are in use on this machine")
