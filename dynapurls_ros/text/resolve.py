"""Turn the labels a user asks for into eight-slot descriptions, whatever their wording.

A robot's vocabulary is typed by people ("Waving", "eat snack", "sitting down", "sip
coffee from a mug"), while the banks hold one spelling per action plus a few synonyms.
The resolver searches, in this order, and stops at the first source that knows the
label:

1. the user's description files (same YAML format as the banks), which therefore
   override the shipped banks for any label they define;
2. the shipped banks (``config/descriptions/*.yaml``, file name order, or the order
   given);
3. the meaning of the label: the entry of a user file or bank whose names are closest to
   it, when close enough (:mod:`dynapurls_ros.text.meaning`);
4. an optional generator (a local language model, :mod:`dynapurls_ros.text.generate`);
5. slots composed from the nearest entry (:mod:`dynapurls_ros.text.compose`);
6. the deterministic template built from the label's words
   (:mod:`dynapurls_ros.text.template`), so resolution never fails.

Inside the files a match is graded, best first: the label itself, a synonym, a
structural variant of either (a slash alternative, the text without its bracketed
part), then an inflected form (plural / ``-ing``) of any of those. Files are compared
grade by grade, so an exact label in a later bank beats a synonym in an earlier one.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.compose import (
    CANDIDATES,
    COMPOSED,
    Donor,
    choose_donor,
    composed_description,
)
from dynapurls_ros.text.descriptions import ActionDescription, BankError, load_bank
from dynapurls_ros.text.meaning import Match, NameMatcher
from dynapurls_ros.text.template import (
    TEMPLATE_SOURCE,
    label_words,
    template_description,
    word_forms,
)

if TYPE_CHECKING:  # the encoder module imports torch; resolving by spelling needs none
    from dynapurls_ros.text.encoder import TextEncoder

logger = logging.getLogger(__name__)

# Match grades, best first.
EXACT, SYNONYM, VARIANT, INFLECTED = 0, 1, 2, 3
_GRADE_NAMES = ("label", "synonym", "variant", "inflected form")
# Inflected keys of one name are the product of its words' forms; a cap keeps a long
# name with many "-s" words from exploding (real labels stay far below it).
_MAX_INFLECTIONS = 64


@dataclass(frozen=True)
class Resolved:
    """A requested label, its description (carrying the requested label text) and
    where the description came from: ``user:<file>``, ``bank:<file>``,
    ``meaning:<file>:<entry>``, ``generated:<model>``, ``composed:<file>:<entry>`` or
    ``template``. ``entry`` is the label of the file entry used (for ``composed``, the
    nearest entry the slots came from) and ``score`` its meaning similarity, so a caller
    can judge a match without parsing ``source``."""

    label: str
    description: ActionDescription
    source: str
    entry: str | None = None
    score: float | None = None


class DescriptionUnavailable(RuntimeError):
    """A generator could not produce a description; the resolver falls back to the
    template and logs the reason."""


class Describer(Protocol):
    """What the resolver needs from a generator (see ``generate.LLMDescriber``)."""

    @property
    def source(self) -> str:
        """``generated:<model>``."""
        ...

    def generate(self, label: str) -> ActionDescription:
        """Eight slots for ``label``; raises :class:`DescriptionUnavailable` on failure."""
        ...


def default_bank_paths() -> list[Path]:
    """The shipped banks, in file name order (which is their search order)."""
    return sorted((config_dir() / "descriptions").glob("*.yaml"))


_BANK_CACHE: dict[Path, tuple[tuple[int, int], dict[str, ActionDescription]]] = {}


def load_bank_cached(path: str | Path) -> dict[str, ActionDescription]:
    """:func:`load_bank`, parsed once per file version (modification time and size):
    YAML parsing costs tenths of a second per bank, resolving must not."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise BankError(f"{path}: cannot read description file: {exc}") from exc
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _BANK_CACHE.get(path)
    if cached is None or cached[0] != version:
        cached = (version, load_bank(path))
        _BANK_CACHE[path] = cached
    return cached[1]


def normalize_name(text: str) -> str:
    """Comparison key: lower case, punctuation and separators folded into single spaces."""
    return " ".join(label_words(text))


def _slash_alternatives(text: str) -> list[str]:
    """Readings of a name with ``/``: whole phrases when every side has several words
    ("make a phone call/answer phone"), else one word swapped in place
    ("eat meal/snack" -> "eat meal", "eat snack")."""
    if "/" not in text:
        return [text]
    sides = text.split("/")
    if all(len(side.split()) > 1 for side in sides):
        return sides
    words = text.split()
    choices = [word.split("/") if "/" in word else [word] for word in words]
    return [" ".join(combo) for combo in itertools.product(*choices)]


def name_variants(name: str) -> list[str]:
    """Normalised structural variants of a bank name, without the name itself: slash
    alternatives, and the name without its bracketed part ("standing up (from sitting
    position)" -> "standing up"). The bracketed text alone is never a variant: it is
    often a comment ("hush (quite)")."""
    bare = re.sub(r"\([^)]*\)", " ", name)
    keys: list[str] = []
    for text in dict.fromkeys((name, bare)):
        for alternative in _slash_alternatives(text):
            key = normalize_name(alternative)
            if key and key not in keys:
                keys.append(key)
    own = normalize_name(name)
    return [key for key in keys if key != own]


def inflections(key: str) -> list[str]:
    """``key`` and the keys made of its words' candidate base forms (``waving hands`` ->
    ``wave hand``, ...), at most ``_MAX_INFLECTIONS``."""
    product = itertools.product(*(word_forms(word) for word in key.split()))
    return [" ".join(words) for words in itertools.islice(product, _MAX_INFLECTIONS)]


def entry_names(description: ActionDescription) -> dict[str, int]:
    """Every normalised name an entry answers to, with its grade: the label, the
    synonyms and the structural variants of both (the first grade wins)."""
    names = [(EXACT, description.label)]
    names += [(SYNONYM, synonym) for synonym in description.synonyms]
    keys: dict[str, int] = {}
    for grade, name in names:
        keys.setdefault(normalize_name(name), grade)
        for variant in name_variants(name):
            keys.setdefault(variant, VARIANT)
    return keys


@dataclass(frozen=True)
class _Entry:
    """One action of one file, with the names it answers to."""

    description: ActionDescription
    file: str  # file name, e.g. "ntu120.yaml"
    names: dict[str, int]


@dataclass(frozen=True)
class Closest:
    """The entry nearest in meaning to a label, before any threshold
    (:class:`~dynapurls_ros.text.meaning.Match` says how near, and whether it is taken)."""

    label: str
    entry: _Entry
    match: Match

    def resolved(self) -> Resolved:
        description = self.entry.description
        return Resolved(
            self.label,
            replace(description, label=self.label),
            f"meaning:{self.entry.file}:{description.label}",
            entry=description.label,
            score=self.match.score,
        )


class _Candidate(NamedTuple):
    rank: tuple[int, int, int]  # (user files first, grade, file position)
    position: int  # order inside the file, for a stable choice among equals
    entry: int  # index into the resolver's entries
    description: ActionDescription
    source: str


def _best(candidates: Sequence[_Candidate], label: str) -> _Candidate:
    """Lowest-ranked candidate; warns when one file offers several actions at that
    rank (a true ambiguity) and notes when other files were shadowed by search order."""
    top = min(candidate.rank for candidate in candidates)
    tied = sorted((c for c in candidates if c.rank == top), key=lambda c: c.position)
    chosen = tied[0]
    others = sorted({c.description.label for c in tied} - {chosen.description.label})
    if others:
        logger.warning(
            "label %r is ambiguous in %s: it matches %r as a %s, and also %s; using %r",
            label,
            chosen.source,
            chosen.description.label,
            _GRADE_NAMES[top[1]],
            ", ".join(repr(other) for other in others),
            chosen.description.label,
        )
    shadowed = sorted(
        {
            c.source
            for c in candidates
            if c.rank[:2] == top[:2]
            and c.rank != top
            and c.description.texts != chosen.description.texts
        }
    )
    if shadowed:
        logger.info(
            "label %r: using %s; also described in %s (later in the search order)",
            label,
            chosen.source,
            ", ".join(shadowed),
        )
    return chosen


def _action_groups(names: Sequence[Iterable[str]]) -> list[int]:
    """Group id per entry: entries that share a name are one action (union-find)."""
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, entry_names in enumerate(names):
        for name in entry_names:
            j = owner.setdefault(name, i)
            parent[root(i)] = root(j)
    return [root(i) for i in range(len(names))]


def _default_meaning_encoder() -> TextEncoder:
    # Imported here: the encoder module pulls in torch, which spelling look-ups (and the
    # node's parameter checks, which use this module) never need.
    from dynapurls_ros.paths import cache_dir
    from dynapurls_ros.text.encoder import DEFAULT_SPEC, make_text_encoder

    return make_text_encoder(DEFAULT_SPEC, cache_dir=cache_dir() / "text")


class DescriptionResolver:
    """Maps labels to descriptions from user files, banks, meaning, a generator,
    composition and the template.

    ``bank_paths`` default to every shipped bank; pass a dataset's bank first (or alone)
    to prefer its wording for that dataset's class names. ``user_files`` are searched
    before all banks, the first given first. ``exclude`` hides actions from every path,
    so that a benchmark can score labels the bank never had: each name given, every
    entry (in any file) that answers to it by spelling, and in turn every entry that
    answers to one of those entries' names, until nothing new is found. ``meaning`` and
    ``compose`` switch resolution by meaning and the composed fallback (both on by
    default); ``encoder`` is their text model (default: the shipped MiniLM, loaded on
    the first label that needs it).

    Files are parsed once per process (and again only when they change); the name index
    is built here, so a label that matches by spelling costs dictionary look-ups only.
    """

    def __init__(
        self,
        bank_paths: Iterable[str | Path] | None = None,
        user_files: Iterable[str | Path] = (),
        generator: Describer | None = None,
        *,
        exclude: Iterable[str] = (),
        meaning: bool = True,
        compose: bool = True,
        encoder: TextEncoder | None = None,
    ) -> None:
        banks = default_bank_paths() if bank_paths is None else [Path(p) for p in bank_paths]
        files = [("user", Path(p)) for p in user_files] + [("bank", p) for p in banks]
        self.generator = generator
        self.meaning = meaning
        self.compose = compose
        self._entries: list[_Entry] = []
        self._exact: dict[str, list[_Candidate]] = {}
        self._inflected: dict[str, list[_Candidate]] = {}
        for file_index, (kind, path) in enumerate(files):
            self._add_file(kind, file_index, path.name, load_bank_cached(path))
        hidden = self._hidden(exclude)
        if hidden:
            for index in (self._exact, self._inflected):
                for key in list(index):
                    index[key] = [c for c in index[key] if c.entry not in hidden]
                    if not index[key]:
                        del index[key]
        self.excluded = tuple(sorted({self._entries[i].description.label for i in hidden}))
        self._visible = [i for i in range(len(self._entries)) if i not in hidden]
        names = [list(self._entries[i].names) for i in self._visible]
        self._matcher = NameMatcher(
            names, _action_groups(names), (lambda: encoder) if encoder else _default_meaning_encoder
        )

    def _add_file(
        self, kind: str, file_index: int, file: str, bank: dict[str, ActionDescription]
    ) -> None:
        group = 0 if kind == "user" else 1
        source = f"{kind}:{file}"
        for position, description in enumerate(bank.values()):
            entry = len(self._entries)
            keys = entry_names(description)
            self._entries.append(_Entry(description, file, keys))
            fuzzy = _Candidate((group, INFLECTED, file_index), position, entry, description, source)
            for key, grade in keys.items():
                exact = _Candidate((group, grade, file_index), position, entry, description, source)
                self._exact.setdefault(key, []).append(exact)
                for form in inflections(key):
                    bucket = self._inflected.setdefault(form, [])
                    if fuzzy not in bucket:
                        bucket.append(fuzzy)

    def _candidates(self, key: str) -> list[_Candidate]:
        # Inflected matches are gathered even when an exact one exists: a user file's
        # inflected match still outranks a bank's exact one.
        return self._exact.get(key, []) + [
            c for form in inflections(key) for c in self._inflected.get(form, ())
        ]

    def _hidden(self, exclude: Iterable[str]) -> set[int]:
        """Entries hidden by ``exclude`` (see the class docstring); a name that no entry
        answers to is an error, since the benchmark relying on it would hide nothing."""
        hidden: set[int] = set()
        for name in exclude:
            key = normalize_name(name)
            first = {c.entry for c in self._candidates(key)}
            if not first:
                raise ValueError(f"exclude: no description file has an action named {name!r}")
            pending = sorted(first - hidden)
            hidden |= first
            while pending:
                for other in self._entries[pending.pop()].names:
                    new = {c.entry for c in self._candidates(other)} - hidden
                    hidden |= new
                    pending.extend(sorted(new))
        return hidden

    def match(self, label: str) -> Resolved | None:
        """The user-file or bank description that ``label`` spells, or ``None``."""
        key = normalize_name(label)
        if not key:
            raise ValueError(f"cannot resolve label {label!r}: it has no letters or digits")
        candidates = self._candidates(key)
        if not candidates:
            return None
        chosen = _best(candidates, label)
        return Resolved(
            label,
            replace(chosen.description, label=label),
            chosen.source,
            entry=chosen.description.label,
        )

    def resolve(self, labels: Iterable[str]) -> list[Resolved]:
        """One :class:`Resolved` per label, in order; never fails for a label with words.

        Labels that no file spells are compared with the entries' names in one batch.
        """
        labels = list(labels)
        results: list[Resolved | None] = [self.match(label) for label in labels]
        pending = [i for i, found in enumerate(results) if found is None]
        scores = np.zeros((len(labels), 0), dtype=np.float32)
        if pending and (self.meaning or self.compose):
            scores = self._matcher.scores([normalize_name(labels[i]) for i in pending])
        for row, i in enumerate(pending):
            results[i] = self._unmatched(labels[i], scores[row])
        return [result for result in results if result is not None]

    def closest(self, labels: Sequence[str]) -> list[Closest | None]:
        """The best entry by meaning of each label, whatever its score and whether or
        not the label also matches by spelling (``None`` when no entry is visible): what
        resolution by meaning decides on, for choosing its threshold and for diagnosis."""
        scores = self._matcher.scores([normalize_name(label) for label in labels])
        return [self._closest(label, row) for label, row in zip(labels, scores, strict=True)]

    def _closest(self, label: str, scores: np.ndarray) -> Closest | None:
        match = self._matcher.best(normalize_name(label), scores)
        if match is None:
            return None
        return Closest(label, self._entries[self._visible[match.entry]], match)

    def _unmatched(self, label: str, scores: np.ndarray) -> Resolved:
        closest = self._closest(label, scores) if self.meaning else None
        if closest is not None and closest.match.accepted:
            return closest.resolved()
        if self.generator is not None:
            try:
                generated = self.generator.generate(label)
            except DescriptionUnavailable as exc:
                logger.warning("label %r: generator failed (%s); falling back", label, exc)
            else:
                return Resolved(label, replace(generated, label=label), self.generator.source)
        donor = self._donor(label, scores) if self.compose else None
        if donor is not None:
            entry = donor.description.label
            return Resolved(
                label,
                composed_description(label, donor),
                f"{COMPOSED}:{donor.file}:{entry}",
                entry=entry,
                score=donor.score,
            )
        return Resolved(label, template_description(label), TEMPLATE_SOURCE)

    def donors(self, labels: Sequence[str], count: int = CANDIDATES) -> list[list[Donor]]:
        """Per label, the ``count`` entries nearest in meaning (one per action, none whose
        names reverse the label), best first: what the composed fallback chooses from."""
        scores = self._matcher.scores([normalize_name(label) for label in labels])
        return [self._nearest(label, row, count) for label, row in zip(labels, scores, strict=True)]

    def _nearest(self, label: str, scores: np.ndarray, count: int) -> list[Donor]:
        nearest = self._matcher.nearest(normalize_name(label), scores, count)
        entries = [(self._entries[self._visible[i]], score) for i, score in nearest]
        return [Donor(entry.description, entry.file, score) for entry, score in entries]

    def _donor(self, label: str, scores: np.ndarray) -> Donor | None:
        return choose_donor(label, self._nearest(label, scores, CANDIDATES))
