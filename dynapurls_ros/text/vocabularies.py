"""The published class lists the shipped banks cover (``config/vocabularies/*.yaml``).

Each file (format ``dynapurls-vocabulary/1``) names one source (a dataset, or this
project's everyday actions), cites it, and lists its classes in the published order. A
class is either a plain name, which is the label of its bank entry, or ``{name, entry}``
when the entry that describes it carries another label (another bank may own the same
action); the class name is then also one of that entry's names, so the resolver finds it
by spelling. ``not_covered`` lists the few classes a skeleton cannot show, each with the
reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.descriptions import read_yaml_document

VOCABULARY_FORMAT = "dynapurls-vocabulary/1"
_KEYS = {"format", "name", "citation", "classes", "not_covered"}


class VocabularyError(ValueError):
    """A vocabulary file is malformed; the message names the file and the item."""


@dataclass(frozen=True)
class VocabularyClass:
    """One class of a source: its published name and the label of the entry describing it."""

    name: str
    entry: str


@dataclass(frozen=True)
class Vocabulary:
    """One source's class list; ``key`` is the file name without ``.yaml``."""

    key: str
    name: str
    citation: str
    classes: tuple[VocabularyClass, ...]
    not_covered: tuple[tuple[str, str], ...]  # (class name, why)
    path: Path

    @property
    def size(self) -> int:
        """Number of classes the source publishes (covered or not)."""
        return len(self.classes) + len(self.not_covered)


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise VocabularyError(f"{path}: {where} must be a non-empty string, got {value!r}")
    return value


def load_vocabulary(path: str | Path) -> Vocabulary:
    """Read one vocabulary file; raises :class:`VocabularyError` naming the file and item."""
    path = Path(path)
    _, data = read_yaml_document(
        path, VocabularyError, "vocabulary", "format, name, citation, classes"
    )
    if data.get("format") != VOCABULARY_FORMAT:
        raise VocabularyError(
            f"{path}: format must be {VOCABULARY_FORMAT!r}, got {data.get('format')!r}"
        )
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise VocabularyError(f"{path}: unknown keys {unknown}; allowed: {sorted(_KEYS)}")
    items = data.get("classes")
    if not isinstance(items, list) or not items:
        raise VocabularyError(f"{path}: 'classes' must be a non-empty list")
    classes = []
    for index, item in enumerate(items):
        where = f"class {index + 1}"
        if isinstance(item, Mapping) and set(item) == {"name", "entry"}:
            name = _text(path, f"{where} name", item["name"])
            entry = _text(path, f"{where} entry", item["entry"])
        elif isinstance(item, str):
            name = entry = _text(path, where, item)
        else:
            raise VocabularyError(f"{path}: {where} must be a name or {{name, entry}}: {item!r}")
        classes.append(VocabularyClass(name, entry))
    not_covered = []
    for index, item in enumerate(data.get("not_covered") or []):
        if not (isinstance(item, Mapping) and set(item) == {"name", "why"}):
            raise VocabularyError(f"{path}: not_covered item {index + 1} must be {{name, why}}")
        not_covered.append(
            (_text(path, "not_covered name", item["name"]), _text(path, "why", item["why"]))
        )
    return Vocabulary(
        key=path.stem,
        name=_text(path, "name", data.get("name")),
        citation=_text(path, "citation", data.get("citation")),
        classes=tuple(classes),
        not_covered=tuple(not_covered),
        path=path,
    )


def default_vocabulary_paths() -> list[Path]:
    """The shipped vocabulary files, in file name order."""
    return sorted((config_dir() / "vocabularies").glob("*.yaml"))


def load_vocabularies(paths: list[str | Path] | None = None) -> dict[str, Vocabulary]:
    """Every shipped vocabulary (or those at ``paths``), keyed by file name stem."""
    files = default_vocabulary_paths() if paths is None else [Path(p) for p in paths]
    vocabularies = [load_vocabulary(path) for path in files]
    return {vocabulary.key: vocabulary for vocabulary in vocabularies}
