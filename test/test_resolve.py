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

from benchmarks import meaning_threshold
from dynapurls_ros.datasets.ntu import NTU120_CLASS_NAMES
from dynapurls_ros.text.compose import DONOR_FLOOR, Donor, choose_donor
from dynapurls_ros.text.descriptions import SLOTS, BankError
from dynapurls_ros.text.meaning import THRESHOLD, disagree, guard_words, reverses
from dynapurls_ros.text.resolve import (
    DescriptionResolver,
    default_bank_paths,
    inflections,
    load_bank_cached,
    name_variants,
    normalize_name,
)
from dynapurls_ros.text.template import label_words, template_description, word_forms

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
    assert ntu.match("quite") is None
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
    assert everyday.match(query) is None


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
    resolved = _one(everyday, "unknown-word xyz")  # no entry is near enough to compose
    assert resolved.source == "template" and resolved.entry is None
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


# -- resolution by meaning -------------------------------------------------------------


@pytest.fixture(scope="module")
def list_rows() -> list[meaning_threshold.Row]:
    lists = meaning_threshold.load_lists()
    resolver = meaning_threshold.list_resolver(lists, compose=False)
    return meaning_threshold.rows(lists, resolver)


def test_lists_are_large_enough(list_rows) -> None:
    # rows() leaves out list labels that a bank spells (none when they were written).
    assert sum(row.paraphrase for row in list_rows) >= 60
    assert sum(not row.paraphrase for row in list_rows) >= 40
    kinds = {row.kind for row in list_rows}
    assert {"paraphrase", "specific", "general", "absent", "near", "opposite", "side"} <= kinds


def test_meaning_never_maps_a_list_label_to_a_different_action(list_rows) -> None:
    right, wrong = meaning_threshold.counts(list_rows, THRESHOLD, 0.0, guard=True)
    assert wrong == 0
    assert right >= 19  # docs/DESCRIPTIONS.md: 19 of 125 paraphrases at 0.91


def test_the_guard_is_what_allows_the_threshold(list_rows) -> None:
    # Without it "not waving" -> wave (0.90), "close the door" -> open door (0.89) ...
    assert meaning_threshold.counts(list_rows, THRESHOLD, 0.0, guard=False)[1] > 0


@pytest.fixture(scope="module")
def shipped() -> DescriptionResolver:
    return DescriptionResolver()


def _entry(source: str, entry: str):
    """The file entry a ``meaning:`` / ``composed:`` source names."""
    file = source.split(":")[1]
    return load_bank_cached(BANKS / file)[entry]


# Each paraphrase must land on the entry its plain name spells, wherever the banks keep it.
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("shrug your shoulders", "shrug"),
        ("cough into your elbow", "cough"),
        ("sit down on a chair", "sit down"),
        ("take off your coat", "take off a coat"),
    ],
)
def test_paraphrases_resolve_by_meaning(shipped: DescriptionResolver, query, name) -> None:
    spelled = shipped.match(name)
    resolved = _one(shipped, query)
    assert resolved.source == f"meaning:{spelled.source.split(':')[1]}:{spelled.entry}"
    assert resolved.entry == spelled.entry and resolved.score >= THRESHOLD
    assert resolved.label == resolved.description.label == query
    assert resolved.description.texts == spelled.description.texts


@pytest.mark.parametrize(
    "query",
    ["close the door", "get down on the floor", "not waving", "no clapping", "put on your coat"],
)
def test_reversed_actions_are_never_used(shipped: DescriptionResolver, query: str) -> None:
    """Neither matched nor lent as a donor: an entry whose names reverse the label."""
    resolved = _one(shipped, query)
    if resolved.source.startswith(("meaning:", "composed:")):
        entry = _entry(resolved.source, resolved.entry)
        names = [normalize_name(n) for n in (entry.label, *entry.synonyms)]
        assert not disagree(guard_words([normalize_name(query)]), guard_words(names))
    (closest,) = shipped.closest([query])
    if closest.match.guarded:
        assert resolved.entry != closest.entry.description.label


def test_guard_words() -> None:
    def words(names: list[str]) -> frozenset[str]:
        return guard_words([normalize_name(name) for name in names])

    assert disagree(words(["stand up slowly"]), words(["sit down", "take a seat"]))
    assert disagree(words(["wave with the left hand"]), words(["right handed shaking"]))
    assert disagree(words(["hop on both feet"]), words(["hop", "hop on one foot"]))
    assert disagree(words(["hug yourself"]), words(["hug someone"]))
    assert disagree(words(["bend sideways at the waist"]), words(["bow", "bend forward"]))
    assert not disagree(words(["bend sideways"]), words(["side bend", "lateral trunk bend"]))
    assert disagree(words(["not waving"]), words(["wave", "waving"]))
    assert not disagree(words(["shrug"]), words(["shrug", "i do not know"]))
    assert not disagree(words(["wave hello with the right hand"]), words(["wave", "waving"]))
    assert not disagree(words(["look left and right"]), words(["look around", "look left"]))
    assert not disagree(words(["brush one's teeth"]), words(["brush both rows of teeth"]))
    assert "someone" in words(["grab someone's bag"])
    assert disagree(words(["draw a circle clockwise"]), words(["draw circle counter clockwise"]))


def test_a_transition_the_other_way_round_is_refused() -> None:
    assert reverses("sit to stand", ["stand to sit"])
    assert reverses("from left to right", ["right to left", "swipe"])
    assert not reverses("sit to stand", ["sit to stand", "stand up"])
    assert not reverses("walk to the door", ["walk"])
    hidden = DescriptionResolver(exclude=["sit to stand"])
    resolved = _one(hidden, "sit to stand")
    assert resolved.entry != "stand to sit", resolved.source


def test_meaning_can_be_switched_off() -> None:
    spelled_only = DescriptionResolver(meaning=False, compose=False)
    assert _one(spelled_only, "shrug your shoulders").source == "template"


def test_resolving_labels_by_meaning_is_fast(shipped: DescriptionResolver) -> None:
    labels = [f"{verb} {thing}" for verb in ("wave", "kick", "carry") for thing in ("a flag", "it")]
    shipped.resolve(labels[:1])  # the text model and the name vectors are loaded once
    start = time.perf_counter()
    shipped.resolve(labels)
    elapsed = time.perf_counter() - start
    # One MiniLM batch of six short texts: ~0.05 s on a quiet 2-core machine
    # (benchmarks/text_speed.py); the bound leaves room for a loaded one.
    assert elapsed < 2.0, f"resolving {len(labels)} labels by meaning took {elapsed:.2f} s"


# -- composed fallback -----------------------------------------------------------------


def test_composed_descriptions_take_the_nearest_entrys_kinematics(shipped) -> None:
    for label, verb in (("wave a flag", "wave"), ("kick a door", "kick")):
        resolved = _one(shipped, label)
        assert resolved.source == f"composed:{resolved.source.split(':')[1]}:{resolved.entry}"
        assert DONOR_FLOOR <= resolved.score < THRESHOLD
        donor = _entry(resolved.source, resolved.entry)
        first_words = {label_words(name)[0] for name in (donor.label, *donor.synonyms)}
        assert verb in {form for word in first_words for form in word_forms(word)}
        name = normalize_name(label)
        for text, donor_text in zip(resolved.description.texts, donor.texts, strict=True):
            assert donor_text in text and name in text  # the donor's words, framed
        assert resolved.description["legs"].startswith(f"during {name}, ")
        assert resolved.description["global"].startswith(f"a person performs {name}: ")


def test_the_donor_shares_the_labels_verb_when_one_of_the_nearest_does() -> None:
    def donor(name: str, score: float) -> Donor:
        return Donor(template_description(name), "test.yaml", score)

    nearest = [donor("open door", 0.8), donor("kick", 0.7), donor("kicking other person", 0.65)]
    assert choose_donor("kicking a door", nearest).description.label == "kick"
    assert choose_donor("slam a door", nearest).description.label == "open door"
    assert choose_donor("slam a door", [donor("open door", DONOR_FLOOR - 0.01)]) is None


def test_composition_is_deterministic_and_can_be_switched_off(shipped) -> None:
    first = shipped.resolve(["wave a flag", "kick a door"])
    assert DescriptionResolver().resolve(["wave a flag", "kick a door"]) == first
    plain = DescriptionResolver(compose=False)
    assert _one(plain, "wave a flag").source == "template"


def test_labels_far_from_every_entry_get_the_template(shipped: DescriptionResolver) -> None:
    for label in ("unknown-word xyz", "florp the gizmo"):
        assert _one(shipped, label).source == "template"


# -- hidden entries --------------------------------------------------------------------


def test_excluded_actions_are_hidden_from_every_path(shipped) -> None:
    hidden = DescriptionResolver(exclude=["wave"])
    assert shipped.match("wave").entry in hidden.excluded
    for label in ("wave", "waving", "wave hello", "Waves", "say goodbye with a wave"):
        resolved = _one(hidden, label)
        assert resolved.entry not in hidden.excluded, (label, resolved.source)
        assert not resolved.source.startswith(("bank:", "meaning:")), (label, resolved.source)
    assert _one(hidden, "clap").source.startswith("bank:")  # everything else is still there


def test_exclusion_follows_shared_names_to_other_files(tmp_path: Path) -> None:
    # A user entry that lists ntu120's "pickup" as a synonym: hiding it hides that too.
    user = tmp_path / "mine.yaml"
    slots = {slot: f"user grab as the {slot} slot" for slot in SLOTS}
    document = {
        "format": "dynapurls-descriptions/1",
        "actions": {"grab": {"synonyms": ["pickup"], **slots}},
    }
    user.write_text(yaml.safe_dump(document), encoding="utf-8")
    hidden = DescriptionResolver(bank_paths=[NTU120], user_files=[user], exclude=["grab"])
    assert set(hidden.excluded) == {"grab", "pickup"}
    for name in ("grab", "pickup", *load_bank_cached(NTU120)["pickup"].synonyms):
        assert hidden.match(name) is None, name
    assert hidden.match("drop") is not None


def test_excluding_an_unknown_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="no description file has an action named 'juggle'"):
        DescriptionResolver(bank_paths=[EVERYDAY], exclude=["juggle"])
