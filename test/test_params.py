"""The node's parameter table and the reasons a parameter change is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from rcl_interfaces.msg import ParameterDescriptor

from dynapurls_ros.paths import config_dir
from dynapurls_ros.refinement import RefinementConfig
from dynapurls_ros.ros import params
from dynapurls_ros.ros.params import SPECS, Settings, check, clean_vocabulary

REPO = Path(__file__).resolve().parents[1]


def test_config_file_repeats_every_default() -> None:
    with (REPO / "config" / "recognize.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert list(data) == ["/**"], "keyed /** so a namespace or renamed node still gets them"
    assert data["/**"]["ros__parameters"] == params.defaults()


def test_settings_has_one_typed_field_per_parameter() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.name for s in SPECS]
    settings = Settings.from_values({"top_k": 3, "vocabulary": ["  wave  hello ", "clap"]})
    assert settings.top_k == 3 and settings.input_type == "skeleton_array"
    assert settings.vocabulary == ["wave hello", "clap"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_descriptors_describe_and_bound_every_parameter(spec: params.ParamSpec) -> None:
    descriptor = spec.descriptor()
    assert isinstance(descriptor, ParameterDescriptor) and descriptor.description
    if spec.choices:
        assert spec.default in spec.choices
        assert all(choice in descriptor.additional_constraints for choice in spec.choices)
    if spec.limits is not None:
        low, high = spec.limits
        assert low <= spec.default <= high
        bounds = descriptor.integer_range or descriptor.floating_point_range
        assert (bounds[0].from_value, bounds[0].to_value) == (low, high)
        assert bool(descriptor.integer_range) == isinstance(spec.default, int)


def test_wiring_parameters_are_read_only_and_live_ones_are_not() -> None:
    read_only = {s.name for s in SPECS if s.read_only}
    assert {"input_topic", "input_type", "output_topic", "checkpoint", "window_stride"} <= read_only
    live = {"vocabulary", "descriptions_file", "min_confidence", "top_k", "adaptation_enabled"}
    assert not live & read_only


def test_vocabulary_is_cleaned() -> None:
    assert clean_vocabulary(["wave", " sit\tdown "], 10) == ["wave", "sit down"]


@pytest.mark.parametrize(
    ("labels", "max_size", "reason"),
    [
        ([], 10, "vocabulary is empty"),
        (["wave", "  "], 10, "is blank"),
        (["Sit Down", "wave", "sit_down"], 10, "'Sit Down' and 'sit_down' are duplicates"),
        (["a", "b", "c"], 2, "3 labels; at most 2"),
        ("wave", 10, "not one string"),
        (["wave", 3], 10, "3 is not a string"),
        (["wave", "Unknown"], 10, "'unknown' is reserved"),
    ],
)
def test_invalid_vocabularies_are_refused_with_a_reason(labels, max_size, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        clean_vocabulary(labels, max_size)


def test_check_accepts_valid_changes() -> None:
    bank = config_dir() / "descriptions" / "nw_ucla.yaml"
    changes = {"vocabulary": ["drop trash", "throw"], "descriptions_file": str(bank)}
    assert check(changes, params.defaults()) is None
    assert check({"min_confidence": 0.4, "top_k": 2}, {}) is None


def test_check_explains_refusals(tmp_path: Path) -> None:
    current = params.defaults()
    assert "at most 2" in check({"vocabulary": ["a", "b", "c"], "max_vocabulary": 2}, {})
    assert "at most 3" in check({"max_vocabulary": 3}, current)  # 7 labels in force
    assert "layout must be one of" in check({"layout": "kinect_v9"}, current)
    assert "input_type must be one of" in check({"input_type": "images"}, current)
    assert "checkpoint: no such file" in check({"checkpoint": str(tmp_path / "x.pt")}, current)
    missing = tmp_path / "missing.yaml"
    assert str(missing) in check({"descriptions_file": str(missing)}, current)
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: dynapurls-descriptions/1\nactions:\n  wave:\n    head: nods\n")
    reason = check({"descriptions_file": str(broken)}, current)
    assert str(broken) in reason and "wave" in reason


def test_adaptation_parameters_default_to_the_refinement_defaults() -> None:
    """The node's adaptation defaults are the measured ones of RefinementConfig, and each
    parameter reaches its field."""
    defaults = Settings.from_values({})
    assert params.adaptation_config(defaults, RefinementConfig()) == RefinementConfig()
    changed = Settings.from_values({"adaptation_min_balance": 0.3, "adaptation_lr": 0.01})
    config = params.adaptation_config(changed, RefinementConfig())
    assert (config.min_balance, config.lr) == (0.3, 0.01)
