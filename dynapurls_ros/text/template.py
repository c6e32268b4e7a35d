"""Deterministic eight-slot descriptions built from the words of a label alone.

This is the last resort of :mod:`dynapurls_ros.text.resolve`: no bank, user file or
language model knows the label. The text encoder still needs something per slot, and a
slot that names the moving body part (``"kick"`` -> legs, ``"nod"`` -> head) lets the
part queries attend to the right joints, which a label repeated eight times cannot. The
label's words are looked up in three small hand-written lexicons (motion verbs, body
parts, hand-held objects); every sentence follows one pattern, so template text is
recognisable and never empty.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass

from dynapurls_ros.text.descriptions import PART_SLOTS, SLOTS, ActionDescription

TEMPLATE_SOURCE = "template"

_MIN_STEM = 3


def label_words(text: str) -> list[str]:
    """Lower-case words of a label; every character that is not a letter or digit
    (hyphen, slash, apostrophe, underscore, brackets) separates words."""
    return re.sub(r"[^0-9a-z]+", " ", text.casefold()).split()


def word_forms(word: str) -> list[str]:
    """``word`` followed by its candidate base forms (plural ``-s``/``-es``/``-ies`` and
    gerund ``-ing``, with a doubled final consonant undone: ``"sitting"`` -> ``"sit"``).

    Candidates are only guesses for a dictionary lookup: a form counts only where a
    lexicon or bank knows it. No rule removes more than the suffix (and one doubled
    consonant), so ``"bowling"`` proposes ``"bowl"`` but never ``"bow"``; stems shorter
    than three letters are never proposed (``"sing"``, ``"yes"`` stay as they are).
    """
    forms = [word]

    def add(stem: str) -> None:
        if len(stem) >= _MIN_STEM and stem not in forms:
            forms.append(stem)

    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouylsfz":
            add(stem[:-1])
        add(stem)
        add(stem + "e")
    elif word.endswith("ies"):
        add(word[:-3] + "y")
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        if word.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
            add(word[:-2])
        add(word[:-1])
    return forms


@dataclass(frozen=True)
class _Motion:
    """What a motion verb moves and how.

    ``move`` and ``middle`` are verb phrases in the base form, each verb marked with
    ``^`` so it can be conjugated for a singular part ("one hand ^rise" -> "rises");
    ``start``/``end`` are whole clauses that replace the generic phase text. ``to_part``
    verbs take the named body part as the place the hand goes to ("touch head") instead
    of the part that moves ("nod head").
    """

    slot: str
    part: str
    move: str
    middle: str
    start: str = ""
    end: str = ""
    to_part: bool = False


_HAND, _HANDS, _LEG, _LEGS, _KNEES = "one hand", "both hands", "one leg", "both legs", "both knees"
_TRUNK, _HEAD = "the trunk", "the head"

_MOTIONS: dict[str, _Motion] = {
    "wave": _Motion(
        "hands",
        _HAND,
        "^rise above the shoulder and ^swing side to side",
        "^rock left and right a few times around the bent elbow",
    ),
    "clap": _Motion(
        "hands",
        _HANDS,
        "^meet repeatedly in front of the chest",
        "^strike together and ^part again several times",
    ),
    "point": _Motion(
        "hands",
        _HAND,
        "^extend forward at shoulder height with the finger out",
        "^hold the arm straight toward the target",
    ),
    "throw": _Motion(
        "hands",
        _HAND,
        "^swing back behind the shoulder and then fast forward",
        "^whip forward over the shoulder and ^open at release",
    ),
    "catch": _Motion(
        "hands",
        _HANDS,
        "^reach forward and ^close in front of the chest",
        "^meet the incoming object and ^pull it toward the body",
    ),
    "push": _Motion(
        "hands",
        _HANDS,
        "^press forward from the chest until the arms are straight",
        "^drive forward with the elbows extending",
    ),
    "pull": _Motion(
        "hands",
        _HANDS,
        "^grip in front and ^draw back toward the body",
        "^draw back with the elbows bending behind the trunk",
    ),
    "punch": _Motion(
        "hands",
        _HAND,
        "^shoot straight forward from the shoulder in a fist",
        "^extend fast to full reach and ^snap back",
    ),
    "lift": _Motion(
        "hands", _HANDS, "^rise from waist height to above the chest", "^move upward steadily"
    ),
    "raise": _Motion(
        "hands", _HAND, "^rise from the side to above the head", "^stay up high for a moment"
    ),
    "reach": _Motion(
        "hands",
        _HAND,
        "^stretch out away from the body",
        "^extend to full length toward the target",
    ),
    "pick": _Motion(
        "hands",
        _HAND,
        "^reach down toward the floor and ^close",
        "^grasp near the floor while the trunk is bent",
        start="the trunk begins to bend forward over the feet",
        end="the trunk straightens with the hand lifted to waist height",
    ),
    "put": _Motion(
        "hands", _HAND, "^lower an object down and ^open", "^set the object down and ^let go"
    ),
    "grab": _Motion(
        "hands", _HAND, "^shoot out and ^close quickly", "^close firmly around the target"
    ),
    "drink": _Motion(
        "hands",
        _HAND,
        "^bring a cup up to the mouth",
        "^hold the cup at the mouth while the head tips back",
    ),
    "eat": _Motion(
        "hands",
        _HAND,
        "^carry food from waist height to the mouth",
        "^travel between the waist and the mouth several times",
    ),
    "type": _Motion(
        "hands",
        _HANDS,
        "^hover at waist height with the fingers tapping",
        "^make small quick finger movements without travelling",
    ),
    "write": _Motion(
        "hands", _HAND, "^make small strokes at waist height", "^trace short lines on a surface"
    ),
    "salute": _Motion(
        "hands",
        _HAND,
        "^rise so the fingertips meet the brow",
        "^stay at the brow with the elbow out to the side",
    ),
    "touch": _Motion(
        "hands",
        _HAND,
        "^reach to the {target} and ^rest on it",
        "^stay in contact with the {target}",
        to_part=True,
    ),
    "hold": _Motion(
        "hands",
        _HAND,
        "^rise to the {target} and ^press against it",
        "^keep pressing against the {target}",
        to_part=True,
    ),
    "scratch": _Motion(
        "hands",
        _HAND,
        "^reach to the {target} and ^rub it with the fingers",
        "^make small back-and-forth strokes on the {target}",
        to_part=True,
    ),
    "rub": _Motion(
        "hands",
        _HAND,
        "^reach to the {target} and ^rub it in small circles",
        "^circle on the {target} several times",
        to_part=True,
    ),
    "wipe": _Motion(
        "hands",
        _HAND,
        "^sweep across the {target} in broad strokes",
        "^sweep back and forth over the {target}",
        to_part=True,
    ),
    "brush": _Motion(
        "hands",
        _HAND,
        "^move back and forth at the {target}",
        "^repeat short strokes at the {target}",
        to_part=True,
    ),
    "shake": _Motion(
        "hands", _HAND, "^move quickly back and forth", "^repeat the quick back-and-forth movement"
    ),
    "kick": _Motion(
        "legs",
        _LEG,
        "^swing forward fast from the hip with the knee extending",
        "^snap out to full extension in front of the body",
        start="weight shifts onto the standing leg and the kicking leg draws back",
        end="the kicking foot returns to the floor beside the other",
    ),
    "walk": _Motion(
        "legs",
        _LEGS,
        "^step forward in turn at a steady pace",
        "^alternate steps while the arms swing opposite to the legs",
    ),
    "run": _Motion(
        "legs",
        _LEGS,
        "^stride fast with the knees lifting high",
        "^alternate quick strides with both feet briefly off the floor",
    ),
    "jump": _Motion(
        "legs",
        _LEGS,
        "^bend and then ^push off the floor together",
        "^leave the floor with the knees tucked",
        end="both feet land together and the knees bend to absorb it",
    ),
    "hop": _Motion(
        "legs",
        _LEG,
        "^push off and ^land again while the other foot stays up",
        "^bounce on one foot a few times",
    ),
    "step": _Motion(
        "legs",
        _LEG,
        "^lift and ^place the foot a pace away",
        "^carry the body weight over to the moved foot",
    ),
    "sit": _Motion(
        "legs",
        _KNEES,
        "^bend as the hips lower onto a seat",
        "^fold while the hips move back and down",
        start="the person stands upright with the weight on both feet",
        end="the person rests seated with the thighs level",
    ),
    "stand": _Motion(
        "legs",
        _KNEES,
        "^straighten as the hips rise from the seat",
        "^extend while the trunk moves up over the feet",
        start="the person sits with the knees bent and the feet on the floor",
        end="the person stands upright with the legs straight",
    ),
    "squat": _Motion(
        "legs",
        _KNEES,
        "^bend deeply so the hips drop toward the heels",
        "^stay folded with the hips low",
    ),
    "crouch": _Motion(
        "legs",
        _KNEES,
        "^bend deeply so the body drops low",
        "^stay folded with the trunk over the thighs",
    ),
    "kneel": _Motion(
        "legs",
        _KNEES,
        "^bend until one knee rests on the floor",
        "^stay low with the trunk upright",
    ),
    "fall": _Motion(
        "legs",
        _LEGS,
        "^buckle as the body drops toward the floor",
        "^give way while the trunk tips over",
        end="the body lies on the floor",
    ),
    "bow": _Motion(
        "torso",
        _TRUNK,
        "^bend forward from the hips and ^straighten again",
        "^pause while bent forward",
    ),
    "bend": _Motion("torso", _TRUNK, "^fold forward from the hips", "^stay folded over the legs"),
    "turn": _Motion(
        "torso", _TRUNK, "^rotate to face a new direction", "^twist around the vertical axis"
    ),
    "lean": _Motion("torso", _TRUNK, "^tilt away from upright", "^stay tilted to one side"),
    "stretch": _Motion(
        "torso",
        _TRUNK,
        "^extend tall with the arms reaching up",
        "^hold the stretch with the arms overhead",
    ),
    "twist": _Motion(
        "torso",
        _TRUNK,
        "^rotate left and right around the spine",
        "^turn side to side with the hips still",
    ),
    "nod": _Motion("head", _HEAD, "^tip down and back up", "^bob down and up a few times"),
    "look": _Motion(
        "head",
        _HEAD,
        "^turn to face the direction of interest",
        "^hold the gaze in the new direction",
    ),
}

# Body-part word -> (slot, grammatically plural).
_PARTS: dict[str, tuple[str, bool]] = {
    **{w: ("head", False) for w in ("head", "neck", "face", "mouth", "nose", "chin", "forehead")},
    **{w: ("head", True) for w in ("eyes", "ears", "teeth", "lips")},
    **{w: ("hands", False) for w in ("hand", "arm", "finger", "fist", "palm", "thumb", "wrist")},
    **{w: ("hands", True) for w in ("hands", "arms", "fingers", "fists", "palms", "wrists")},
    **{w: ("torso", False) for w in ("back", "chest", "waist", "trunk", "torso", "stomach")},
    **{w: ("torso", False) for w in ("belly", "body", "shoulder", "hip")},
    **{w: ("torso", True) for w in ("shoulders", "hips")},
    **{w: ("legs", False) for w in ("leg", "foot", "knee", "toe", "ankle", "heel")},
    **{w: ("legs", True) for w in ("legs", "feet", "knees", "toes", "ankles", "heels")},
}

_OBJECTS = frozenset(
    ("ball", "bag", "bottle", "book", "box", "broom", "cap", "card", "coin", "cup", "fan")
    + ("glass", "glasses", "hat", "jacket", "key", "keyboard", "knife", "laptop", "letter")
    + ("money", "paper", "pen", "pencil", "phone", "plate", "racket", "remote", "rope")
    + ("scissors", "shoe", "shoes", "spoon", "stick", "tablet", "towel", "tray", "umbrella")
)

# Resting posture of each part slot that the action does not drive: (subject, ^phrase).
_REST: dict[str, tuple[str, str]] = {
    "head": (_HEAD, "^stay steady and ^face forward"),
    "hands": ("both arms", "^hang relaxed at the sides"),
    "torso": (_TRUNK, "^stay upright and mostly still"),
    "legs": (_LEGS, "^stand still with the weight on both feet"),
}
_START = "^begin to move from a relaxed upright stance"
_END = "^come back to rest in the relaxed upright stance"
_VERB = re.compile(r"\^(\w+)")


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "i", "o", "u"):
        return verb[:-1] + "ies"
    return verb + "s"


def _clause(subject: str, phrase: str) -> str:
    """``subject`` followed by ``phrase`` with its ``^``-marked verbs agreeing with it;
    subjects starting with "both" or a plural part word take the base form."""
    last = subject.split()[-1]
    plural = subject.startswith("both ") or _PARTS.get(last, ("", False))[1]
    return f"{subject} " + _VERB.sub(
        lambda m: m.group(1) if plural else _third_person(m.group(1)), phrase
    )


def _find(words: list[str], lexicon: Container[str]) -> str | None:
    """First word of the label (in any of its forms) that the lexicon knows, as the
    lexicon spells it."""
    for word in words:
        for form in word_forms(word):
            if form in lexicon:
                return form
    return None


def motion_verb(label: str) -> str | None:
    """The motion verb of the template's lexicon that ``label`` uses (as the lexicon
    spells it), or ``None`` when the template knows none of its words as a motion."""
    return _find(label_words(label), _MOTIONS)


def template_description(label: str) -> ActionDescription:
    """Eight slot texts for ``label`` built from its verb, body part and object words.

    The moving part's slot (the body-part word's slot, else the verb's usual one) gets
    the motion and the other part slots a resting posture; phases and global restate
    the motion. Every text names the action, so two template labels never share a slot
    text, and the description keeps ``label`` unchanged.
    """
    words = label_words(label)
    if not words:
        raise ValueError(f"template_description: label {label!r} has no words")
    name = " ".join(words)
    verb = _find(words, _MOTIONS)
    motion = _MOTIONS[verb] if verb is not None else None
    part = _find(words, _PARTS)
    obj = _find(words, _OBJECTS)

    target = part if motion is not None and motion.to_part else None
    if part is not None and target is None:
        slot, subject = _PARTS[part][0], f"the {part}"
    elif motion is not None:
        slot, subject = motion.slot, motion.part
    else:
        slot, subject = "", "the whole body"

    if motion is not None:
        move = motion.move.format(target=target or "body")
        middle = motion.middle.format(target=target or "body")
    else:
        move, middle = f"^carry out the {name} movement", "^keep moving steadily"
    if obj is not None and slot == "hands":
        action = _clause(f"{subject}, holding the {obj},", move)
    else:
        action = _clause(subject, move) + (f" toward the {obj}" if obj is not None else "")

    clauses: dict[str, str] = {}
    for part_slot in PART_SLOTS:
        if part_slot == slot:
            clause = action
        elif target is not None and _PARTS[target][0] == part_slot:
            clause = _clause(f"the {target}", "^stay still under the working hand")
        else:
            clause = _clause(*_REST[part_slot])
        clauses[part_slot] = clause
    clauses["start"] = (
        motion.start if motion is not None and motion.start else _clause(subject, _START)
    )
    clauses["middle"] = _clause(subject, middle)
    clauses["end"] = motion.end if motion is not None and motion.end else _clause(subject, _END)
    clauses["global"] = action
    return ActionDescription(label=label, texts=framed_slots(name, [clauses[s] for s in SLOTS]))


def framed_slots(name: str, clauses: Sequence[str]) -> tuple[str, ...]:
    """Eight slot texts (``SLOTS`` order) that each name the action ``name``: "during
    {name}, ..." for the parts, "at the start of {name}, ..." (middle, end) for the
    phases, "a person performs {name}: ..." for the whole. Written descriptions never
    name their action; generated ones do, so that two of them never share a slot text
    and each slot carries the label's own meaning to the text encoder."""
    parts = [f"during {name}, {clause}" for clause in clauses[: len(PART_SLOTS)]]
    start, middle, end, whole = clauses[len(PART_SLOTS) :]
    return (
        *parts,
        f"at the start of {name}, {start}",
        f"in the middle of {name}, {middle}",
        f"at the end of {name}, {end}",
        f"a person performs {name}: {whole}",
    )
