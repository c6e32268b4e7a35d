"""Turn the labels a user asks for into eight-slot descriptions, whatever their wording.

A robot's vocabulary is typed by people ("Waving", "eat snack", "sitting down"), while
the banks hold one spelling per action plus a few synonyms. The resolver searches, in
this order, and stops at the first source that knows the label:

1. the user's description files (same YAML format as the banks), which therefore
   override the shipped banks for any label they define;
2. the shipped banks (``config/descriptions/*.yaml``, file name order, or the order
   given);
3. an optional generator (a local language model, :mod:`dynapurls_ros.text.generate`);
4. the deterministic template built from the label's words
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
from typing import NamedTuple, Protocol

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.descriptions import ActionDescription, BankError, load_bank
from dynapurls_ros.text.template import (
    TEMPLATE_SOURCE,
    label_words,
    template_description,
    word_forms,
)

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
    where the description came from: ``bank:<file>``, ``user:<file>``,
    ``generated:<model>`` or ``template``."""

    label: str
    description: ActionDescription
    source: str


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


class _Candidate(NamedTuple):
    rank: tuple[int, int, int]  # (user files first, grade, file position)
    position: int  # order inside the file, for a stable choice among equals
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


class DescriptionResolver:
    """Maps labels to descriptions from user files, banks, a generator and the template.

    ``bank_paths`` default to every shipped bank; pass a dataset's bank first (or alone)
    to prefer its wording for that dataset's class names. ``user_files`` are searched
    before all banks, the first given first. Files are parsed once per process (and again
    only when they change); the name index is built here, so :meth:`resolve` is only
    dictionary look-ups.
    """

    def __init__(
        self,
        bank_paths: Iterable[str | Path] | None = None,
        user_files: Iterable[str | Path] = (),
        generator: Describer | None = None,
    ) -> None:
        banks = default_bank_paths() if bank_paths is None else [Path(p) for p in bank_paths]
        files = [("user", Path(p)) for p in user_files] + [("bank", p) for p in banks]
        self.generator = generator
        self._exact: dict[str, list[_Candidate]] = {}
        self._inflected: dict[str, list[_Candidate]] = {}
        for file_index, (kind, path) in enumerate(files):
            group = 0 if kind == "user" else 1
            self._add_file(group, file_index, f"{kind}:{path.name}", load_bank_cached(path))

    def _add_file(
        self, group: int, file_index: int, source: str, bank: dict[str, ActionDescription]
    ) -> None:
        for position, description in enumerate(bank.values()):
            names = [(EXACT, description.label)]
            names += [(SYNONYM, synonym) for synonym in description.synonyms]
            keys: dict[str, int] = {}
            for grade, name in names:
                keys.setdefault(normalize_name(name), grade)
                for variant in name_variants(name):
                    keys.setdefault(variant, VARIANT)
            fuzzy = _Candidate((group, INFLECTED, file_index), position, description, source)
            for key, grade in keys.items():
                exact = _Candidate((group, grade, file_index), position, description, source)
                self._exact.setdefault(key, []).append(exact)
                for form in inflections(key):
                    bucket = self._inflected.setdefault(form, [])
                    if fuzzy not in bucket:
                        bucket.append(fuzzy)

    def match(self, label: str) -> Resolved | None:
        """The user-file or bank description for ``label``, or ``None``."""
        key = normalize_name(label)
        if not key:
            raise ValueError(f"cannot resolve label {label!r}: it has no letters or digits")
        # Inflected matches are gathered even when an exact one exists: a user file's
        # inflected match still outranks a bank's exact one.
        candidates = self._exact.get(key, []) + [
            c for form in inflections(key) for c in self._inflected.get(form, ())
        ]
        if not candidates:
            return None
        chosen = _best(candidates, label)
        return Resolved(label, replace(chosen.description, label=label), chosen.source)

    def resolve(self, labels: Iterable[str]) -> list[Resolved]:
        """One :class:`Resolved` per label, in order; never fails for a label with words."""
        return [self._resolve_one(label) for label in labels]

    def _resolve_one(self, label: str) -> Resolved:
        found = self.match(label)
        if found is not None:
            return found
        if self.generator is not None:
            try:
                generated = self.generator.generate(label)
            except DescriptionUnavailable as exc:
                logger.warning("label %r: generator failed (%s); using the template", label, exc)
            else:
                return Resolved(label, replace(generated, label=label), self.generator.source)
        return Resolved(label, template_description(label), TEMPLATE_SOURCE)
