"""The ``action_recognizer`` node: tracker skeletons in, action labels out.

Thin by design: messages become canonical frames in ``inputs``, frames become windows in
``buffers``, parameters are declared and checked in ``params``, counters live in
``diagnostics``, everything about the model is the ``Recognizer``'s, and what a person's
predictions become (open-set decision, smoothing, segments) is ``output.labeler``'s; RViz
markers are built in ``markers``. What remains here is the wiring and the threading:

- inference runs on its own thread, woken by the message that makes a window due, so a
  label waits for nothing but the forward pass (a timer would add up to its period);
- messages, parameters, the service and diagnostics run on a single-threaded executor:
  none of them waits for a forward pass any more, and with 4 people a multi-threaded
  executor cost the node a quarter more CPU (21 % of a core against 16 %, measured with
  ``benchmarks/node_latency.py``) that the forward pass then missed; the buffers are
  shared with the inference thread behind a lock;
- all persons' due windows go to the recognizer as one batch;
- a new vocabulary is encoded on a worker thread and swapped in atomically when ready;
  until then recognition carries on with the old one.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import threading
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from std_msgs.msg import String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from dynapurls_ros.msg import ActionLabel, ActionSegment
from dynapurls_ros.output.labeler import OutputConfig, PersonLabeler
from dynapurls_ros.output.segments import Segment
from dynapurls_ros.output.smoothing import SmoothingConfig
from dynapurls_ros.recognizer import Prediction, Recognizer
from dynapurls_ros.ros import params
from dynapurls_ros.ros.buffers import NS_PER_S, PersonBuffers, Window
from dynapurls_ros.ros.diagnostics import Stats, diagnostic_array, status_level, summary
from dynapurls_ros.ros.inputs import Adapted, Drop, InputConfig, input_adapter
from dynapurls_ros.ros.markers import delete_marker, label_marker
from dynapurls_ros.ros.workers import InferenceLoop, VocabularyWorker
from dynapurls_ros.text.resolve import DescriptionResolver

NODE_NAME = "action_recognizer"
UNUSABLE_WINDOW = "unusable_window"
STARTUP_ERRORS = (
    InvalidParameterValueException,
    InvalidParameterTypeException,
    OSError,
    ValueError,
)
ADAPTER_ERROR = "adapter_error"
INFERENCE_ERROR = "inference_errors"
# Without messages nothing falls due except the window of a person who times out; the
# inference thread looks for those this often.
IDLE_PERIOD_S = 0.1


def _adaptation_summary(stats: dict[str, int]) -> str:
    """Diagnostics value: off, or the refiner's counters."""
    if not stats:
        return "off"
    return (
        f"on: {stats['updates']} updates, {stats['bank']} windows in memory, "
        f"{stats['collapses']} undone, {stats['blocked']} blocked"
    )


def freeze_long_lived() -> None:
    """Leave every object alive now out of later garbage-collector passes.

    The loaded node holds ~400k long-lived Python objects (torch, transformers, rclpy).
    A full collection scans them all with the GIL held: 110-370 ms each on a 2-core
    machine, several times a minute, during which no message is taken from the
    best-effort queue and no inference runs (measured: a third of the messages lost
    and label p99 of seconds with 4 people). Frozen objects are still freed by
    reference counting when they die; only reference cycles among them are kept.
    """
    gc.freeze()


# glibc mallopt parameters and what the node sets them to (keep_freed_memory).
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
KEPT_MEMORY = {
    M_MMAP_THRESHOLD: 32 << 20,  # above any activation of a batch: all from the heap
    M_TRIM_THRESHOLD: 128 << 20,  # free heap kept before any is given back
    M_TOP_PAD: 16 << 20,
}


def keep_freed_memory() -> None:
    """Let glibc keep the memory a forward pass frees for the next one.

    Every batch allocates its activations afresh (a few MB). By default glibc serves
    large blocks with ``mmap`` and trims the heap when they are freed, so each batch
    faults its pages back in. With the thresholds raised the pages stay mapped: with 8
    people the node's inference p50 went from 23-24 to 19-21 ms
    (``benchmarks/node_latency.py``, docs/OUTPUT.md); RSS stays flat. Where the C
    library is not glibc nothing changes.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    for option, value in KEPT_MEMORY.items():
        mallopt(option, value)


def _time_msg(stamp_ns: int, msg: Any) -> None:
    msg.sec, msg.nanosec = divmod(stamp_ns, NS_PER_S)


class _PersonOutput(PersonLabeler):
    """What the node keeps per person between windows (inference thread only)."""

    def __init__(self, person_id: int, frame_id: str) -> None:
        super().__init__(person_id)
        self.frame_id = frame_id


def output_config(settings: params.Settings) -> OutputConfig:
    return OutputConfig(
        params.UNKNOWN_LABEL,
        settings.rejection_enabled,
        SmoothingConfig(settings.smoothing_window, settings.smoothing_hysteresis),
        settings.min_confidence,
    )


class ActionRecognizerNode(Node):
    """Subscribes to a body tracker; publishes one ``ActionLabel`` per person per window,
    an ``ActionSegment`` per ended action and, when enabled, RViz label markers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._started = False
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.declare_parameters("", [(s.name, s.default, s.descriptor()) for s in params.SPECS])
        self._settings = params.Settings.from_values(self._values())
        settings = self._settings

        self._recognizer = Recognizer.from_checkpoint(
            settings.checkpoint or None, int8=settings.int8
        )
        length = self._recognizer.window_length  # the one length the model scores
        stride = settings.window_stride or max(1, length // 4)
        rate = float(self._recognizer.frame_rate)
        self._buffers = PersonBuffers(length, stride, rate, settings.person_timeout)
        self._buffers_lock = threading.Lock()
        self._adapter = input_adapter(settings.input_type)
        self._stats = Stats()
        self._vocabulary: list[str] = []  # the labels the recognizer is using now
        self._problem: str | None = "encoding the first vocabulary"
        self._apply_adaptation(settings)
        self._recognizer.rejection_level = settings.rejection_level
        if self._recognizer.info.reference_motions is None:
            self.get_logger().warning(
                "the checkpoint has no reference motions: no open-set rejection "
                "(add them with `dynapurls calibrate CHECKPOINT`)"
            )

        self._labels = self.create_publisher(ActionLabel, settings.output_topic, 10)
        self._segments_pub = self.create_publisher(ActionSegment, settings.segments_topic, 10)
        self._markers_pub = self.create_publisher(MarkerArray, settings.markers_topic, 10)
        self._outputs: dict[int, _PersonOutput] = {}
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        self._vocabulary_pub = self.create_publisher(String, "~/vocabulary", latched)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_subscription(
            self._adapter.message_type,
            settings.input_topic,
            self._on_message,
            QoSProfile(
                depth=settings.input_queue_depth,
                reliability=qos_profile_sensor_data.reliability,
                durability=qos_profile_sensor_data.durability,
            ),
        )
        self.create_service(Trigger, "~/reset_adaptation", self._on_reset_adaptation)
        self._inference = InferenceLoop(self._infer, IDLE_PERIOD_S, self._inference_failed)
        self._last_snapshot = self._stats.snapshot()
        self.create_timer(settings.diagnostics_period, self._report)

        self._worker = VocabularyWorker(
            self._encode, self._vocabulary_ready, self._vocabulary_failed
        )
        self._worker.request(settings.vocabulary, settings.descriptions_file)
        self._inference.start()
        self._started = True
        self.get_logger().info(
            f"listening to {settings.input_topic} ({settings.input_type}), publishing "
            f"{settings.output_topic}; window {length} frames at {rate:g} Hz, stride {stride}"
        )

    # --- parameters -------------------------------------------------------------------

    def _values(self) -> dict[str, Any]:
        return {
            s.name: self.get_parameter(s.name).value
            for s in params.SPECS
            if self.has_parameter(s.name)
        }

    def _on_set_parameters(self, changes: list[Parameter]) -> SetParametersResult:
        """Validate (also the values declared at start); apply live changes once running."""
        values = {p.name: p.value for p in changes}
        reason = params.check(values, self._values())
        if reason:
            return SetParametersResult(successful=False, reason=reason)
        if self._started:
            self._apply(values)
        return SetParametersResult(successful=True)

    def _apply(self, values: dict[str, Any]) -> None:
        old = self._settings
        self._settings = new = params.Settings.from_values({**asdict(old), **values})
        if new.person_timeout != old.person_timeout:
            with self._buffers_lock:
                self._buffers.person_timeout = new.person_timeout
        self._recognizer.rejection_level = new.rejection_level
        if any(getattr(new, name) != getattr(old, name) for name in params.ADAPTATION_FIELDS):
            self._apply_adaptation(new)
        if (new.vocabulary, new.descriptions_file) != (old.vocabulary, old.descriptions_file):
            self.get_logger().info(f"encoding a new vocabulary of {len(new.vocabulary)} labels")
            self._worker.request(new.vocabulary, new.descriptions_file)

    def _apply_adaptation(self, settings: params.Settings) -> None:
        """Hand the adaptation parameters to the recognizer (a change restarts it)."""
        self._recognizer.adaptation = params.adaptation_config(
            settings, self._recognizer.adaptation
        )

    # --- vocabulary (worker thread) ------------------------------------------------------

    def _encode(self, labels: list[str], descriptions_file: str) -> Any:
        self._recognizer.encoder_for_inference()  # built here, not before the first label
        resolver = (
            DescriptionResolver(user_files=[descriptions_file]) if descriptions_file else None
        )
        return self._recognizer.encode_vocabulary(labels, resolver)

    def _vocabulary_ready(self, labels: list[str], descriptions_file: str, encoded: Any) -> None:
        self._recognizer.set_vocabulary(encoded)  # with a fresh adaptation for it
        self._vocabulary = labels
        self._problem = None
        message = {"labels": labels, "descriptions_file": descriptions_file}
        self._vocabulary_pub.publish(String(data=json.dumps(message)))
        self.get_logger().info(f"vocabulary active: {', '.join(labels)}")
        freeze_long_lived()  # the text model and the new vocabulary's tensors

    def _vocabulary_failed(self, labels: list[str], error: Exception) -> None:
        kept = ", ".join(self._vocabulary) or "none"
        self._problem = f"vocabulary update failed ({error}); active vocabulary: {kept}"
        self.get_logger().error(self._problem)

    # --- input --------------------------------------------------------------------------

    def _drop(self, drop: Drop) -> None:
        self._stats.drop(drop.reason)
        self.get_logger().warning(
            f"dropped ({drop.reason}): {drop.detail}", throttle_duration_sec=5.0
        )

    def _on_message(self, msg: Any) -> None:
        self._stats.count("messages")
        settings = self._settings
        config = InputConfig(settings.layout, settings.max_missing_joints)
        try:
            adapted = self._adapter.adapt(msg, config)
        except Exception as error:  # noqa: BLE001 - a reader bug must not stop the node
            adapted = Adapted(drops=[Drop(ADAPTER_ERROR, f"{type(error).__name__}: {error}")])
        for drop in adapted.drops:
            self._drop(drop)
        if not adapted.frames and not adapted.drops:
            self._stats.count("nobody_in_view")
        received = time.monotonic()
        with self._buffers_lock:
            reasons = [
                self._buffers.push(f.person_id, f.stamp_ns, f.joints, received, f.frame_id)
                for f in adapted.frames
            ]
            due = self._buffers.any_due()
        if due:
            self._inference.wake()
        for frame, reason in zip(adapted.frames, reasons, strict=True):
            if reason is None:
                self._stats.count("skeletons")
            else:
                self._drop(Drop(reason, f"person {frame.person_id}, stamp {frame.stamp_ns} ns"))

    # --- inference ----------------------------------------------------------------------

    def _infer(self) -> None:
        if not self._vocabulary:
            return
        with self._buffers_lock:
            windows = self._buffers.ready_windows(time.monotonic())
            tracked = set(self._buffers.persons)
        settings = self._settings
        if windows:
            self._score(windows, settings)
        for person_id in [p for p in self._outputs if p not in tracked]:
            self._person_left(person_id, settings)

    def _score(self, windows: list[Window], settings: params.Settings) -> None:
        start = time.perf_counter()
        try:
            predictions = self._recognizer.predict(
                np.stack([w.joints for w in windows]), top_k=settings.top_k
            )
        except ValueError:
            predictions = self._predict_one_by_one(windows, settings.top_k)
        except Exception as error:  # a fault in the model path must not stop the node
            self._stats.count(INFERENCE_ERROR)
            self.get_logger().error(
                f"inference failed, {len(windows)} windows skipped: {error!r}",
                throttle_duration_sec=5.0,
            )
            return
        self._stats.latency(time.perf_counter() - start)
        self._stats.count("inferences")
        markers = MarkerArray()
        for window, prediction in zip(windows, predictions, strict=True):
            if prediction is not None:
                self._publish(window, prediction, settings, markers)
        if markers.markers:
            self._markers_pub.publish(markers)

    def _inference_failed(self, error: Exception) -> None:
        self._stats.count(INFERENCE_ERROR)
        self.get_logger().error(f"inference step failed: {error!r}", throttle_duration_sec=5.0)

    def _predict_one_by_one(self, windows: list[Window], top_k: int) -> list[Any]:
        """After a batch was refused, find and drop the windows the model cannot use
        (e.g. a degenerate skeleton) so the others still get their labels."""
        predictions = []
        for window in windows:
            try:
                predictions += self._recognizer.predict(window.joints[None], top_k=top_k)
            except ValueError as error:
                self._drop(Drop(UNUSABLE_WINDOW, f"person {window.person_id}: {error}"))
                predictions.append(None)
        return predictions

    def _publish(
        self,
        window: Window,
        prediction: Prediction,
        settings: params.Settings,
        markers: MarkerArray,
    ) -> None:
        """The person's label (smoothed, open-set), a segment it ends, their marker."""
        person = self._outputs.get(window.person_id)
        if person is None:
            person = self._outputs[window.person_id] = _PersonOutput(
                window.person_id, window.frame_id
            )
        person.frame_id = window.frame_id
        output = person.update(window.stamp_ns, prediction, output_config(settings))
        label = output.label
        msg = ActionLabel(
            person_id=window.person_id,
            label=label,
            confidence=float(output.confidence),
            window_label=prediction.label,
            window_confidence=float(prediction.confidence),
            known_score=float(output.known_score),
            top_labels=list(prediction.top_labels),
            top_scores=[float(s) for s in prediction.top_scores],
            adaptation_active=prediction.adapted,
        )
        msg.header.frame_id = window.frame_id
        _time_msg(window.stamp_ns, msg.header.stamp)
        self._labels.publish(msg)
        self._stats.count("labels")
        if label == params.UNKNOWN_LABEL:
            self._stats.count("unknown_labels")
        if output.closed is not None:
            self._publish_segment(output.closed, window.frame_id)
        if settings.markers_enabled:
            text = label if label == params.UNKNOWN_LABEL else f"{label} {output.confidence:.2f}"
            markers.markers.append(
                label_marker(
                    window.person_id,
                    window.frame_id,
                    msg.header.stamp,
                    window.joints[-1],
                    text,
                    label != params.UNKNOWN_LABEL,
                    settings.marker_lifetime,
                )
            )

    def _publish_segment(self, segment: Segment, frame_id: str) -> None:
        msg = ActionSegment(
            person_id=segment.person_id,
            label=segment.label,
            confidence=float(segment.confidence),
            windows=segment.windows,
        )
        msg.header.frame_id = frame_id
        _time_msg(segment.end_ns, msg.header.stamp)
        _time_msg(segment.start_ns, msg.start)
        _time_msg(segment.end_ns, msg.end)
        self._segments_pub.publish(msg)
        self._stats.count("segments")

    def _person_left(self, person_id: int, settings: params.Settings) -> None:
        """Their track ended: close their segment, remove their marker."""
        person = self._outputs.pop(person_id)
        closed = person.close()
        if closed is not None:
            self._publish_segment(closed, person.frame_id)
        if settings.markers_enabled:
            self._markers_pub.publish(
                MarkerArray(markers=[delete_marker(person_id, person.frame_id)])
            )

    # --- services and diagnostics -------------------------------------------------------

    def _on_reset_adaptation(self, request: Trigger.Request, response: Trigger.Response):
        self._recognizer.reset_adaptation()
        response.success = True
        response.message = "adaptation memory cleared; text features back to the encoded ones"
        self.get_logger().info(response.message)
        return response

    def _report(self) -> None:
        snapshot = self._stats.snapshot()
        level, message = status_level(snapshot, self._last_snapshot, self._problem)
        self._last_snapshot = snapshot
        with self._buffers_lock:
            persons = self._buffers.persons
        extra = {
            # stable keys, plain values: tools parse them (benchmarks/node_latency.py)
            "persons": ",".join(map(str, persons)) or "none",
            "vocabulary_size": str(len(self._vocabulary)),
            "window_frames": str(self._buffers.window_length),
            "frame_rate_hz": f"{self._buffers.frame_rate:g}",
            "stride_frames": str(self._buffers.stride),
            "adaptation": _adaptation_summary(self._recognizer.adaptation_stats()),
        }
        array = diagnostic_array(
            f"{self.get_name()}: action recognition", level, message, snapshot, extra
        )
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)
        self.get_logger().info(f"{message}; {summary(snapshot)}")

    def destroy_node(self) -> None:
        if self._started:
            self._inference.stop()
            self._worker.shutdown()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run dynapurls_ros recognizer``."""
    # One intra-op thread: the tracker, DDS and the executor need the other core of a
    # small robot computer (benchmarks/node_latency.py, 4 people: inference p50 27 ms
    # with 1 thread, 37 ms with 2). The windows of all persons are still one batch.
    torch.set_num_threads(1)
    # Torch gives up the GIL around every operator and must win it back for the next;
    # while executor threads run Python, each win can wait the whole switch interval
    # (5 ms by default), hundreds of times per forward pass. 0.5 ms bounds that wait
    # (benchmarks/node_latency.py, 4 people: inference p99 0.05-0.09 s in three runs
    # with it, 0.04-1.1 s in four without).
    sys.setswitchinterval(0.0005)
    keep_freed_memory()
    rclpy.init(args=args)
    node = None
    try:
        node = ActionRecognizerNode()
        gc.collect()
        freeze_long_lived()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as error:
        if not rclpy.ok():
            # A signal shut the context down in the middle of an rclpy call (loading,
            # or an executor thread building its wait set): rclpy raises a plain
            # RCLError then, instead of ExternalShutdownException. A normal stop.
            pass
        elif node is None and isinstance(error, STARTUP_ERRORS):
            # Parameters or a checkpoint the node cannot run with: say which, no traceback.
            print(f"{NODE_NAME}: cannot start: {error}", file=sys.stderr)
            sys.exit(1)
        else:
            raise
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
