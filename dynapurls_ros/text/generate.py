"""Write eight-slot descriptions for new labels with a local instruction-tuned LM.

A bank covers the labels someone wrote by hand; a robot's users add others. A small
causal language model (any ``transformers`` checkpoint, used offline) is shown two or
three bank actions in exactly the answer format (few-shot) and asked for the new label.
The answer is parsed strictly, since one missing or runaway slot would silently give the
text encoder a wrong prototype; a rejected answer is retried with another sampling seed
and a lower temperature, and the last rejection raises :class:`GenerationError` with the
reason. Accepted descriptions go to a user description file (bank format), so every label
is generated once and can be reviewed or edited there.

``describe`` is what ``dynapurls describe`` runs: bank descriptions for known labels,
the model's for new ones, or the template when no model is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.compose import COMPOSED
from dynapurls_ros.text.descriptions import BANK_FORMAT, SLOTS, ActionDescription, BankError
from dynapurls_ros.text.resolve import (
    DescriptionResolver,
    DescriptionUnavailable,
    load_bank_cached,
    normalize_name,
)
from dynapurls_ros.text.template import TEMPLATE_SOURCE

# Few-shot examples: one hand action, one leg action, one whole-body transition.
DEFAULT_EXAMPLES: tuple[str, ...] = ("wave", "kick", "sit down")
MIN_WORDS, MAX_WORDS = 3, 30
DEFAULT_MAX_NEW_TOKENS = 320
_FIRST_TEMPERATURE, _MIN_TEMPERATURE = 0.7, 0.1

INSTRUCTION = (
    "You describe human actions as a skeleton tracker sees them: which joints move, in "
    "which direction, how far, in what order. Answer with exactly eight lines, one per "
    "slot, in this order: " + ", ".join(SLOTS) + ". Write each line as 'slot: text' with "
    "one short present-tense sentence of 6 to 20 words. head, hands (arms included), "
    "torso and legs (feet included) describe that body part; start, middle and end "
    "describe the phases of the movement; global summarises the whole action. Write "
    "nothing else."
)

_SLOT_LINE = re.compile(r"^\s*(?:[-*]\s*)?\**\s*([A-Za-z]+)\s*\**\s*:\s*\**\s*(.*?)\s*$")
_FENCE = re.compile(r"^\s*```[a-z]*\s*$", re.MULTILINE)


class GenerationError(DescriptionUnavailable):
    """The model gave no acceptable description (after all retries), or cannot be loaded."""


class AnswerFormatError(ValueError):
    """A model answer does not hold eight well-formed slots; the message says why."""


def format_answer(description: ActionDescription) -> str:
    """The answer format the model must produce: one ``slot: text`` line per slot."""
    return "\n".join(f"{slot}: {text}" for slot, text in zip(SLOTS, description.texts, strict=True))


def _checked_text(slot: str, text: Any) -> str:
    if not isinstance(text, str):
        raise AnswerFormatError(f"slot {slot!r} is not text: {text!r}")
    text = " ".join(text.split()).rstrip(".").strip()
    count = len(text.split())
    if not MIN_WORDS <= count <= MAX_WORDS:
        raise AnswerFormatError(
            f"slot {slot!r} has {count} words, expected {MIN_WORDS}-{MAX_WORDS}: {text!r}"
        )
    return text


def _parse_json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswerFormatError(f"answer looks like JSON but does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise AnswerFormatError("JSON answer must be an object of slot -> text")
    unknown = sorted(set(data) - set(SLOTS) - {"label", "action"})
    if unknown:
        raise AnswerFormatError(f"JSON answer has unknown keys {unknown}")
    return {slot: data[slot] for slot in SLOTS if slot in data}


def _parse_lines(text: str) -> dict[str, str]:
    """Slot lines of the first block of ``slot: text`` lines; text before the block is
    ignored (a preamble), the block ends after the eighth slot, and any other line
    inside it is an error."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if len(found) == len(SLOTS):
            break
        match = _SLOT_LINE.match(line)
        slot = match.group(1).lower() if match else None
        if slot in SLOTS:
            if slot in found:
                raise AnswerFormatError(f"line {number}: slot {slot!r} given twice")
            found[slot] = match.group(2)
        elif found and line.strip():
            raise AnswerFormatError(f"line {number}: expected 'slot: text', got {line!r}")
    return found


def parse_answer(text: str, label: str) -> ActionDescription:
    """Eight slot texts from a model answer: ``slot: text`` lines (any order, optional
    bullets or bold, a preamble before them) or one JSON object. Every slot must be
    present once with ``MIN_WORDS``-``MAX_WORDS`` words; raises
    :class:`AnswerFormatError` otherwise."""
    body = _FENCE.sub("", text).strip()
    found = _parse_json(body) if body.startswith("{") else _parse_lines(body)
    missing = [slot for slot in SLOTS if slot not in found]
    if missing:
        raise AnswerFormatError(f"missing slots {missing} in answer {text[:120]!r}")
    texts = tuple(_checked_text(slot, found[slot]) for slot in SLOTS)
    return ActionDescription(label=label, texts=texts)


def few_shot_examples(
    labels: Sequence[str] = DEFAULT_EXAMPLES, bank_paths: Iterable[str | Path] | None = None
) -> list[ActionDescription]:
    """Bank descriptions of ``labels`` to show the model; each must be in a bank."""
    resolver = DescriptionResolver(bank_paths=bank_paths)
    examples = []
    for label in labels:
        found = resolver.match(label)
        if found is None:
            raise ValueError(f"few-shot example {label!r} is in none of the banks")
        examples.append(found.description)
    return examples


# -- user description files ------------------------------------------------------------


def read_description_file(path: str | Path) -> tuple[dict[str, ActionDescription], dict[str, str]]:
    """A user description file: its actions and their ``origins`` (label -> where the
    text came from). Origins are a top-level mapping because the bank format allows no
    extra keys per action; labels without one were written by hand."""
    path = Path(path)
    bank = load_bank_cached(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    origins = data.get("origins") or {}
    if not isinstance(origins, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in origins.items()
    ):
        raise BankError(f"{path}: 'origins' must map labels to text")
    return bank, {label: origins[label] for label in bank if label in origins}


def description_document(entries: Iterable[tuple[ActionDescription, str]]) -> dict[str, Any]:
    """Bank-format mapping of ``(description, origin)`` pairs, in the given order."""
    origins: dict[str, str] = {}
    actions: dict[str, dict[str, Any]] = {}
    for description, origin in entries:
        entry: dict[str, Any] = {}
        if description.synonyms:
            entry["synonyms"] = list(description.synonyms)
        entry.update(zip(SLOTS, description.texts, strict=True))
        actions[description.label] = entry
        origins[description.label] = origin
    return {
        "format": BANK_FORMAT,
        "source": "written by dynapurls describe; 'origins' says where each text came from",
        "origins": origins,
        "actions": actions,
    }


def write_descriptions(path: str | Path, entries: Iterable[tuple[ActionDescription, str]]) -> None:
    """Merge ``entries`` into the description file at ``path`` (created if missing);
    an entry replaces the one with the same normalised label. The file is replaced
    atomically, so a crash never leaves half a file."""
    path = Path(path)
    merged: dict[str, tuple[ActionDescription, str]] = {}
    if path.exists():
        bank, origins = read_description_file(path)
        for label, description in bank.items():
            merged[normalize_name(label)] = (description, origins.get(label, "user"))
    for description, origin in entries:
        merged[normalize_name(description.label)] = (description, origin)
    text = yaml.safe_dump(
        description_document(merged.values()), sort_keys=False, allow_unicode=True, width=1000
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _request(label: str) -> str:
    return "Action: " + " ".join(label.split())


def default_cache_file() -> Path:
    return cache_dir() / "generated_descriptions.yaml"


# -- the language model ----------------------------------------------------------------


class LLMDescriber:
    """Eight-slot descriptions from a local causal LM, cached in a description file.

    ``retries`` counts the attempts after the first: attempt ``k`` samples with seed
    ``seed + k`` at temperature ``0.7 / 2**k`` (at least 0.1). The model is loaded on
    the first label that is not in the cache, so a fully cached vocabulary needs no
    model at all. The cache serves only entries this model wrote (its ``origins``).
    """

    def __init__(
        self,
        model_name_or_path: str,
        device: str = "cpu",
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        retries: int = 3,
        seed: int = 0,
        cache_file: str | Path | None = None,
        examples: Sequence[ActionDescription] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.model_name_or_path = str(model_name_or_path)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.retries = retries
        self.seed = seed
        self.cache_file = Path(cache_file) if cache_file is not None else default_cache_file()
        self.examples = list(examples) if examples is not None else few_shot_examples()
        self._tokenizer: Any = None
        self._model: Any = None

    @property
    def source(self) -> str:
        return f"generated:{self.model_name_or_path}"

    def cached(self, label: str) -> ActionDescription | None:
        """This model's earlier description of ``label`` from the cache file, if any."""
        if not self.cache_file.exists():
            return None
        bank, origins = read_description_file(self.cache_file)
        key = normalize_name(label)
        for name, description in bank.items():
            if normalize_name(name) == key and origins.get(name) == self.source:
                return description
        return None

    def generate(self, label: str) -> ActionDescription:
        """The description of ``label``: from the cache, else generated, checked and
        added to the cache. Raises :class:`GenerationError` after the last retry."""
        hit = self.cached(label)
        if hit is not None:
            return replace(hit, label=label)
        prompt = self.build_prompt(label)
        reason = ""
        for attempt in range(self.retries + 1):
            answer = self.raw_generate(prompt, attempt)
            try:
                description = parse_answer(answer, label)
            except AnswerFormatError as exc:
                reason = f"{exc}"
                continue
            write_descriptions(self.cache_file, [(description, self.source)])
            return description
        raise GenerationError(
            f"{self.model_name_or_path}: no valid description of {label!r} after "
            f"{self.retries + 1} attempts; the last answer was rejected: {reason}"
        )

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path)
            except (OSError, ValueError) as exc:
                raise GenerationError(
                    f"cannot load the tokenizer of {self.model_name_or_path!r}: {exc}"
                ) from exc
        return self._tokenizer

    def _load_model(self) -> Any:
        if self._model is None:
            from transformers import AutoModelForCausalLM

            try:
                model = AutoModelForCausalLM.from_pretrained(self.model_name_or_path)
            except (OSError, ValueError) as exc:
                raise GenerationError(
                    f"cannot load model {self.model_name_or_path!r}: {exc}"
                ) from exc
            self._model = model.to(self.device).eval()
        return self._model

    def uses_chat_template(self) -> bool:
        return bool(getattr(self._load_tokenizer(), "chat_template", None))

    def build_prompt(self, label: str) -> str:
        """The full prompt text: the tokenizer's chat template over an instruction and
        the few-shot turns when it has one, else the same content as plain text ending
        where the answer starts. Templates that refuse a system turn get the
        instruction at the top of the first user turn."""
        turns = []
        for example in self.examples:
            turns.append({"role": "user", "content": _request(example.label)})
            turns.append({"role": "assistant", "content": format_answer(example)})
        turns.append({"role": "user", "content": _request(label)})
        if not self.uses_chat_template():
            shots = "".join(f"{_request(e.label)}\n{format_answer(e)}\n\n" for e in self.examples)
            return f"{INSTRUCTION}\n\n{shots}{_request(label)}\n"
        from jinja2 import TemplateError

        tokenizer = self._load_tokenizer()
        system = [{"role": "system", "content": INSTRUCTION}]
        try:
            return tokenizer.apply_chat_template(
                system + turns, tokenize=False, add_generation_prompt=True
            )
        except TemplateError:
            first = {"role": "user", "content": f"{INSTRUCTION}\n\n{turns[0]['content']}"}
            return tokenizer.apply_chat_template(
                [first, *turns[1:]], tokenize=False, add_generation_prompt=True
            )

    def raw_generate(self, prompt: str, attempt: int) -> str:
        """The model's continuation of ``prompt`` (special tokens removed), sampled with
        the seed and temperature of ``attempt``."""
        import torch

        tokenizer, model = self._load_tokenizer(), self._load_model()
        inputs = tokenizer(
            prompt, return_tensors="pt", add_special_tokens=not self.uses_chat_template()
        ).to(self.device)
        torch.manual_seed(self.seed + attempt)
        pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                do_sample=True,
                temperature=max(_MIN_TEMPERATURE, _FIRST_TEMPERATURE / 2**attempt),
                top_p=0.9,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=pad_id,
            )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)


# -- dynapurls describe ----------------------------------------------------------------


def is_placeholder(origin: str) -> bool:
    """Whether an origin marks text made without knowing the action (the template, or
    slots composed from another action), which a language model should replace."""
    return origin == TEMPLATE_SOURCE or origin.startswith(f"{COMPOSED}:")


def describe(
    labels: Sequence[str],
    model: str | None = None,
    output: str | Path | None = None,
    *,
    device: str = "cpu",
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    retries: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Descriptions of ``labels`` as a bank-format mapping with per-label ``origins``.

    Per label: an entry already in ``output`` is kept (a template or composed entry only
    while no model is given, so adding ``--model`` later upgrades it), else the bank
    entry it spells or means (``bank:``/``meaning:`` origins), else the model's answer
    (``model`` given), else the composed fallback or the template
    (:class:`~dynapurls_ros.text.resolve.DescriptionResolver`). With ``output`` the
    results are merged into that file, which is then a user description file for the
    resolver.
    """
    existing: dict[str, tuple[ActionDescription, str]] = {}
    if output is not None and Path(output).exists():
        bank, origins = read_description_file(output)
        existing = {
            normalize_name(name): (desc, origins.get(name, "user")) for name, desc in bank.items()
        }
    describer = None
    if model is not None:
        describer = LLMDescriber(
            model,
            device=device,
            max_new_tokens=max_new_tokens,
            retries=retries,
            seed=seed,
            cache_file=output,
        )
    kept = {label: existing.get(normalize_name(label)) for label in labels}
    kept = {
        label: entry
        for label, entry in kept.items()
        if entry is not None and (model is None or not is_placeholder(entry[1]))
    }
    fresh = [label for label in labels if label not in kept]
    resolved = dict(zip(fresh, DescriptionResolver().resolve(fresh), strict=True))
    entries: list[tuple[ActionDescription, str]] = []
    for label in labels:
        if label in kept:
            description, origin = kept[label]
            entries.append((replace(description, label=label), origin))
        elif describer is not None and is_placeholder(resolved[label].source):
            entries.append((describer.generate(label), describer.source))
        else:
            entries.append((resolved[label].description, resolved[label].source))
    if output is not None:
        write_descriptions(output, entries)
    return description_document(entries)


def add_describe_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``dynapurls describe``."""
    parser.add_argument("labels", nargs="+", metavar="LABEL", help="action labels to describe")
    parser.add_argument(
        "--model",
        help="local path or cached hub id of an instruction-tuned causal LM; "
        "without it new labels get the template description",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="description file to merge the results into (also the generation cache); "
        "prints YAML to stdout when omitted",
    )
    parser.add_argument("--device", default="cpu", help="torch device for --model (default cpu)")
    parser.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS)
    parser.add_argument("--retries", type=int, default=3, help="attempts after the first")
    parser.add_argument("--seed", type=int, default=0)


def run_describe(args: argparse.Namespace) -> int:
    """Run ``dynapurls describe``; returns the exit status (1 with a message on error)."""
    try:
        document = describe(
            args.labels,
            model=args.model,
            output=args.output,
            device=args.device,
            max_new_tokens=args.max_new_tokens,
            retries=args.retries,
            seed=args.seed,
        )
    except (GenerationError, BankError, ValueError, OSError) as exc:
        print(f"dynapurls describe: error: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        yaml.safe_dump(document, sys.stdout, sort_keys=False, allow_unicode=True, width=1000)
    else:
        for label, origin in document["origins"].items():
            print(f"{label}: {origin}")
        print(f"wrote {len(document['origins'])} descriptions to {args.output}")
    return 0
