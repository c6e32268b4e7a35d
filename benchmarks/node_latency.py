"""End-to-end latency, throughput and memory of the running ``action_recognizer`` node.

``model_latency.py`` times the networks alone; a robot feels the whole path: DDS
transport of the tracker message, the node's input adapter and buffers, the wake of its
inference thread, the batched forward pass over every person due, the label's
publication and its transport back. This script measures that path on the real node,
started as its own process exactly as ``ros2 run`` starts it, fed the way a tracker
feeds it:

- one ``dynapurls_ros/msg/SkeletonArray`` at 30 Hz on ``/skeletons`` carrying P tracked
  people (default P = 1, 4, 8, one fresh node per P), with real motion from GTU-3D
  sequences (``load_dataset("gtu3d")``; the procedural ``synthetic`` motions where the
  data is missing), each person looping through their own sequences without pause. All
  P enter together, so their windows fall due on the same message and go through the
  model as one batch of P: the worst case of a crowd;
- every message stamped with the wall-clock time just before it is published;
- the node at its defaults (the checkpoint's window, a quarter-window stride, int8
  inference unless ``--no-int8``, open-set rejection, smoothing, segments and RViz
  markers on; online adaptation on unless ``--no-adaptation``), the vocabulary the
  motion's class names.

The node stamps each ``ActionLabel`` with its window's last frame, so for every label
``latency = wall time at receipt - header stamp``: the time from the skeleton message
that completed the window to the label, all of it a real cost a robot pays. Labels
stamped during the warm-up (first inferences, allocator growth) are not counted.

Also reported, per P: labels per second (against P x frame rate / stride expected),
messages published against the node's own ``messages`` / ``skeletons`` / ``dropped *``
counters from its final ``/diagnostics`` (``dynapurls_ros/ros/diagnostics.py``); the
difference is what DDS lost before the node saw it (the node subscribes best-effort);
the node's inference time as it reports it; and the node's CPU (% of one core) and
resident memory, read from ``/proc/<pid>`` every ``--sample-period`` seconds, with RSS
at the start and end of the measured phase and its least-squares slope in MB/min.
``--soak SECONDS`` runs one long P = 4 run and prints the RSS samples, to show
whether memory stays flat. A node that exits mid-run ends the benchmark with the end of
its log.

Every process this script starts with ROS (the node, and itself) uses localhost-only
discovery and a ``ROS_DOMAIN_ID`` leased per run (no concurrent run on the machine holds
it; ``dynapurls_ros.ros.domains``), set here whatever the caller's
environment says. Latencies on a machine shared with other jobs vary with their load:
the 1-minute load average is printed next to the figures.

    python -m benchmarks.node_latency --duration 60 --people 1 4 8
    python -m benchmarks.node_latency --soak 600
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import REPO, RUNS
from dynapurls_ros.ros.domains import lease_domain_id

DEFAULT_CHECKPOINT = REPO / "dynapurls_ros" / "weights" / "default.pt"
NODE_NAME = "action_recognizer"
PUBLISH_HZ = 30.0
NS_PER_S = 1_000_000_000
# Label p99 targets (ms) by number of people, with all outputs on (issue 20).
TARGET_P99_MS = {4: 20.0, 8: 35.0, 16: 70.0}
SOAK_PEOPLE = 4
# Diagnostics are requested this often so the final counters arrive soon after the end.
DIAGNOSTICS_PERIOD_S = 1.0
DISCOVERY_GRACE_S = 1.0
INFO_KEYS = (
    "persons",
    "vocabulary_size",
    "window_frames",
    "frame_rate_hz",
    "stride_frames",
    "adaptation",
)


def child_env(domain_id: int, log_dir: Path) -> dict[str, str]:
    """Environment of a process that starts rclpy: discovery on this machine only, the
    run's own domain, this venv as ament prefix and the checkout first on the path."""
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(domain_id)
    prefixes = [sys.prefix, *env.get("AMENT_PREFIX_PATH", "").split(os.pathsep)]
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(dict.fromkeys(filter(None, prefixes)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["ROS_LOG_DIR"] = str(log_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


# --- the node process ------------------------------------------------------------------


class NodeProcess:
    """The recognizer node as a subprocess, its output in a log file."""

    def __init__(self, parameters: dict[str, str], env: dict[str, str], log: Path) -> None:
        command = [sys.executable, "-m", "dynapurls_ros.ros.node", "--ros-args"]
        for name, value in parameters.items():
            command += ["-p", f"{name}:={value}"]
        self.log_path = log
        self._log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(encoding="utf-8").splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT, as ``ros2 launch`` ends a node; SIGKILL if it does not exit in time."""
        from dynapurls_ros.ros.process import stop_process

        code = stop_process(self.process, timeout)
        self._log.close()
        return code


@dataclass(frozen=True)
class Sample:
    """One reading of the node process: seconds since the run started, CPU % of one core
    over the interval before it, resident memory in MB; ``measured`` once warm."""

    t: float
    cpu_percent: float
    rss_mb: float
    measured: bool


def read_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (fields 14 and 15 of /proc/<pid>/stat; the
    command name before them may contain spaces, so split after its closing ')')."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_rss_mb(pid: int) -> float | None:
    """VmRSS of ``pid`` in MB (the kernel reports kB); None once it exited (a zombie
    has no memory line)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return None


class ProcessSampler(threading.Thread):
    """Reads CPU time and RSS of one process every ``period`` seconds until stopped."""

    def __init__(self, pid: int, period: float) -> None:
        super().__init__(daemon=True, name="sampler")
        self.pid, self.period = pid, period
        self.samples: list[Sample] = []
        self.measuring = threading.Event()
        self._done = threading.Event()

    def run(self) -> None:
        start = last_time = time.monotonic()
        try:
            last_cpu = read_cpu_seconds(self.pid)
            while not self._done.wait(self.period):
                now, cpu, rss = time.monotonic(), read_cpu_seconds(self.pid), read_rss_mb(self.pid)
                if rss is None:
                    return  # the node exited; the run reports why
                percent = 100.0 * (cpu - last_cpu) / (now - last_time)
                self.samples.append(Sample(now - start, percent, rss, self.measuring.is_set()))
                last_time, last_cpu = now, cpu
        except FileNotFoundError:
            pass  # the node exited and was reaped

    def stop(self) -> None:
        self._done.set()
        self.join()


# --- the skeleton stream ---------------------------------------------------------------


def load_clips(source: str, seed: int) -> tuple[str, list[Any]]:
    """(source used, clips): GTU-3D sequences in a seeded order, or the synthetic
    motions when ``source`` is ``synthetic`` or (``auto``) GTU-3D cannot be read."""
    from dynapurls_ros import synthetic
    from dynapurls_ros.datasets.base import DataFileError
    from dynapurls_ros.ros.replay import Clip, dataset_clips

    if source in ("auto", "gtu3d"):
        try:
            return "gtu3d", dataset_clips("gtu3d", seed=seed)
        except (FileNotFoundError, DataFileError) as error:
            if source == "gtu3d":
                raise SystemExit(f"cannot read GTU-3D: {error}") from error
            print(f"GTU-3D not readable ({error}); using synthetic motions", file=sys.stderr)
    clips = [
        Clip(name, name, synthetic.motion(name), "ntu25", synthetic.FPS)
        for name in synthetic.MOTIONS
    ]
    return "synthetic", clips


def stream(clips: Sequence[Any], people: int) -> Iterator[list[tuple[int, Any, int]]]:
    """Per tick, (person id, clip, frame) of persons 1..P, each looping over every P-th
    clip (their own share) without pause, so all P stay in view for the whole run."""
    from dynapurls_ros.ros.replay import ticks

    queues = {p + 1: list(clips[p::people]) or list(clips) for p in range(people)}
    return ticks(queues, pause=0, loop=True)


# --- the ROS side of the benchmark ------------------------------------------------------


@dataclass
class Diagnostics:
    """The node's last ``/diagnostics`` status: totals since it started."""

    stamp_ns: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_msg(cls, msg: Any) -> Diagnostics | None:
        """Parse the recognizer's status from an array (None when it holds none)."""
        status = next((s for s in msg.status if s.name.startswith(f"{NODE_NAME}:")), None)
        if status is None:
            return None
        stamp = msg.header.stamp.sec * NS_PER_S + msg.header.stamp.nanosec
        parsed = cls(stamp_ns=stamp)
        for item in status.values:
            key, value = item.key, item.value
            if key.startswith("dropped "):
                parsed.drops[key.removeprefix("dropped ")] = int(value)
            elif key.startswith("latency ") and key.endswith(" ms"):
                parsed.latency_ms[key[len("latency ") : -len(" ms")]] = float(value)
            elif key in INFO_KEYS:
                parsed.info[key] = value
            else:
                parsed.counts[key] = int(value)
        return parsed


class Harness:
    """A tracker and a listener in one rclpy context of the run's domain: publishes the
    skeleton stream from a thread, receives labels and diagnostics on the caller's."""

    def __init__(self, domain_id: int) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from dynapurls_ros.msg import ActionLabel, SkeletonArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
        from std_msgs.msg import String

        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(f"node_latency_{os.getpid()}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        # A tracker driver publishes best-effort sensor data; the node subscribes so.
        self.publisher = self.node.create_publisher(
            SkeletonArray, "/skeletons", qos_profile_sensor_data
        )
        self.node.create_subscription(ActionLabel, "/action_labels", self._on_label, 100)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(
            String, f"/{NODE_NAME}/vocabulary", self._on_vocabulary, latched
        )
        self.vocabulary: list[str] | None = None
        self.diagnostics = Diagnostics()
        self.labels: list[tuple[int, int]] = []  # (header stamp, receipt time), ns
        self.published = 0
        self.stop_publishing = threading.Event()
        self.measure_from_ns: int | None = None
        self.publish_window: tuple[float, float] = (0.0, 0.0)  # monotonic start, end

    def _on_label(self, msg: Any) -> None:
        received = time.time_ns()
        stamp = msg.header.stamp.sec * NS_PER_S + msg.header.stamp.nanosec
        self.labels.append((stamp, received))

    def _on_diagnostics(self, msg: Any) -> None:
        parsed = Diagnostics.from_msg(msg)
        if parsed is not None:
            self.diagnostics = parsed

    def _on_vocabulary(self, msg: Any) -> None:
        self.vocabulary = json.loads(msg.data)["labels"]

    def spin_until(
        self, done: Callable[[], bool], timeout: float, alive: Callable[[], bool] = lambda: True
    ) -> bool:
        """Process callbacks until ``done()``, ``alive()`` turns false or ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not done() and alive() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return bool(done())

    def publish(
        self,
        ticks: Iterator[list[tuple[int, Any, int]]],
        warmup: float,
        seconds: float,
        measuring: threading.Event,
    ) -> None:
        """Publish at PUBLISH_HZ for ``warmup + seconds``, ``measuring`` set during the
        last ``seconds``. A tick missed because this process was descheduled is skipped,
        as a camera would, not sent late in a burst."""
        from dynapurls_ros.ros.replay import skeleton_array_msg

        period = 1.0 / PUBLISH_HZ
        start = time.monotonic()
        k = 0
        while time.monotonic() < start + warmup + seconds and not self.stop_publishing.is_set():
            people = next(ticks)
            layout = people[0][1].layout
            message = skeleton_array_msg(
                [(p, clip.joints[i]) for p, clip, i in people], layout, 0, "camera"
            )
            time.sleep(max(0.0, start + k * period - time.monotonic()))
            stamp = time.time_ns()
            message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp, NS_PER_S)
            self.publisher.publish(message)
            self.published += 1
            if self.measure_from_ns is None and time.monotonic() >= start + warmup:
                self.measure_from_ns = stamp
                measuring.set()
            k = max(k + 1, math.ceil((time.monotonic() - start) / period))
        measuring.clear()
        self.publish_window = (start, time.monotonic())

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


# --- one run ---------------------------------------------------------------------------


def percentiles_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values, dtype=np.float64)
    p50, p99 = np.percentile(array, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": float(array.max())}


def rss_trend(samples: Sequence[Sample]) -> dict[str, float]:
    """RSS at the first and last measured sample and the fitted slope in MB/min."""
    measured = [s for s in samples if s.measured]
    if len(measured) < 2:
        return {}
    minutes = np.array([s.t for s in measured]) / 60.0
    rss = np.array([s.rss_mb for s in measured])
    slope = float(np.polyfit(minutes - minutes[0], rss, 1)[0])
    return {"start_mb": float(rss[0]), "end_mb": float(rss[-1]), "slope_mb_per_min": slope}


def expected_label_rate(info: dict[str, str], people: int) -> float | None:
    """P x model rate / stride, from the node's diagnostics; None when they are not there."""
    if "frame_rate_hz" not in info or "stride_frames" not in info:
        return None
    return people * float(info["frame_rate_hz"]) / int(info["stride_frames"])


def run_once(people: int, args: argparse.Namespace, clips: Sequence[Any]) -> dict[str, Any]:
    """Start a fresh node, stream P people at it, return the figures of the run."""
    with tempfile.TemporaryDirectory(prefix=f"node_latency_p{people}_") as work:
        return measure(people, args, clips, Path(work))


def measure(
    people: int, args: argparse.Namespace, clips: Sequence[Any], work: Path
) -> dict[str, Any]:
    """``run_once`` with ``work`` for the node's log files."""
    lease = lease_domain_id()
    domain_id = lease.id
    env = child_env(domain_id, work / "ros_log")
    os.environ.update({k: env[k] for k in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_DOMAIN_ID")})
    parameters = {
        "checkpoint": str(args.checkpoint),
        "vocabulary": json.dumps(args.vocabulary),
        "adaptation_enabled": "true" if args.adaptation else "false",
        "int8": "true" if args.int8 else "false",
        "diagnostics_period": str(DIAGNOSTICS_PERIOD_S),
    }
    with ExitStack() as cleanup:  # each step runs even when an earlier one fails
        cleanup.callback(lease.release)
        node = NodeProcess(parameters, env, work / "node.log")
        cleanup.callback(node.stop)
        sampler = ProcessSampler(node.pid, args.sample_period)
        sampler.start()
        cleanup.callback(sampler.stop)
        harness = Harness(domain_id)
        cleanup.callback(harness.close)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        ready = harness.spin_until(
            lambda: (
                harness.vocabulary is not None and harness.publisher.get_subscription_count() > 0
            ),
            args.startup_timeout,
            alive=node.running,
        )
        if not ready:
            state = "exited" if not node.running() else "not ready"
            raise SystemExit(
                f"P={people}: node {state} after {time.monotonic() - started:.0f} s; "
                f"the end of its log:\n{node.log_tail()}"
            )
        startup_s = time.monotonic() - started
        # Our writer has matched the node's reader; the reader may match our writer a
        # moment later and, best effort, discard what arrives before: let it settle.
        harness.spin_until(lambda: False, DISCOVERY_GRACE_S)
        publisher = threading.Thread(
            target=harness.publish,
            args=(stream(clips, people), args.warmup, args.duration, sampler.measuring),
        )
        publisher.start()
        harness.spin_until(
            lambda: not publisher.is_alive(), args.warmup + args.duration + 60, alive=node.running
        )
        if not node.running():
            harness.stop_publishing.set()
            publisher.join()
            raise SystemExit(
                f"P={people}: the node exited (status {node.process.returncode}) while "
                f"measuring; the end of its log:\n{node.log_tail()}"
            )
        publisher.join()
        ended_ns = time.time_ns()
        # Late labels, then a diagnostics report issued after the last message arrived.
        settled = harness.spin_until(
            lambda: harness.diagnostics.stamp_ns > ended_ns + NS_PER_S // 2,
            10.0 * DIAGNOSTICS_PERIOD_S,
        )
        load_after = os.getloadavg()[0]
    exit_code = node.process.returncode

    begin, end = harness.publish_window
    measure_from = harness.measure_from_ns or ended_ns
    latencies = [
        (received - stamp) / 1e6 for stamp, received in harness.labels if stamp >= measure_from
    ]
    diagnostics = harness.diagnostics
    measured_cpu = [s.cpu_percent for s in sampler.samples if s.measured]
    return {
        "people": people,
        "domain_id": domain_id,
        "startup_s": startup_s,
        "duration_s": args.duration,
        "publish_rate_hz": harness.published / max(end - begin, 1e-9),
        "published": harness.published,
        "node_messages": diagnostics.counts.get("messages"),
        "node_skeletons": diagnostics.counts.get("skeletons"),
        "node_labels": diagnostics.counts.get("labels"),
        "node_drops": diagnostics.drops,
        "counters_final": settled,
        "labels_received": len(harness.labels),
        "labels_measured": len(latencies),
        "labels_per_s": len(latencies) / args.duration,
        "labels_per_s_expected": expected_label_rate(diagnostics.info, people),
        "latency_ms": percentiles_ms(latencies),
        "node_inference_ms": diagnostics.latency_ms,
        "node_info": diagnostics.info,
        "cpu_percent_mean": float(np.mean(measured_cpu)) if measured_cpu else None,
        "cpu_percent_max": float(np.max(measured_cpu)) if measured_cpu else None,
        "rss": rss_trend(sampler.samples),
        "load_1min": [load_before, load_after],
        "node_exit_code": exit_code,
        "latencies_ms": latencies,
        "samples": [asdict(s) for s in sampler.samples],
    }


# --- reporting -------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: Sequence[dict[str, Any]]) -> None:
    header = (
        f"{'P':>2} {'pub':>6} {'recv':>6} {'lost':>5} {'drop':>5} {'labels':>6} "
        f"{'lab/s':>6} {'exp/s':>6} {'p50ms':>7} {'p99ms':>7} {'maxms':>7} "
        f"{'inf50':>6} {'inf99':>6} {'cpu%':>5} {'rss0MB':>7} {'rss1MB':>7} "
        f"{'MB/min':>7} {'load':>9}"
    )
    print(header)
    for r in results:
        received = r["node_messages"]
        lost = None if received is None else r["published"] - received
        latency, inference, rss = r["latency_ms"], r["node_inference_ms"], r["rss"]
        load = "{:.1f}-{:.1f}".format(*r["load_1min"])
        print(
            f"{r['people']:>2} {r['published']:>6} {_fmt(received, 'd'):>6} "
            f"{_fmt(lost, 'd'):>5} {sum(r['node_drops'].values()):>5} "
            f"{r['labels_measured']:>6} {r['labels_per_s']:>6.2f} "
            f"{_fmt(r['labels_per_s_expected'], '.2f'):>6} {_fmt(latency.get('p50')):>7} "
            f"{_fmt(latency.get('p99')):>7} {_fmt(latency.get('max')):>7} "
            f"{_fmt(inference.get('p50')):>6} {_fmt(inference.get('p99')):>6} "
            f"{_fmt(r['cpu_percent_mean'], '.0f'):>5} {_fmt(rss.get('start_mb')):>7} "
            f"{_fmt(rss.get('end_mb')):>7} {_fmt(rss.get('slope_mb_per_min'), '+.2f'):>7} "
            f"{load:>9}"
        )
    print(
        "pub: messages published (incl. warm-up); recv: the node's 'messages' counter; "
        "lost: pub - recv (DDS, best effort);\ndrop: the node's dropped skeletons, "
        f"{', '.join(sorted({k for r in results for k in r['node_drops']})) or 'none'}; "
        "labels, lab/s, p50/p99/max: labels stamped after the warm-up, latency = receipt - "
        "stamp of the window's last frame;\nexp/s: P x rate / stride; inf50/inf99: the "
        "node's own inference time (ms, last 1000); cpu%: node, mean over the measured "
        "phase, 100 = one core;\nrss0/rss1: node RSS at start/end of the measured phase, "
        "MB/min: its fitted slope (over a short run mostly early growth: --soak tells "
        "whether memory is flat); load: 1-min load average before-after (cores: "
        f"{os.cpu_count()})"
    )
    for r in results:
        if not r["counters_final"]:
            print(f"P={r['people']}: no diagnostics after the end; node counters may lag")
        if r["node_exit_code"] not in (0, None):
            print(f"P={r['people']}: node exited with status {r['node_exit_code']}")


def print_rss_samples(result: dict[str, Any], rows: int = 20) -> None:
    """The measured samples, thinned to about ``rows`` evenly spaced lines."""
    samples = [s for s in result["samples"] if s["measured"]]
    step = max(1, math.ceil(len(samples) / rows))
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    print("node RSS and CPU (% of one core); t: seconds since the node was started")
    print(f"{'t s':>7} {'RSS MB':>8} {'cpu %':>6}")
    for s in shown:
        print(f"{s['t']:>7.0f} {s['rss_mb']:>8.1f} {s['cpu_percent']:>6.0f}")
    rss = result["rss"]
    if rss:
        print(
            f"RSS {rss['start_mb']:.1f} -> {rss['end_mb']:.1f} MB over "
            f"{result['duration_s']:.0f} s, slope {rss['slope_mb_per_min']:+.2f} MB/min"
        )


def print_verdict(results: Sequence[dict[str, Any]]) -> None:
    for r in results:
        target = TARGET_P99_MS.get(r["people"])
        if target is None or not r["latency_ms"]:
            continue
        p99 = r["latency_ms"]["p99"]
        drops = sum(r["node_drops"].values())
        lost = None if r["node_messages"] is None else r["published"] - r["node_messages"]
        print(
            f"target (P={r['people']}, p99 <= {target:.0f} ms, no drops): "
            f"p99 {p99:.1f} ms {'met' if p99 <= target else 'MISSED'}; "
            f"dropped {drops}, lost {_fmt(lost, 'd')}; "
            f"RSS slope {_fmt(r['rss'].get('slope_mb_per_min'), '+.2f')} MB/min"
        )


# --- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", nargs="+", type=int, default=[1, 4, 8])
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per P")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="SECONDS",
        help=f"one long run at P={SOAK_PEOPLE} instead (RSS samples and slope)",
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument(
        "--source", choices=("auto", "gtu3d", "synthetic"), default="auto", help="motion"
    )
    parser.add_argument(
        "--vocabulary", nargs="+", help="labels (default: the motion source's class names)"
    )
    adaptation = parser.add_mutually_exclusive_group()
    adaptation.add_argument("--adaptation", dest="adaptation", action="store_true", default=True)
    adaptation.add_argument(
        "--no-adaptation", dest="adaptation", action="store_false", help="(default: on)"
    )
    parser.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the node's int8 parameter (default: on, the node's default)",
    )
    parser.add_argument("--sample-period", type=float, default=2.0, help="CPU/RSS every s")
    parser.add_argument("--startup-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0, help="order of the sequences")
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file (default runs/node_latency.json, --soak: runs/node_latency_soak.json)",
    )
    args = parser.parse_args(argv)
    if args.soak is not None:
        args.people, args.duration = [SOAK_PEOPLE], args.soak
    if args.duration <= 0 or args.warmup < 0 or args.sample_period <= 0:
        parser.error("--duration/--soak and --sample-period must be > 0, --warmup >= 0")
    if any(p < 1 for p in args.people):
        parser.error("--people must be >= 1")
    if not args.checkpoint.is_file():
        parser.error(f"checkpoint not found: {args.checkpoint}")
    args.checkpoint = args.checkpoint.resolve()
    name = "node_latency_soak.json" if args.soak is not None else "node_latency.json"
    args.output = args.output or RUNS / name
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    source, clips = load_clips(args.source, args.seed)
    if args.vocabulary is None:
        args.vocabulary = list(dict.fromkeys(clip.label for clip in clips))
    print(f"node latency: checkpoint {args.checkpoint}")
    print(
        f"motion {source} ({len(clips)} sequences), {PUBLISH_HZ:g} Hz, vocabulary of "
        f"{len(args.vocabulary)}, adaptation {'on' if args.adaptation else 'off'}, "
        f"int8 {'on' if args.int8 else 'off'}, rejection, smoothing and markers at the "
        f"node's defaults, {args.duration:g} s per P after {args.warmup:g} s warm-up, "
        f"{os.cpu_count()} cores"
    )
    results = []
    for people in args.people:
        result = run_once(people, args, clips)
        info = result["node_info"]
        print(
            f"P={people}: node ready in {result['startup_s']:.1f} s; window "
            f"{info.get('window_frames', '?')} frames at {info.get('frame_rate_hz', '?')} Hz, "
            f"stride {info.get('stride_frames', '?')}; "
            f"published at {result['publish_rate_hz']:.1f} Hz; adaptation "
            f"{info.get('adaptation', '?')}",
            flush=True,
        )
        results.append(result)
    print()
    print_table(results)
    if args.soak is not None:
        print()
        print_rss_samples(results[0])
    print_verdict(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "checkpoint": str(args.checkpoint),
        "source": source,
        "vocabulary": args.vocabulary,
        "adaptation": args.adaptation,
        "publish_hz": PUBLISH_HZ,
        "warmup_s": args.warmup,
        "sample_period_s": args.sample_period,
        "cpu_count": os.cpu_count(),
    }
    report = {"config": config, "runs": results}
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
