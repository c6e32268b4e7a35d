"""Domain id leases: no two holders, in one process or across processes, share an id,
and a holder that dies frees its ids."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

from dynapurls_ros.ros.domains import DOMAIN_BLOCKS, LOCK_DIR, lease_domain_id

HOLDER = """
import sys
from dynapurls_ros.ros.domains import lease_domain_id
leases = [lease_domain_id() for _ in range(int(sys.argv[1]))]
print(" ".join(str(lease.id) for lease in leases), flush=True)
sys.stdin.read()  # hold them until the test closes stdin
"""


def test_leases_held_elsewhere_are_never_handed_out() -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        held_there = {int(i) for i in holder.stdout.readline().split()}
        mine = [lease_domain_id() for _ in range(20)]
        ids = [lease.id for lease in mine]
        assert len(held_there) == 60 and len(set(ids)) == 20
        assert not held_there & set(ids)
        allowed = {i for block in DOMAIN_BLOCKS for i in block}
        assert held_there | set(ids) <= allowed
    finally:
        holder.kill()  # as a crash would end it
        holder.wait(timeout=10)
        for lease in mine:
            lease.release()
    # The kernel dropped the killed holder's locks: each of its ids can be locked again.
    for domain_id in held_there:
        handle = os.open(LOCK_DIR / f"{domain_id}.lock", os.O_RDWR)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(handle)
