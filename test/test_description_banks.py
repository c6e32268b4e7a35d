"""Checks on the shipped description banks in ``config/descriptions/``.

The text encoder turns every slot into a prototype, so a bank with an empty slot, a
global sentence shared by two labels, or two labels answering to one name would silently
blur or misroute classes at recognition time. These tests read the YAML files
directly (``yaml.safe_load``) so the banks are validated independently of the
loader; the generic checks run on every bank in the folder, the label-set checks
only on the banks whose class lists are fixed by a dataset.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynapurls_ros.datasets import gtu3d, nw_ucla
from dynapurls_ros.text import descriptions

BANK_DIR = Path(__file__).resolve().parents[1] / "config" / "descriptions"
FORMAT = "dynapurls-descriptions/1"
SLOTS = ("head", "hands", "torso", "legs", "start", "middle", "end", "global")
MIN_WORDS, MAX_WORDS = 6, 20

# The dataset readers own the class lists; the banks must name exactly those classes.
NW_UCLA_LABELS = set(nw_ucla.CLASS_NAMES)
GTU3D_LABELS = set(gtu3d.CLASS_NAMES)
EVERYDAY_MIN = 60
EVERYDAY_REQUIRED = {"wave", "point", "fall down", "sit down", "clap", "bow", "drink"}

BANKS = sorted(BANK_DIR.glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    """Parse one bank with the safe loader and check the top-level shape."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), f"{path}: top level must be a mapping"
    assert isinstance(data.get("actions"), dict) and data["actions"], (
        f"{path}: 'actions' must be a non-empty mapping"
    )
    return data


def _norm(text: str) -> str:
    """Fold case, spacing and final punctuation, the way a user's query might differ."""
    return re.sub(r"\s+", " ", text.casefold()).strip().rstrip(".")


def _slot_texts(path: Path) -> dict[str, dict[str, str]]:
    """Map label -> slot -> text; assumes the slot check passed."""
    return {
        label: {slot: entry[slot] for slot in SLOTS}
        for label, entry in _load(path)["actions"].items()
    }


def test_own_banks_present() -> None:
    names = {path.name for path in BANKS}
    assert {"nw_ucla.yaml", "gtu3d.yaml", "everyday.yaml"} <= names


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_header(path: Path) -> None:
    data = _load(path)
    assert data.get("format") == FORMAT, f"{path}: format must be {FORMAT!r}"
    source = data.get("source")
    assert isinstance(source, str) and source.strip(), f"{path}: 'source' must be a text"


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_every_label_has_eight_text_slots(path: Path) -> None:
    for label, entry in _load(path)["actions"].items():
        # YAML 1.1 turns bare yes/no/on/off into booleans; a label must stay text.
        assert isinstance(label, str) and label == label.strip() and label, (
            f"{path}: bad label {label!r}"
        )
        assert isinstance(entry, dict), f"{path}: {label!r} must map slots to text"
        missing = [slot for slot in SLOTS if slot not in entry]
        assert not missing, f"{path}: {label!r} lacks slots {missing}"
        for slot in SLOTS:
            text = entry[slot]
            assert isinstance(text, str) and text.strip(), f"{path}: {label!r}.{slot} is empty"
        synonyms = entry.get("synonyms", [])
        assert isinstance(synonyms, list), f"{path}: {label!r}.synonyms must be a list"
        for synonym in synonyms:
            assert isinstance(synonym, str) and synonym.strip(), (
                f"{path}: {label!r} has a non-text synonym {synonym!r}"
            )
            assert synonym == synonym.lower(), f"{path}: synonym {synonym!r} must be lowercase"


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_slot_word_counts(path: Path) -> None:
    too_short_or_long = [
        f"{label}.{slot} ({len(text.split())} words)"
        for label, slots in _slot_texts(path).items()
        for slot, text in slots.items()
        if not MIN_WORDS <= len(text.split()) <= MAX_WORDS
    ]
    assert not too_short_or_long, f"{path}: outside {MIN_WORDS}-{MAX_WORDS} words: " + ", ".join(
        too_short_or_long
    )


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_names_resolve_to_one_label(path: Path) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for label, entry in _load(path)["actions"].items():
        for name in [label, *entry.get("synonyms", [])]:
            key = _norm(name)
            if key in owner:
                clashes.append(f"{name!r} ({owner[key]!r} and {label!r})")
            owner[key] = label
    assert not clashes, f"{path}: names used twice: " + ", ".join(clashes)


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_no_label_written_twice(path: Path) -> None:
    # safe_load keeps only the last of two equal keys, silently dropping a description;
    # the composed node tree (no object construction) still shows both.
    root = yaml.compose(path.read_text(encoding="utf-8"))
    actions = next(value for key, value in root.value if key.value == "actions")
    seen: set[str] = set()
    repeated = []
    for key, _ in actions.value:
        if key.value in seen:
            repeated.append(f"{key.value!r} (line {key.start_mark.line + 1})")
        seen.add(key.value)
    assert not repeated, f"{path}: labels written twice: " + ", ".join(repeated)


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_labels_stay_distinguishable(path: Path) -> None:
    """A body part that stays still may read the same for many labels ("legs stay
    still"), but each label's global sentence, and its eight slots taken together, must
    be its own: identical prototypes could never be told apart."""
    global_owner: dict[str, str] = {}
    full_owner: dict[tuple[str, ...], str] = {}
    clashes = []
    for label, slots in _slot_texts(path).items():
        first = global_owner.setdefault(_norm(slots["global"]), label)
        if first != label:
            clashes.append(f"{label}.global = {first}.global")
        whole = tuple(_norm(slots[slot]) for slot in sorted(slots))
        first = full_owner.setdefault(whole, label)
        if first != label:
            clashes.append(f"{label} = {first} (all slots)")
    assert not clashes, f"{path}: indistinguishable labels: " + ", ".join(clashes)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("nw_ucla.yaml", NW_UCLA_LABELS), ("gtu3d.yaml", GTU3D_LABELS)],
)
def test_dataset_banks_match_class_lists(name: str, expected: set[str]) -> None:
    labels = set(_load(BANK_DIR / name)["actions"])
    assert labels == expected, f"missing {expected - labels}, extra {labels - expected}"


def test_everyday_bank_size_and_core_labels() -> None:
    labels = set(_load(BANK_DIR / "everyday.yaml")["actions"])
    assert len(labels) >= EVERYDAY_MIN
    assert labels >= EVERYDAY_REQUIRED, f"missing {EVERYDAY_REQUIRED - labels}"


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_project_loader_reads_bank(path: Path) -> None:
    assert tuple(descriptions.SLOTS) == SLOTS
    bank = descriptions.load_bank(path)
    assert set(bank) == set(_load(path)["actions"])
