"""Eight-slot action descriptions and the YAML banks that hold them.

DynaPURLS describes every action by body part (head, hands, torso, legs), by phase
(start, middle, end) and as a whole (global). The slot order is fixed everywhere
(text embeddings, similarity tensors, losses), so it is defined once here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SLOTS: tuple[str, ...] = ("head", "hands", "torso", "legs", "start", "middle", "end", "global")
PART_SLOTS: tuple[str, ...] = SLOTS[:4]
PHASE_SLOTS: tuple[str, ...] = SLOTS[4:7]
GLOBAL_SLOT = "global"
BANK_FORMAT = "dynapurls-descriptions/1"

_SLOT_INDEX = {slot: i for i, slot in enumerate(SLOTS)}
_ALLOWED_KEYS = frozenset(SLOTS) | {"synonyms", "id"}
# The C implementation of the *safe* loader when libyaml is present (~10x faster).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml_document(
    path: Path, error: type[ValueError], what: str, keys: str
) -> tuple[str, Mapping[str, Any]]:
    """The text of a YAML file and its top-level mapping (``yaml.safe_load``, C-accelerated
    where available); ``error`` naming the file for an unreadable file, invalid YAML or a
    document that is not a mapping (``what``: the kind of file, ``keys``: those it needs)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise error(f"{path}: expected a mapping with {keys}")
    return text, data


@dataclass(frozen=True)
class ActionDescription:
    """One action: its label, one text per slot (``SLOTS`` order) and synonyms.

    Texts are stored as a tuple rather than one field per slot because ``global`` is a
    Python keyword; use ``desc["hands"]`` or ``desc.texts``. ``class_id`` is the
    dataset's own class code where the bank gives one (``id: A001`` or ``id: 1``).
    """

    label: str
    texts: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    class_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "texts", tuple(self.texts))
        object.__setattr__(self, "synonyms", tuple(self.synonyms))
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(f"ActionDescription: label must be a non-empty string: {self.label!r}")
        if len(self.texts) != len(SLOTS):
            raise ValueError(
                f"ActionDescription {self.label!r}: expected {len(SLOTS)} texts "
                f"({', '.join(SLOTS)}), got {len(self.texts)}"
            )
        for slot, text in zip(SLOTS, self.texts, strict=True):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"ActionDescription {self.label!r}: slot {slot!r} must be non-empty text"
                )

    def __getitem__(self, slot: str) -> str:
        try:
            return self.texts[_SLOT_INDEX[slot]]
        except KeyError:
            raise KeyError(f"unknown slot {slot!r}; slots are {SLOTS}") from None


def normalize_label(label: str) -> str:
    """Key used to compare labels and synonyms: folds case, underscores, spacing and a
    final full stop, the ways a user's query may differ from the bank."""
    return " ".join(label.casefold().replace("_", " ").split()).rstrip(".")


def label_only_description(label: str) -> ActionDescription:
    """All eight slots derived from the label alone, for vocabularies without a bank.

    The sentences only frame the label with the slot's body part or phase, so each
    slot's query still names what it should attend to when nothing else is known.
    """
    name = " ".join(label.replace("_", " ").split())
    if not name:
        raise ValueError(f"label_only_description: empty label {label!r}")
    texts = (
        f"the head and gaze of a person doing {name}",
        f"the hands and arms of a person doing {name}",
        f"the torso and shoulders of a person doing {name}",
        f"the legs and feet of a person doing {name}",
        f"a person starting to {name}",
        f"a person in the middle of {name}",
        f"a person finishing {name}",
        f"a person doing {name}",
    )
    return ActionDescription(label=label, texts=texts)


class BankError(ValueError):
    """A description bank file is malformed; the message names the file and line."""


def _where(path: Path, node: yaml.Node | None) -> str:
    return f"{path}:{node.start_mark.line + 1}" if node is not None else str(path)


def _action_nodes(text: str) -> dict[str, list[yaml.Node]]:
    """Key nodes of ``actions``, grouped by label, to find duplicates and line numbers.

    ``yaml.safe_load`` silently keeps the last of two equal keys; composing the node
    tree (no object construction, hence safe) still sees both.
    """
    root = yaml.compose(text, Loader=_SAFE_LOADER)
    nodes: dict[str, list[yaml.Node]] = {}
    if not isinstance(root, yaml.MappingNode):
        return nodes
    for key, value in root.value:
        if key.value == "actions" and isinstance(value, yaml.MappingNode):
            for label_node, _ in value.value:
                nodes.setdefault(str(label_node.value), []).append(label_node)
    return nodes


def _parse_action(where: str, label: str, entry: Any) -> ActionDescription:
    if not isinstance(entry, Mapping):
        raise BankError(f"{where}: action {label!r} must be a mapping of slot -> text")
    unknown = sorted(str(k) for k in entry if k not in _ALLOWED_KEYS)
    if unknown:
        raise BankError(
            f"{where}: action {label!r} has unknown keys {unknown}; allowed: "
            f"{', '.join(SLOTS)}, synonyms, id"
        )
    missing = [slot for slot in SLOTS if slot not in entry]
    if missing:
        raise BankError(f"{where}: action {label!r} is missing slots {missing}")
    texts = []
    for slot in SLOTS:
        value = entry[slot]
        if not isinstance(value, str):
            raise BankError(
                f"{where}: action {label!r} slot {slot!r} must be a string, "
                f"got {type(value).__name__}"
            )
        if not value.strip():
            raise BankError(f"{where}: action {label!r} slot {slot!r} is empty")
        texts.append(" ".join(value.split()))
    synonyms = entry.get("synonyms") or []
    if isinstance(synonyms, str) or not isinstance(synonyms, list):
        raise BankError(f"{where}: action {label!r}: synonyms must be a list of strings")
    for synonym in synonyms:
        if not isinstance(synonym, str) or not synonym.strip():
            raise BankError(
                f"{where}: action {label!r}: synonym {synonym!r} must be a non-empty string"
            )
    class_id = entry.get("id")
    if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, str | int)):
        raise BankError(f"{where}: action {label!r}: id must be a string or integer")
    return ActionDescription(
        label=label,
        texts=tuple(texts),
        synonyms=tuple(synonyms),
        class_id=None if class_id is None else str(class_id),
    )


def load_bank(path: str | Path) -> dict[str, ActionDescription]:
    """Read a description bank (format ``dynapurls-descriptions/1``), label -> description.

    Raises :class:`BankError` naming the file, line and label for: a wrong ``format``,
    missing/unknown slots, non-string or empty texts, and duplicate labels (also when
    two labels, or a label and another action's synonym, differ only in case/spacing,
    since lookups by name would then be ambiguous).
    """
    path = Path(path)
    text, data = read_yaml_document(path, BankError, "description bank", "'format' and 'actions'")
    nodes = _action_nodes(text)
    if data.get("format") != BANK_FORMAT:
        raise BankError(f"{path}: format must be {BANK_FORMAT!r}, got {data.get('format')!r}")
    actions = data.get("actions")
    if not isinstance(actions, Mapping) or not actions:
        raise BankError(f"{path}: 'actions' must be a non-empty mapping of label -> slots")

    for label, label_nodes in nodes.items():
        if len(label_nodes) > 1:
            lines = ", ".join(str(n.start_mark.line + 1) for n in label_nodes)
            raise BankError(f"{path}: duplicate label {label!r} (lines {lines})")

    bank: dict[str, ActionDescription] = {}
    names: dict[str, str] = {}  # normalised name -> label that owns it
    for label, entry in actions.items():
        node = (nodes.get(str(label)) or [None])[0]
        where = _where(path, node)
        if not isinstance(label, str) or not label.strip():
            raise BankError(f"{where}: label {label!r} must be a non-empty string")
        desc = _parse_action(where, label, entry)
        for name in (label, *desc.synonyms):
            key = normalize_label(name)
            owner = names.get(key)
            if owner is not None and owner != label:
                raise BankError(
                    f"{where}: {name!r} of action {label!r} duplicates action {owner!r}"
                )
            names[key] = label
        bank[label] = desc
    return bank
