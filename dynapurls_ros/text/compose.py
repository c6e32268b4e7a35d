"""The fallback for labels no file knows: the kinematics of the nearest bank entry,
framed as the new action.

"kick a door" is not in any bank, but "kick" is, and its slots say what the legs do.
Below the threshold of resolution by meaning the nearest entry is not the same action,
yet it is usually a kinematic relative, which the template's word lexicons can only
approximate. So the slots are the donor's, each framed with the label the way the
template frames its own ("during kick a door, right leg swings back, then drives
forward ..."): a composed description keeps the label's words in every slot (two
composed labels never share a text, and none equals its donor's) and is marked
``composed:<file>:<entry>``, never mistaken for a written entry.

The donor is the nearest of the :data:`CANDIDATES` nearest actions whose names start
with the label's verb ("kick", "kicking something"), else the nearest action, and only
if its score reaches :data:`DONOR_FLOOR`; below that the template is kept. The floor was
chosen by zero-shot accuracy of the default model on GTU-3D and NW-UCLA with those
datasets' own entries hidden (docs/DESCRIPTIONS.md, ``benchmarks/fallback_accuracy.py``);
searching 10 candidates for the verb scores as 3 did there and keeps "kick a door" a
kick among a thousand entries, where entries about doors fill the first few.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dynapurls_ros.text.descriptions import ActionDescription
from dynapurls_ros.text.template import framed_slots, label_words, word_forms

# Source prefix of composed descriptions: ``composed:<file>:<entry>``.
COMPOSED = "composed"
# A donor scoring below this (cosine of the label to its best name) is too far away to
# lend its kinematics; the template is used instead.
DONOR_FLOOR = 0.6
# How many of the nearest actions are searched for one that shares the label's verb
# (with a thousand entries, those about the label's object crowd the first few).
CANDIDATES = 10


@dataclass(frozen=True)
class Donor:
    """A nearby entry and its meaning score (cosine of the label to its best name)."""

    description: ActionDescription
    file: str  # the description file's name
    score: float


def _verb_forms(names: Sequence[str]) -> set[str]:
    """Candidate base forms of each name's first word, where labels put their verb."""
    return {form for name in names for word in label_words(name)[:1] for form in word_forms(word)}


def choose_donor(
    label: str, nearest: Sequence[Donor], floor: float = DONOR_FLOOR, candidates: int = CANDIDATES
) -> Donor | None:
    """The entry to compose ``label`` from, out of ``nearest`` (best first): the first
    of the ``candidates`` nearest that shares the label's verb, else the nearest, and
    ``None`` when no candidate reaches ``floor``. (The defaults are the shipped rule;
    ``benchmarks/fallback_accuracy.py`` compares others.)"""
    close = [donor for donor in nearest[:candidates] if donor.score >= floor]
    verb = _verb_forms([label])
    for donor in close:
        description = donor.description
        if verb & _verb_forms([description.label, *description.synonyms]):
            return donor
    return close[0] if close else None


def composed_description(label: str, donor: Donor) -> ActionDescription:
    """``donor``'s eight slot texts framed as ``label`` (which the result carries)."""
    name = " ".join(label_words(label))
    return ActionDescription(label=label, texts=framed_slots(name, donor.description.texts))
