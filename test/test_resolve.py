"""Label resolution against the shipped banks, user files and the template fallback.

Everything runs on the real banks in ``config/descriptions``; a bank is named
explicitly where the answer depends on the search order.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import yaml

from dynapurls_ros.datasets.ntu import NTU120_CLASS_NAMES
from dynapurls_ros.text.descriptions import SLOTS, BankError
from dynapurls_ros.text.resolve import (
    DescriptionResolver,
    default_bank_paths,
    inflections,
    load_bank_cached,
    name_variants,
    normalize_name,
)
from dynapurls_ros.text.template import template_description, word_forms

BANKS = Path(__file__).resolve().parents[1] / "config" / "descriptions"
EVERYDAY, NTU120, NW_UCLA, GTU3D = (
    BANKS / f"{name}.yaml" for name in ("everyday", "ntu120", "nw_ucla", "gtu3d")
)


def _one(resolver: DescriptionResolver, label: str):
    (resolved,) = resolver.resolve([label])
    return resolved


@pytest.fixture(scope="module")
def everyday() -> DescriptionResolver:
    return DescriptionResolver(bank_paths=[EVERYDAY])


@pytest.fixture(scope="module")
def ntu() -> DescriptionResolver:
    return DescriptionResolver(bank_paths=[NTU120])


# -- matching --------------------------------------------------------------------------


def test_default_banks_are_the_shipped_ones() -> None:
    assert [p.name for p in default_bank_paths()] == sorted(p.name for p in BANKS.glob("*.yaml"))


def test_normalised_match_keeps_the_requested_label(ntu: DescriptionResolver) -> None:
    bank = load_bank_cached(NTU120)
    for query in ("drink water", "  Drink   WATER. ", "drink_water", "Drink-Water!"):
        resolved = _one(ntu, query)
        assert resolved.source == "bank:ntu120.yaml"
        assert resolved.label == query and resolved.description.label == query
        assert resolved.description.texts == bank["drink water"].texts


@pytest.mark.parametrize(
    ("query", "bank_label"),
    [
        ("eat meal", "eat meal/snack"),
        ("eat snack", "eat meal/snack"),
        ("Eat meal/snack", "eat meal/snack"),
        ("make a phone call", "make a phone call/answer phone"),
        ("answer phone", "make a phone call/answer phone"),
        ("punching other person", "punching/slapping other person"),
        ("slapping other person", "punching/slapping other person"),
        ("put on a cap", "put on a hat/cap"),
        ("touch head", "touch head (headache)"),
        ("cutting paper", "cutting paper (using scissors)"),
        ("use a fan", "use a fan (with hand or paper)/feeling warm"),
        ("feeling warm", "use a fan (with hand or paper)/feeling warm"),
        ("eating", "eat meal/snack"),  # a synonym
    ],
)
def test_slash_and_bracket_variants(ntu: DescriptionResolver, query: str, bank_label: str) -> None:
    expected = load_bank_cached(NTU120)[bank_label].texts
    resolved = _one(ntu, query)
    assert resolved.source == "bank:ntu120.yaml"
    assert resolved.description.texts == expected


def test_bracket_comment_alone_is_not_a_name(ntu: DescriptionResolver) -> None:
    # "hush (quite)": "quite" is a remark, not a way to say "hush".
    assert "quite" not in name_variants("hush (quite)")
    assert _one(ntu, "quite").source == "template"
    assert _one(ntu, "hush").source == "bank:ntu120.yaml"


@pytest.mark.parametrize(
    ("query", "bank_label"),
    [
        ("kicks", "kick"),  # plural of a label
        ("shrugs", "shrug"),
        ("dances", "dance"),
        ("rub the eye", "rub eyes"),  # singular of the synonym "rub the eyes"
        ("waving arms overhead", "wave both arms"),  # gerund of a verb ending in a silent e
        ("Putting something down", "put down"),  # gerund with a doubled consonant
        ("getting up from lying", "get up from floor"),
    ],
)
def test_inflected_forms(everyday: DescriptionResolver, query: str, bank_label: str) -> None:
    bank = load_bank_cached(EVERYDAY)
    names = {normalize_name(n) for d in bank.values() for n in (d.label, *d.synonyms)}
    assert normalize_name(query) not in names  # only an inflection can match it
    resolved = _one(everyday, query)
    assert resolved.source == "bank:everyday.yaml"
    assert resolved.description.texts == load_bank_cached(EVERYDAY)[bank_label].texts


def test_gerund_label_matches_its_base_form() -> None:
    resolver = DescriptionResolver(bank_paths=[GTU3D])
    resolved = _one(resolver, "crouch")
    assert resolved.description.texts == load_bank_cached(GTU3D)["crouching"].texts


@pytest.mark.parametrize("query", ["bowling", "sing", "sits", "bows and arrows", "wavelength"])
def test_no_false_inflection_matches(everyday: DescriptionResolver, query: str) -> None:
    assert _one(everyday, query).source == "template"


def test_word_forms() -> None:
    assert "wave" in word_forms("waving")
    assert "sit" in word_forms("sitting")
    assert "fall" in word_forms("falling")
    assert "glass" in word_forms("glasses")
    assert "carry" in word_forms("carries")
    assert "bow" not in word_forms("bowling")
    assert word_forms("sing") == ["sing"] and word_forms("pass") == ["pass"]
    assert inflections("waving hands")[0] == "waving hands"
    assert "wave hand" in inflections("waving hands")


def _bank(path: Path, actions: dict[str, list[str]]) -> Path:
    """A small bank: label -> synonyms, slots naming the file and the label."""
    document = {
        "format": "dynapurls-descriptions/1",
        "source": "test",
        "actions": {
            label: {"synonyms": synonyms, **{s: f"{path.stem} {label} {s}" for s in SLOTS}}
            for label, synonyms in actions.items()
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# The shipped banks never give one name to two entries (test_description_banks), so the
# search-order rules are tested on small banks of their own.


def test_exact_label_beats_earlier_synonym(tmp_path: Path) -> None:
    first = _bank(tmp_path / "first.yaml", {"drink": ["drink water"]})
    second = _bank(tmp_path / "second.yaml", {"drink water": []})
    resolved = _one(DescriptionResolver(bank_paths=[first, second]), "drink water")
    assert resolved.source == "bank:second.yaml"


def test_bank_order_decides_between_equal_matches(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one = _bank(tmp_path / "one.yaml", {"throw": ["toss"]})
    two = _bank(tmp_path / "two.yaml", {"throw": ["hurl"]})
    first_one = DescriptionResolver(bank_paths=[one, two])
    first_two = DescriptionResolver(bank_paths=[two, one])
    with caplog.at_level(logging.INFO, logger="dynapurls_ros.text.resolve"):
        assert _one(first_one, "throw").source == "bank:one.yaml"
    assert "also described in bank:two.yaml" in caplog.text
    assert _one(first_two, "throw").source == "bank:two.yaml"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_ambiguous_match_warns_and_picks_the_first(caplog: pytest.LogCaptureFixture) -> None:
    resolver = DescriptionResolver(bank_paths=[GTU3D])
    with caplog.at_level(logging.WARNING, logger="dynapurls_ros.text.resolve"):
        resolved = _one(resolver, "bend the leg")
    expected = load_bank_cached(GTU3D)["bend the leg (one side)"].texts
    assert resolved.description.texts == expected
    (record,) = caplog.records
    assert "ambiguous" in record.getMessage()
    assert "bend the leg (other side)" in record.getMessage()


# -- user files ------------------------------------------------------------------------


def _user_file(tmp_path: Path) -> Path:
    def slots(what: str) -> dict[str, str]:
        return {slot: f"{what} as the {slot} slot of a user entry" for slot in SLOTS}

    path = tmp_path / "mine.yaml"
    document = {
        "format": "dynapurls-descriptions/1",
        "source": "test",
        "actions": {
            "wave": slots("user wave"),
            "juggle": {"synonyms": ["juggling balls"], **slots("user juggle")},
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_user_files_override_banks(tmp_path: Path) -> None:
    resolver = DescriptionResolver(bank_paths=[EVERYDAY, NTU120], user_files=[_user_file(tmp_path)])
    # "waving" is a synonym in a bank but only an inflection of the user's "wave".
    wave, waving, juggling, kick = resolver.resolve(["wave", "waving", "Juggling balls", "kick"])
    assert wave.source == waving.source == juggling.source == "user:mine.yaml"
    assert wave.description["hands"] == "user wave as the hands slot of a user entry"
    assert juggling.label == "Juggling balls"
    assert juggling.description["global"].startswith("user juggle")
    assert kick.source == "bank:everyday.yaml"


def test_broken_files_raise_with_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="missing.yaml"):
        DescriptionResolver(bank_paths=[], user_files=[tmp_path / "missing.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: dynapurls-descriptions/1\nactions:\n  wave:\n    head: x\n")
    with pytest.raises(BankError, match="bad.yaml"):
        DescriptionResolver(bank_paths=[bad])


def test_loaded_banks_are_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = _user_file(tmp_path)
    assert load_bank_cached(path) is load_bank_cached(path)
    first = load_bank_cached(path)
    text = path.read_text().replace("user wave", "edited wave")
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_bank_cached(path) is not first
    assert load_bank_cached(path)["wave"]["head"].startswith("edited wave")


def test_resolving_a_dataset_vocabulary_is_fast() -> None:
    resolver = DescriptionResolver()
    labels = list(NTU120_CLASS_NAMES)
    start = time.perf_counter()
    resolved = resolver.resolve(labels)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1, f"resolving {len(labels)} labels took {elapsed * 1000:.0f} ms"
    assert len(resolved) == 120 and all(r.source.startswith("bank:") for r in resolved)


def test_labels_without_words_are_rejected(everyday: DescriptionResolver) -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        everyday.resolve(["  ?! "])


# -- template fallback -----------------------------------------------------------------


def test_unknown_labels_get_the_template(everyday: DescriptionResolver) -> None:
    resolved = _one(everyday, "unknown-word xyz")
    assert resolved.source == "template"
    assert resolved.label == resolved.description.label == "unknown-word xyz"
    assert all(text.strip() and "unknown word xyz" in text for text in resolved.description.texts)


def test_template_drives_the_slot_of_the_moving_part() -> None:
    wave = template_description("wave")
    assert "one hand rises above the shoulder" in wave["hands"]
    assert (
        "hang relaxed" not in wave["hands"]
        and "hang relaxed" in template_description("kick")["hands"]
    )

    kick = template_description("kick ball")
    assert "one leg swings forward" in kick["legs"] and kick["legs"].endswith("toward the ball")

    nod = template_description("nod head")
    assert "the head tips down and back up" in nod["head"]

    sit = template_description("sit down")
    assert "both knees bend" in sit["legs"]
    assert "stands upright" in sit["start"] and "seated" in sit["end"]

    hand_wave = template_description("Waving hands")
    assert "the hands rise above the shoulder and swing" in hand_wave["hands"]

    shake = template_description("shake head")
    assert "the head moves quickly back and forth" in shake["head"]


def test_template_objects_and_target_parts() -> None:
    throw = template_description("throw the ball")
    assert "one hand, holding the ball, swings back" in throw["hands"]
    brush = template_description("brush teeth")
    assert "one hand moves back and forth at the teeth" in brush["hands"]
    assert "the teeth stay still" in brush["head"]


def test_template_is_deterministic_and_never_empty() -> None:
    labels = ["wave", "kick ball", "nod head", "sit down", "unknown-word xyz", "flex arm", "x"]
    for label in labels:
        first, second = template_description(label), template_description(label)
        assert first == second
        assert len(first.texts) == len(SLOTS) and all(t.strip() for t in first.texts)
    texts = [set(template_description(label).texts) for label in labels]
    assert all(not (a & b) for i, a in enumerate(texts) for b in texts[i + 1 :])
    with pytest.raises(ValueError, match="no words"):
        template_description("--")
