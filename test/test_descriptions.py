"""Loader for eight-slot description banks: valid banks parse, bad ones fail loudly.

A bank error that slipped through would give a class a wrong or empty prototype at
recognition time, so every malformed case must raise and name the file, line and label.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.descriptions import (
    PART_SLOTS,
    PHASE_SLOTS,
    SLOTS,
    ActionDescription,
    BankError,
    label_only_description,
    load_bank,
)

WAVE = """\
  wave:
    id: A023
    synonyms: [hand waving, waving]
    head: head faces forward and stays still
    hands: right hand rises above the shoulder and swings side to side
    torso: torso stays upright
    legs: legs stay still
    start: the right arm lifts to shoulder height
    middle: the hand sways left and right several times
    end: the arm lowers to the side
    global: a person raises one hand and waves it side to side
"""
SIT = """\
  sit down:
    synonyms: [sitting down]
    head: head lowers with the body
    hands: hands reach back toward the seat
    torso: torso leans forward then lowers
    legs: knees bend until the hips reach the seat
    start: the person stands in front of a chair
    middle: hips move back and down
    end: the person sits upright on the chair
    global: a person lowers the body from standing to sitting on a chair
"""


def _bank(tmp_path: Path, body: str, header: str = "format: dynapurls-descriptions/1\n") -> Path:
    path = tmp_path / "bank.yaml"
    path.write_text(header + "source: test\nactions:\n" + body, encoding="utf-8")
    return path


def test_slot_order_is_fixed() -> None:
    assert SLOTS == ("head", "hands", "torso", "legs", "start", "middle", "end", "global")
    assert PART_SLOTS + PHASE_SLOTS + ("global",) == SLOTS


def test_valid_bank_loads_in_slot_order(tmp_path: Path) -> None:
    bank = load_bank(_bank(tmp_path, WAVE + SIT))
    assert list(bank) == ["wave", "sit down"]
    wave = bank["wave"]
    assert wave["hands"].startswith("right hand rises")
    assert wave["global"] == wave.texts[-1] == "a person raises one hand and waves it side to side"
    assert wave.synonyms == ("hand waving", "waving")
    assert wave.class_id == "A023"
    assert bank["sit down"].class_id is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (WAVE.replace("    legs: legs stay still\n", ""), r"yaml:4: action 'wave'.*'legs'"),
        (WAVE.replace("legs stay still", "[1, 2]"), r"'wave' slot 'legs' must be a string"),
        (WAVE.replace("legs stay still", "''"), r"'wave' slot 'legs' is empty"),
        (WAVE.replace("    head:", "    hed:"), r"unknown keys \['hed'\]"),
        (WAVE + WAVE, r"duplicate label 'wave' \(lines 4, 15\)"),
        (WAVE + SIT.replace("[sitting down]", "[Waving]"), r"'Waving'.*duplicates action 'wave'"),
        (WAVE.replace("[hand waving, waving]", "hand waving"), r"synonyms must be a list"),
        (WAVE + "  jump: just a string\n", r"bank.yaml:15: action 'jump' must be a mapping"),
    ],
    ids=["missing", "non-string", "empty", "unknown-key", "duplicate", "synonym-clash",
         "synonyms-str", "not-mapping"],
)  # fmt: skip
def test_malformed_bank_names_file_line_and_label(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(BankError, match=message):
        load_bank(_bank(tmp_path, body))


def test_wrong_format_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(BankError, match=r"bank.yaml: format must be 'dynapurls-descriptions/1'"):
        load_bank(_bank(tmp_path, WAVE, header="format: other/2\n"))
    bad = tmp_path / "broken.yaml"
    bad.write_text("format: dynapurls-descriptions/1\nactions: [unclosed\n", encoding="utf-8")
    with pytest.raises(BankError, match="broken.yaml: invalid YAML"):
        load_bank(bad)
    with pytest.raises(BankError, match="missing.yaml: cannot read"):
        load_bank(tmp_path / "missing.yaml")


def test_label_only_description_fills_every_slot_from_the_name() -> None:
    desc = label_only_description("pick_up  box")
    assert desc.label == "pick_up  box"
    assert len(desc.texts) == len(SLOTS)
    assert all("pick up box" in text for text in desc.texts)
    assert len(set(desc.texts)) == len(SLOTS)  # slots stay distinguishable
    with pytest.raises(ValueError, match="empty label"):
        label_only_description("  ")


def test_description_validates_its_texts() -> None:
    with pytest.raises(ValueError, match="expected 8 texts"):
        ActionDescription(label="x", texts=("a",) * 7)
    with pytest.raises(ValueError, match="slot 'end' must be non-empty"):
        ActionDescription(label="x", texts=("a",) * 6 + ("", "a"))
    with pytest.raises(KeyError, match="unknown slot"):
        label_only_description("x")["arms"]


def test_shipped_banks_load() -> None:
    banks = sorted((config_dir() / "descriptions").glob("*.yaml"))
    if not banks:
        pytest.skip("no description banks shipped yet")
    for path in banks:
        bank = load_bank(path)
        assert bank, path
        assert all(len(desc.texts) == len(SLOTS) for desc in bank.values())
