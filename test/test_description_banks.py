"""Checks on the shipped description banks in ``config/descriptions/`` and the class
lists they cover in ``config/vocabularies/``.

The text encoder turns every slot into a prototype, so a bank with an empty slot, a
global sentence shared by two labels, or two labels answering to one name would silently
blur or misroute classes at recognition time. These tests read the YAML files
directly (``yaml.safe_load``) so the banks are validated independently of the
loader; the generic checks run on every bank in the folder, the label-set checks
only on the banks whose class lists are fixed by a dataset. The cross-bank checks treat
all banks as one: one entry per name, one global sentence per entry, and every class of
every vocabulary resolving (``DescriptionResolver.match`` over all shipped banks) to the
entry its vocabulary names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynapurls_ros.datasets import gtu3d, ntu, nw_ucla, pku_mmd, utd_mhad
from dynapurls_ros.text import descriptions
from dynapurls_ros.text.resolve import DescriptionResolver, normalize_name
from dynapurls_ros.text.vocabularies import (
    Vocabulary,
    VocabularyError,
    load_vocabularies,
    load_vocabulary,
)

BANK_DIR = Path(__file__).resolve().parents[1] / "config" / "descriptions"
VOCABULARY_DIR = BANK_DIR.parent / "vocabularies"
FORMAT = "dynapurls-descriptions/1"
SLOTS = ("head", "hands", "torso", "legs", "start", "middle", "end", "global")
MIN_WORDS, MAX_WORDS = 6, 20

# The dataset readers own the class lists; the banks must name exactly those classes.
NW_UCLA_LABELS = set(nw_ucla.CLASS_NAMES)
GTU3D_LABELS = set(gtu3d.CLASS_NAMES)
EVERYDAY_MIN = 60
EVERYDAY_REQUIRED = {"wave", "point", "fall down", "sit down", "clap", "bow", "drink"}
MIN_ENTRIES = 1000  # distinct actions over all banks
MAX_NOT_COVERED = 0.10  # share of a source's classes a skeleton cannot show
# The class lists the dataset readers use; their vocabularies list the same, in order.
DATASET_CLASSES = {
    "ntu120": ntu.NTU120_CLASS_NAMES,
    "pku_mmd": pku_mmd.CLASS_NAMES,
    "nw_ucla": nw_ucla.CLASS_NAMES,
    "gtu3d": gtu3d.CLASS_NAMES,
    "utd_mhad": utd_mhad.CLASS_NAMES,
}

BANKS = sorted(BANK_DIR.glob("*.yaml"))
VOCABULARIES = sorted(VOCABULARY_DIR.glob("*.yaml"))


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
    # The core robot-facing actions are classes of the everyday vocabulary; where another
    # bank already described one (NTU-120's "hand waving" for "wave") the entry lives there.
    labels = set(_load(BANK_DIR / "everyday.yaml")["actions"])
    assert len(labels) >= EVERYDAY_MIN
    classes = {c.name for c in load_vocabulary(VOCABULARY_DIR / "everyday.yaml").classes}
    assert classes >= EVERYDAY_REQUIRED, f"missing {EVERYDAY_REQUIRED - classes}"


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.name)
def test_project_loader_reads_bank(path: Path) -> None:
    assert tuple(descriptions.SLOTS) == SLOTS
    bank = descriptions.load_bank(path)
    assert set(bank) == set(_load(path)["actions"])


# -- all banks together, and the vocabularies they cover --------------------------------


@pytest.fixture(scope="module")
def all_banks() -> dict[str, dict[str, descriptions.ActionDescription]]:
    return {path.name: descriptions.load_bank(path) for path in BANKS}


@pytest.fixture(scope="module")
def vocabularies() -> dict[str, Vocabulary]:
    return load_vocabularies(VOCABULARIES)


def test_one_entry_per_name_across_banks(all_banks) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for file, bank in all_banks.items():
        for label, desc in bank.items():
            here = f"{file}:{label}"
            for name in (label, *desc.synonyms):
                first = owner.setdefault(normalize_name(name), here)
                if first != here:
                    clashes.append(f"{name!r} ({first} and {here})")
    assert not clashes, "names pointing to two entries: " + ", ".join(clashes)


def test_no_global_sentence_shared_across_banks(all_banks) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for file, bank in all_banks.items():
        for label, desc in bank.items():
            here = f"{file}:{label}"
            first = owner.setdefault(_norm(desc["global"]), here)
            if first != here:
                clashes.append(f"{here} = {first}")
    assert not clashes, "global sentences used twice: " + ", ".join(clashes)


def test_bank_holds_a_thousand_distinct_actions(all_banks) -> None:
    count = sum(len(bank) for bank in all_banks.values())
    per_file = ", ".join(f"{file} {len(bank)}" for file, bank in all_banks.items())
    print(f"\n{count} distinct bank entries ({per_file})")
    assert count >= MIN_ENTRIES, f"{count} entries: {per_file}"


def test_vocabulary_files_load() -> None:
    assert VOCABULARIES, f"no vocabulary files in {VOCABULARY_DIR}"
    for path in VOCABULARIES:
        vocabulary = load_vocabulary(path)
        assert vocabulary.name.strip() and vocabulary.citation.strip(), path
        names = [c.name for c in vocabulary.classes] + [n for n, _ in vocabulary.not_covered]
        repeated = sorted({n for n in names if names.count(n) > 1})
        assert not repeated, f"{path}: classes listed twice: {repeated}"
        for name in names:
            assert name == name.lower() and name == name.strip(), f"{path}: bad name {name!r}"


def test_every_vocabulary_class_resolves_to_its_entry(all_banks, vocabularies) -> None:
    resolver = DescriptionResolver(bank_paths=BANKS)
    entries = {
        label: (file, desc) for file, bank in all_banks.items() for label, desc in bank.items()
    }
    wrong = []
    for key, vocabulary in vocabularies.items():
        for cls in vocabulary.classes:
            if cls.entry not in entries:
                wrong.append(f"{key}: {cls.name!r} names no entry {cls.entry!r}")
                continue
            file, desc = entries[cls.entry]
            found = resolver.match(cls.name)
            if found is None:
                wrong.append(f"{key}: {cls.name!r} resolves to nothing")
            elif found.source != f"bank:{file}" or found.description.texts != desc.texts:
                wrong.append(
                    f"{key}: {cls.name!r} resolves to {found.source} "
                    f"{found.description['global']!r}, not to {file}:{cls.entry!r}"
                )
    assert not wrong, "\n".join(wrong)


def test_every_entry_has_a_source(all_banks, vocabularies) -> None:
    """A reader finds every entry in at least one source's class list."""
    named = {cls.entry for vocabulary in vocabularies.values() for cls in vocabulary.classes}
    orphans = [
        f"{f}:{label}" for f, bank in all_banks.items() for label in bank if label not in named
    ]
    assert not orphans, f"entries no vocabulary names: {orphans}"


def test_not_covered_is_rare_and_explained(vocabularies) -> None:
    for key, vocabulary in vocabularies.items():
        share = len(vocabulary.not_covered) / vocabulary.size
        assert share < MAX_NOT_COVERED, f"{key}: {share:.0%} of the classes not covered"
        for name, why in vocabulary.not_covered:
            assert len(why.split()) >= 3, f"{key}: {name!r} needs a reason, got {why!r}"


@pytest.mark.parametrize(("key", "names"), DATASET_CLASSES.items(), ids=list(DATASET_CLASSES))
def test_dataset_vocabularies_match_the_readers(vocabularies, key: str, names) -> None:
    vocabulary = vocabularies[key]
    assert not vocabulary.not_covered
    assert [c.name for c in vocabulary.classes] == list(names)


def test_sided_entries_only_for_sided_classes(all_banks, vocabularies) -> None:
    """UTD-MHAD fixes the hand (or foot) of its classes; another source's class maps to one
    of those entries only when its own name fixes the side too (a generic "bowling" has
    its own entry, apart from "bowling (right hand)")."""
    sided = set(all_banks["utd_mhad.yaml"])
    wrong = [
        f"{key}: {cls.name!r} -> {cls.entry!r}"
        for key, vocabulary in vocabularies.items()
        if key != "utd_mhad"
        for cls in vocabulary.classes
        if cls.entry in sided and not {"right", "left"} & set(cls.name.split())
    ]
    assert not wrong, wrong


def test_vocabulary_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("format: dynapurls-vocabulary/1\nname: x\ncitation: y\nclasses: [[1]]\n")
    with pytest.raises(VocabularyError, match="bad.yaml: class 1"):
        load_vocabulary(path)
    path.write_text("format: other\n")
    with pytest.raises(VocabularyError, match="format must be"):
        load_vocabulary(path)
    path.write_text(
        "format: dynapurls-vocabulary/1\nname: x\ncitation: y\nclasses: [a]\n"
        "not_covered: [{name: b}]\n"
    )
    with pytest.raises(VocabularyError, match="not_covered item 1"):
        load_vocabulary(path)
