"""The texts a run trains (or evaluates) each class with: one description, or several
phrasings of it, and the mirrored twins of sided classes.

A user types a label in their own words, and it reaches the model either as a bank
description or framed from the label alone. A model that only ever saw one text per
class learns to point at those exact texts, and a new wording lands elsewhere in the
text space. With ``varied`` phrasings every class is trained with its bank
description, its label framed alone, and each synonym framed alone, one of them drawn
per step, so the projection has to cover how a class may be phrased.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.descriptions import ActionDescription, label_only_description
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.training.augment import mirror_description, mirror_text, side_signature
from dynapurls_ros.training.data import DESCRIPTION_SOURCES, class_descriptions

VARIED = "varied"  # description source: several phrasings per class
DESCRIPTION_CHOICES = (*DESCRIPTION_SOURCES, VARIED)
MAX_PHRASINGS = 6  # bank description, the label alone, and up to four synonyms


def phrasings(
    class_names: Sequence[str], origin: Sequence[str], source: str
) -> list[list[ActionDescription]]:
    """The descriptions of each class: one from ``source`` (see
    :func:`~dynapurls_ros.training.data.class_descriptions`), or with ``varied`` the bank
    description, the label framed alone and its synonyms framed alone."""
    if source != VARIED:
        return [[d] for d in class_descriptions(class_names, origin, source)]
    result = []
    for bank in class_descriptions(class_names, origin, "bank"):
        names = dict.fromkeys([bank.label, *bank.synonyms])  # ordered, without repeats
        framed = [label_only_description(name) for name in names]
        result.append([bank, *framed][:MAX_PHRASINGS])
    return result


@dataclass(frozen=True)
class ClassSet:
    """Classes a run trains with: the seen classes, then the mirrored twins of the sided
    ones (``mirror_of[c]`` is the class a mirrored window of class ``c`` belongs to;
    itself for a class without a side)."""

    names: list[str]
    descriptions: list[list[ActionDescription]]
    mirror_of: list[int]
    num_seen: int  # classes before the mirrored twins


def class_set(names: Sequence[str], origin: Sequence[str], source: str, mirrored: bool) -> ClassSet:
    """The seen classes with their phrasings; with ``mirrored``, every class whose name
    changes when left and right are swapped gets a twin (unless the swapped name is
    itself a seen class, e.g. GTU-3D's "left handed shaking" and "right handed
    shaking"), described by the swapped texts."""
    names = list(names)
    seen = len(names)
    descriptions = phrasings(names, origin, source)
    mirror_of = list(range(seen))
    if mirrored:
        index = {name: i for i, name in enumerate(names)}
        for c in range(seen):
            twin = mirror_text(names[c])
            if twin == names[c]:
                continue
            if twin in index:
                mirror_of[c] = index[twin]
                continue
            index[twin] = len(names)
            mirror_of[c] = len(names)
            mirror_of.append(c)
            names.append(twin)
            descriptions.append([mirror_description(d) for d in descriptions[c]])
    return ClassSet(names, descriptions, mirror_of, seen)


@dataclass(frozen=True)
class ClassTexts:
    """Encoded phrasings ``(K, R, 8, d)``; class ``k`` has ``counts[k]`` of them (the rest
    repeat its first). ``sides`` ``(K, R, 8)`` numbers each slot text's side words
    (:func:`side_signature`). ``draw`` picks one phrasing per class for a step."""

    variants: torch.Tensor
    counts: torch.Tensor
    sides: torch.Tensor

    @property
    def first(self) -> torch.Tensor:
        """``(K, 8, d)``: each class's first phrasing (its description)."""
        return self.variants[:, 0]

    def draw(self, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One random phrasing of every class: texts ``(K, 8, d)`` and their side
        signatures ``(K, 8)``."""
        k = len(self.counts)
        if self.variants.shape[1] == 1:
            return self.first, self.sides[:, 0]
        pick = (torch.rand(k, generator=generator) * self.counts.cpu()).long()
        rows = torch.arange(k)
        return self.variants[rows, pick.to(self.variants.device)], self.sides[rows, pick]

    def select(self, classes: Sequence[int]) -> ClassTexts:
        """The phrasings of ``classes`` only, in that order."""
        index = torch.as_tensor(list(classes), dtype=torch.long)
        return ClassTexts(self.variants[index], self.counts[index], self.sides[index])

    def to(self, device: torch.device | str) -> ClassTexts:
        return ClassTexts(self.variants.to(device), self.counts.to(device), self.sides)


def same_slots(text: torch.Tensor, sides: torch.Tensor, threshold: float) -> torch.Tensor:
    """``(8, K, K)`` bool: per slot, the classes whose texts ``(K, 8, d)`` have a cosine of
    at least ``threshold`` and the same side words (``sides`` ``(K, 8)``); the diagonal
    is always set."""
    unit = torch.nn.functional.normalize(text, dim=-1).transpose(0, 1)  # (8, K, d)
    close = unit @ unit.transpose(1, 2) >= threshold
    agree = sides.T[:, :, None] == sides.T[:, None, :]
    eye = torch.eye(text.shape[0], dtype=torch.bool)
    return (close & agree.to(close.device)) | eye.to(close.device)


def encode_class_texts(
    descriptions: Sequence[Sequence[ActionDescription]], text_encoder: str
) -> ClassTexts:
    """Encode every phrasing of every class with ``text_encoder`` (cached on disk)."""
    encoder = make_text_encoder(text_encoder, cache_dir=cache_dir() / "text")
    width = max(len(options) for options in descriptions)
    padded = [list(options) + [options[0]] * (width - len(options)) for options in descriptions]
    flat = encode_descriptions(encoder, [d for options in padded for d in options])
    variants = flat.view(len(descriptions), width, *flat.shape[1:])
    signatures: dict[str, int] = {"": 0}
    sides = torch.tensor(
        [
            [
                [signatures.setdefault(side_signature(t), len(signatures)) for t in d.texts]
                for d in row
            ]
            for row in padded
        ]
    )
    return ClassTexts(variants, torch.tensor([len(options) for options in descriptions]), sides)
