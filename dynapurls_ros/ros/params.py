"""Every parameter of the ``action_recognizer`` node, with descriptors and validation.

One table (``SPECS``) gives each parameter's default, description, range or choices and
whether it may change at run time. The node declares them from it, ``config/
recognize.yaml`` repeats the defaults (a test keeps the two equal), and ``check`` is the
node's on-set-parameters validation: pure functions here, so the reasons a
``ros2 param set`` is refused are unit-tested without a running node.

Read-only parameters shape the node's wiring (topics, message type, model, window) and
are set at start (``--params-file``, launch); the others can be changed live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, make_dataclass, replace
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from dynapurls_ros.recognizer import MAX_VOCABULARY, validate_vocabulary
from dynapurls_ros.refinement import RefinementConfig
from dynapurls_ros.rejection import DEFAULT_LEVEL
from dynapurls_ros.ros.inputs import INPUT_TYPES
from dynapurls_ros.skeleton.layouts import LAYOUTS
from dynapurls_ros.text.resolve import load_bank_cached, normalize_name

# Published instead of a vocabulary label when the person does none of its actions
# (open-set rejection) or the evidence is below min_confidence,
# so no vocabulary entry may be called that.
UNKNOWN_LABEL = "unknown"

ParamValue = bool | int | float | str | list[str]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: what ``ros2 param describe`` shows and what ``check`` enforces."""

    name: str
    default: ParamValue
    description: str
    read_only: bool = False
    limits: tuple[float, float] | None = None  # inclusive; enforced by rclpy via the descriptor
    choices: tuple[str, ...] = ()

    def descriptor(self) -> ParameterDescriptor:
        descriptor = ParameterDescriptor(
            name=self.name, description=self.description, read_only=self.read_only
        )
        if self.choices:
            descriptor.additional_constraints = "one of: " + ", ".join(self.choices)
        if self.limits is not None:
            low, high = self.limits
            if isinstance(self.default, int):
                descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high))]
            else:
                descriptor.floating_point_range = [
                    FloatingPointRange(from_value=float(low), to_value=float(high))
                ]
        return descriptor


DEFAULT_VOCABULARY = ["wave", "clap", "point", "bow", "drink", "sit down", "fall down"]
# The adaptation parameters are RefinementConfig fields under an ``adaptation_`` prefix,
# defaults included; the fields left out (steps, max_updates, memory_mb) are fixed.
ADAPTATION_PREFIX = "adaptation_"
_REFINEMENT = RefinementConfig()

SPECS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "input_topic",
        "/skeletons",
        "Topic of the body tracker's skeletons (Azure Kinect driver: /body_tracking_data).",
        read_only=True,
    ),
    ParamSpec(
        "input_type",
        "skeleton_array",
        "Message type on input_topic: dynapurls_ros/SkeletonArray, visualization_msgs/"
        "MarkerArray (Azure Kinect body tracking) or geometry_msgs/PoseArray (one person).",
        read_only=True,
        choices=INPUT_TYPES,
    ),
    ParamSpec(
        "input_queue_depth",
        30,
        "Tracker messages held for the node (best effort, keep last): 30 is one second at "
        "30 Hz, so a busy moment does not cost frames of the windows being built.",
        read_only=True,
        limits=(1, 1000),
    ),
    ParamSpec(
        "layout",
        "ntu25",
        "Joint layout of PoseArray input and of skeletons whose layout field is empty "
        "(MarkerArray input is always azure_kinect).",
        read_only=True,
        choices=tuple(sorted(LAYOUTS)),
    ),
    ParamSpec(
        "max_missing_joints",
        3,
        "Skeletons missing at most this many joints (NaN/inf or confidence 0) are kept, "
        "each missing joint copied from its nearest present ancestor; more are dropped.",
        limits=(0, 10),
    ),
    ParamSpec(
        "output_topic",
        "/action_labels",
        "Topic of the dynapurls_ros/ActionLabel results (one per person per window).",
        read_only=True,
    ),
    ParamSpec(
        "segments_topic",
        "/action_segments",
        "Topic of the dynapurls_ros/ActionSegment messages (one per ended action).",
        read_only=True,
    ),
    ParamSpec(
        "markers_enabled",
        True,
        "Publish visualization_msgs/MarkerArray text markers (each person's label above "
        "their head, for RViz) on markers_topic.",
    ),
    ParamSpec(
        "markers_topic",
        "~/markers",
        "Topic of the RViz label markers.",
        read_only=True,
    ),
    ParamSpec(
        "marker_lifetime",
        1.0,
        "Seconds a label marker stays in RViz without a newer label of its person.",
        limits=(0.05, 60.0),
    ),
    ParamSpec(
        "checkpoint",
        "",
        "Model checkpoint file; empty for the model shipped with the package.",
        read_only=True,
    ),
    ParamSpec(
        "int8",
        True,
        "Run the model with int8 linear layers (dynamic quantization): about 1.7 times "
        "faster on a CPU, the same label on 99 % of windows (benchmarks/model_latency.py).",
        read_only=True,
    ),
    ParamSpec(
        "window_stride",
        0,
        "Model-rate frames between two windows of one person; 0 for a quarter window.",
        read_only=True,
        limits=(0, 1000),
    ),
    ParamSpec(
        "person_timeout",
        1.0,
        "Seconds without a skeleton after which a person's buffer is dropped.",
        limits=(0.05, 60.0),
    ),
    ParamSpec("top_k", 5, "Labels listed per result (top_labels / top_scores).", limits=(1, 50)),
    ParamSpec(
        "rejection_enabled",
        True,
        f"Open-set rejection: publish '{UNKNOWN_LABEL}' when the person does none of the "
        "vocabulary's actions (standing idle, or another action).",
    ),
    ParamSpec(
        "rejection_level",
        DEFAULT_LEVEL,
        "Share of motions outside the vocabulary to call unknown, by the checkpoint's "
        "reference motions (per-label thresholds; the same meaning for any vocabulary). "
        "Higher rejects more, at the cost of more vocabulary actions called unknown.",
        limits=(0.0, 0.99),
    ),
    ParamSpec(
        "smoothing_window",
        1.0,
        "Seconds of window evidence each person's published label is decided on "
        "(0: every window on its own).",
        limits=(0.0, 60.0),
    ),
    ParamSpec(
        "smoothing_hysteresis",
        0.2,
        "Lead in share of the smoothing window's votes a new label needs over the one in "
        "force before the published label changes.",
        limits=(0.0, 1.0),
    ),
    ParamSpec(
        "min_confidence",
        0.0,
        f"Below this smoothed confidence the label published is '{UNKNOWN_LABEL}'.",
        limits=(0.0, 1.0),
    ),
    ParamSpec(
        "vocabulary",
        DEFAULT_VOCABULARY,
        "Action labels to recognise (open vocabulary). Changing it re-encodes the text "
        "features in the background; recognition continues on the old vocabulary meanwhile.",
    ),
    ParamSpec(
        "descriptions_file",
        "",
        "Description bank YAML (format dynapurls-descriptions/1) for the vocabulary; "
        "empty for the banks shipped with the package.",
    ),
    ParamSpec(
        "max_vocabulary",
        200,
        "Largest vocabulary accepted (encoding time and memory grow with it).",
        read_only=True,
        limits=(1, MAX_VOCABULARY),
    ),
    ParamSpec(
        "adaptation_enabled",
        _REFINEMENT.enabled,
        "Online adaptation: refine the text features from the node's own confident "
        "predictions (docs/REFINEMENT.md). Off by default: on the benchmarks it did not "
        "raise accuracy reliably. Changing any adaptation parameter restarts it.",
    ),
    ParamSpec(
        "adaptation_bank_size",
        _REFINEMENT.bank_size,
        "Windows remembered per label (the most confident ones) for adaptation.",
        limits=(1, 1024),
    ),
    ParamSpec(
        "adaptation_threshold",
        _REFINEMENT.threshold,
        "Confidence a prediction must exceed to enter the adaptation memory.",
        limits=(0.0, 1.0),
    ),
    ParamSpec(
        "adaptation_min_balance",
        _REFINEMENT.min_balance,
        "How evenly the labels must fill the adaptation memory before it updates "
        "(normalised entropy of the label histogram; 1 = equal). Lower adapts sooner, "
        "but can train away a label the model is never confident about.",
        limits=(0.0, 1.0),
    ),
    ParamSpec(
        "adaptation_lr",
        _REFINEMENT.lr,
        "Learning rate (Adam) of the adaptation's scale and shift of the text features.",
        limits=(0.0, 1.0),
    ),
    ParamSpec(
        "diagnostics_period",
        5.0,
        "Seconds between diagnostics (log line and /diagnostics message).",
        read_only=True,
        limits=(0.1, 3600.0),
    ),
)

SPEC_BY_NAME: dict[str, ParamSpec] = {spec.name: spec for spec in SPECS}

# Adaptation parameter -> the RefinementConfig field it sets (the rest keep their values).
ADAPTATION_FIELDS = {
    spec.name: spec.name.removeprefix(ADAPTATION_PREFIX)
    for spec in SPECS
    if spec.name.startswith(ADAPTATION_PREFIX)
}


def _settings_from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """Settings from parameter values; a missing one takes its default."""
    merged = {spec.name: values.get(spec.name, spec.default) for spec in SPECS}
    merged["vocabulary"] = clean_vocabulary(merged["vocabulary"], merged["max_vocabulary"])
    return cls(**merged)


def _python_type(default: ParamValue) -> type:
    return list[str] if isinstance(default, list) else type(default)


# Typed snapshot of all parameter values, one field per SPECS entry in its order: made
# from the table so that a parameter is defined in one place only.
Settings = make_dataclass(
    "Settings",
    [(spec.name, _python_type(spec.default)) for spec in SPECS],
    frozen=True,
    namespace={"from_values": classmethod(_settings_from_values), "__module__": __name__},
)


def adaptation_config(settings: Settings, base: RefinementConfig) -> RefinementConfig:
    """``base`` with the adaptation parameters of ``settings`` applied."""
    return replace(
        base, **{field: getattr(settings, name) for name, field in ADAPTATION_FIELDS.items()}
    )


def clean_vocabulary(labels: Sequence[Any], max_size: int) -> list[str]:
    """The recognizer's vocabulary check (empty, blank, duplicate after normalisation,
    too many, not text) plus the one label the node reserves; ValueError says why."""
    cleaned = validate_vocabulary(labels, max_size)
    if any(normalize_name(label) == UNKNOWN_LABEL for label in cleaned):
        raise ValueError(
            f"'{UNKNOWN_LABEL}' is reserved for what none of the vocabulary's labels fits"
        )
    return cleaned


def check(changes: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """Why ``changes`` (name -> new value) must be refused, or None to accept them.

    ``current`` holds the values in force (missing ones: defaults); the vocabulary is
    checked against the max_vocabulary that will apply after the change. Types and
    ranges are checked by rclpy from the descriptors before this runs.
    """
    after = {spec.name: spec.default for spec in SPECS} | dict(current) | dict(changes)
    try:
        for name, value in changes.items():
            spec = SPEC_BY_NAME.get(name)
            if spec is None:
                continue
            if spec.choices and value not in spec.choices:
                raise ValueError(f"{name} must be one of {', '.join(spec.choices)}; got {value!r}")
            if name == "checkpoint" and value and not Path(value).expanduser().is_file():
                raise ValueError(f"checkpoint: no such file {value!r}")
            if name == "descriptions_file" and value:
                load_bank_cached(Path(value).expanduser())
        if "vocabulary" in changes or "max_vocabulary" in changes:
            clean_vocabulary(after["vocabulary"], after["max_vocabulary"])
    except ValueError as error:
        return str(error)
    return None


def defaults() -> dict[str, ParamValue]:
    """Default value of every parameter."""
    return {spec.name: spec.default for spec in SPECS}
