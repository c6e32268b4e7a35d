"""Resolution by meaning: a label nobody spelled like a bank name, matched to the entry
it means.

Users type "greet someone by waving" or "sip coffee from a mug"; the banks hold "wave"
and "drink". After every spelling path has failed, the label is compared with every
name of every entry (its label, synonyms and their structural variants) by the cosine
of their MiniLM vectors. An entry's score is its best name's; the label resolves to the
best entry when the score clears :data:`THRESHOLD` and the guard finds no word that
reverses the action (:func:`disagree`: up/down, left/right, open/close, negation, ...;
:func:`reverses`: "sit to stand" / "stand to sit").
The threshold was chosen on hand-written paraphrase and non-match lists
(``benchmarks/meaning_lists.yaml``, ``benchmarks/meaning_threshold.py``,
docs/DESCRIPTIONS.md). How far the best entry is ahead of the best entry of a
*different* action (entries that share a name are one action: "sit down" in two banks)
is reported with every match.

The encoder is always the default MiniLM, whatever text model a checkpoint uses: the
threshold is a property of this similarity, and the vectors of the shipped banks' names
come precomputed (:mod:`dynapurls_ros.text.vector_index`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the encoder module imports torch; resolving by spelling needs none
    from dynapurls_ros.text.encoder import TextEncoder

# Chosen by the rule of benchmarks/meaning_threshold.py on benchmarks/meaning_lists.yaml:
# the lowest threshold without a wrong mapping was 0.89 with the guard (0.93 without);
# the rule adds one 0.02 step. A margin over other actions (0.02, 0.04) gained nothing.
THRESHOLD = 0.91

# Words that MiniLM puts close together although they reverse an action ("close the
# door" scores 0.89 against "open door", "get down on the floor" 0.84 against "get up
# from floor"): groups of mutually exclusive alternatives (most are pairs; a direction
# is forward, backward or sideways), and negations.
_EXCLUSIVE: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(alternative.split()) for alternative in group)
    for group in (
        (
            "up upward upwards raise raising raised rise rising",
            "down downward downwards lower lowering",
        ),
        ("forward forwards", "backward backwards", "sideways sidewards lateral laterally"),
        ("left", "right"),
        ("open opening opens", "close closing closes shut shutting"),
        ("into inside", "out"),
        ("on wear wearing donning", "off remove removing undress doffing"),
        ("toward towards approach approaching", "away apart"),
        ("clockwise", "counterclockwise anticlockwise"),
        ("both two", "one single"),
        (
            "yourself oneself myself himself herself self",
            "someone somebody other another partner person people each",
        ),
    )
)
_NEGATIONS = frozenset(["not", "no", "don", "dont", "never"])
# Every word the guard looks at: a label with none of them can never be refused.
_GUARDED = _NEGATIONS.union(*(alternative for group in _EXCLUSIVE for alternative in group))
# Spellings folded before the words are compared: "one's" is no count, "counter
# clockwise" one direction.
_FOLDS = (
    (" one s ", " ones "),
    (" counter clockwise ", " counterclockwise "),
    (" anti clockwise ", " anticlockwise "),
)


def guard_words(names: Sequence[str]) -> frozenset[str]:
    """The words of normalised names, as :func:`disagree` compares them."""
    words: set[str] = set()
    for name in names:
        text = f" {name} "
        for before, after in _FOLDS:
            text = text.replace(before, after)
        words.update(text.split())
    return frozenset(words)


def disagree(label: frozenset[str], entry: frozenset[str]) -> bool:
    """Whether a label and an entry's names reverse each other: the label uses one
    alternative of an exclusive group only and the entry only others ("stand up" / "sit
    down", "left" / "right", "sideways" / "forward", "both" / "one", "yourself" /
    "someone"), or the label is negated and no name of the entry is."""
    if not label & _GUARDED:
        return False
    for group in _EXCLUSIVE:
        used = [alternative for alternative in group if label & alternative]
        if len(used) != 1 or entry & used[0]:
            continue
        if any(entry & alternative for alternative in group if alternative is not used[0]):
            return True
    return bool(label & _NEGATIONS) and not entry & _NEGATIONS


def transition(name: str) -> tuple[str, str] | None:
    """``(from, to)`` of a normalised name that says one state to another ("sit to
    stand", "from left to right"), else ``None``."""
    parts = name.removeprefix("from ").split(" to ")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def transitions(names: Sequence[str]) -> frozenset[tuple[str, str]]:
    """The transitions the (normalised) names say."""
    return frozenset(step for step in map(transition, names) if step is not None)


def _reversed(step: tuple[str, str] | None, steps: frozenset[tuple[str, str]]) -> bool:
    return step is not None and step[::-1] in steps and step not in steps


def reverses(label: str, entry_names: Sequence[str]) -> bool:
    """Whether the entry's names say the label's transition the other way round ("sit to
    stand" / "stand to sit": the same words, so :func:`disagree` cannot see it)."""
    return _reversed(transition(label), transitions(entry_names))


@dataclass(frozen=True)
class Match:
    """The best entry for a label: its index, its score, how far it is ahead of the
    best entry of another action (``inf`` when there is no other action), and whether
    the guard refuses it (:func:`disagree`)."""

    entry: int
    score: float
    margin: float
    guarded: bool

    @property
    def accepted(self) -> bool:
        """Whether resolution by meaning takes this entry."""
        return self.score >= THRESHOLD and not self.guarded


class NameMatcher:
    """Cosine scores of label texts against every entry's names.

    ``names[i]`` are the (normalised) names of entry ``i`` and ``groups[i]`` its action
    (entries with equal groups are the same action). The names are encoded on the first
    query, not at construction, so a resolver whose labels all match by spelling never
    loads the text model.
    """

    def __init__(
        self,
        names: Sequence[Sequence[str]],
        groups: Sequence[int],
        encoder: Callable[[], TextEncoder],
    ) -> None:
        if len(names) != len(groups):
            raise ValueError(f"NameMatcher: {len(names)} entries but {len(groups)} groups")
        self._texts = [text for entry_names in names for text in entry_names]
        counts = [len(entry_names) for entry_names in names]
        if any(count == 0 for count in counts):
            raise ValueError("NameMatcher: every entry needs at least one name")
        self._starts = np.cumsum([0, *counts[:-1]])
        self._words = [guard_words(entry_names) for entry_names in names]
        self._steps = [transitions(entry_names) for entry_names in names]
        self.groups = np.asarray(groups)
        self._encoder = encoder
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.groups)

    def _name_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._encoder().encode(self._texts).numpy()
            return self._vectors

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), entries)`` float32: each entry's best name cosine."""
        if not len(self) or not texts:
            return np.zeros((len(texts), len(self)), dtype=np.float32)
        names = self._name_vectors()
        queries = self._encoder().encode(list(texts)).numpy()
        return np.maximum.reduceat(queries @ names.T, self._starts, axis=1)

    def best(self, text: str, scores: np.ndarray) -> Match | None:
        """The best entry for ``text`` from its row of :meth:`scores` (``None`` without
        entries)."""
        if not len(scores):
            return None
        entry = int(np.argmax(scores))
        others = scores[self.groups != self.groups[entry]]
        runner_up = float(others.max()) if len(others) else -np.inf
        score = float(scores[entry])
        refused = self._refused(guard_words([text]), transition(text), entry)
        return Match(entry, score, score - runner_up, refused)

    def _refused(self, words: frozenset[str], step: tuple[str, str] | None, entry: int) -> bool:
        """Whether entry ``entry``'s names reverse a label with these guard words and
        transition."""
        return disagree(words, self._words[entry]) or _reversed(step, self._steps[entry])

    def nearest(self, text: str, scores: np.ndarray, count: int) -> list[tuple[int, float]]:
        """Up to ``count`` (entry, score) pairs, best first, one per action, leaving out
        entries whose names reverse ``text``: the donors of a composed description."""
        words, step = guard_words([text]), transition(text)
        chosen: list[tuple[int, float]] = []
        groups: set[int] = set()
        for entry in np.argsort(-scores, kind="stable"):
            group = int(self.groups[entry])
            if group in groups or self._refused(words, step, int(entry)):
                continue
            chosen.append((int(entry), float(scores[entry])))
            groups.add(group)
            if len(chosen) == count:
                break
        return chosen
