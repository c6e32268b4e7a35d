"""The language-model describer, its answer parser, its cache and ``dynapurls describe``.

No instruction-tuned model is available offline, so the generator runs on a real but
tiny randomly initialised Llama (two layers, a byte-level BPE tokenizer trained here on
the prompt text, a chat template) saved to a temporary folder and loaded through
``transformers`` like any checkpoint. Its answers are garbage: that exercises the
rejection, the retries and the final error. The success path replaces only
``raw_generate`` (the sampling call) with a fixed well-formed answer.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from dynapurls_ros.text.descriptions import SLOTS, load_bank
from dynapurls_ros.text.generate import (
    DEFAULT_EXAMPLES,
    INSTRUCTION,
    MAX_WORDS,
    AnswerFormatError,
    GenerationError,
    LLMDescriber,
    add_describe_arguments,
    describe,
    few_shot_examples,
    format_answer,
    is_placeholder,
    parse_answer,
    read_description_file,
    run_describe,
)
from dynapurls_ros.text.resolve import DescriptionResolver

NO_SYSTEM_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _answer(**lines: str) -> str:
    """A well-formed answer about juggling; keyword arguments replace whole lines."""
    default = {
        slot: f"{slot}: the {slot} part of juggling three balls in the air" for slot in SLOTS
    }
    return "\n".join({**default, **lines}.values())


JUGGLE = _answer()


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(model with a chat template, tokenizer without one, tokenizer whose chat
    template refuses a system turn)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<s>", "</s>"],
    )
    corpus = [INSTRUCTION] + [format_answer(example) for example in few_shot_examples()]
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="</s>"
    )
    plain = tmp_path_factory.mktemp("plain_tokenizer")
    fast.save_pretrained(plain)
    fast.chat_template = NO_SYSTEM_TEMPLATE + CHAT_TEMPLATE
    no_system = tmp_path_factory.mktemp("no_system_tokenizer")
    fast.save_pretrained(no_system)
    fast.chat_template = CHAT_TEMPLATE
    chat = tmp_path_factory.mktemp("tiny_llama")
    fast.save_pretrained(chat)
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(chat)
    return chat, plain, no_system


class Recording(LLMDescriber):
    """Calls the real model and records every prompt and attempt."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, int]] = []

    def raw_generate(self, prompt: str, attempt: int) -> str:
        self.calls.append((prompt, attempt))
        return super().raw_generate(prompt, attempt)


class Scripted(LLMDescriber):
    """Answers with the given texts, one per attempt, instead of sampling the model."""

    def __init__(self, answers: list[str], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.answers = list(answers)
        self.attempts: list[int] = []

    def raw_generate(self, prompt: str, attempt: int) -> str:
        self.attempts.append(attempt)
        return self.answers.pop(0)


# -- parser ----------------------------------------------------------------------------


def test_parser_round_trips_the_answer_format() -> None:
    example = few_shot_examples(["wave"])[0]
    parsed = parse_answer(format_answer(example), "hello")
    assert parsed.label == "hello" and parsed.texts == example.texts


def test_parser_accepts_common_decorations() -> None:
    lines = [f"{slot}: the {slot} moves in a slow wide circle." for slot in SLOTS]
    decorated = (
        "Here is the description:\n\n```\n"
        + "\n".join(f"- **{line.split(':')[0]}**: {line.split(': ')[1]}" for line in lines[:4])
        + "\n\n"
        + "\n".join(reversed(lines[4:]))
        + "\n```\nAction: next one\nhead: ignored after the eighth slot"
    )
    parsed = parse_answer(decorated, "circle")
    assert parsed["head"] == "the head moves in a slow wide circle"
    assert parsed["global"] == "the global moves in a slow wide circle"
    as_json = json.dumps({slot: f"the {slot} moves in a slow wide circle" for slot in SLOTS})
    assert parse_answer(as_json, "circle").texts == parsed.texts


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "missing slots"),
        ("\u0012head\u00c7 the hand ~~ xx", "missing slots"),
        (_answer(torso="chest: the chest rises and falls gently"), "expected 'slot: text'"),
        (_answer(legs="legs: too short"), "has 2 words"),
        (_answer(end="end: " + "very " * MAX_WORDS + "long"), "words, expected"),
        (_answer(start="head: the head again, for the second time"), "given twice"),
        (_answer(middle="middle:"), "has 0 words"),
        (_answer(hands=""), "missing slots \\['hands'\\]"),
        ('{"head": "the head tilts up"', "does not parse"),
        (json.dumps({"head": "a b c", "elbow": "a b c"}), "unknown keys"),
        (json.dumps({slot: 5 for slot in SLOTS}), "is not text"),
    ],
)
def test_parser_rejects_malformed_answers(answer: str, reason: str) -> None:
    with pytest.raises(AnswerFormatError, match=reason):
        parse_answer(answer, "juggle clubs")


# -- prompting and retries with the real (random) model --------------------------------


def test_chat_prompt_has_instruction_and_few_shot_examples(model_dirs, tmp_path: Path) -> None:
    describer = LLMDescriber(model_dirs[0], cache_file=tmp_path / "cache.yaml")
    assert describer.uses_chat_template()
    prompt = describer.build_prompt("Juggle Clubs")
    assert prompt.startswith(f"<|system|>\n{INSTRUCTION}")
    assert prompt.endswith("<|user|>\nAction: Juggle Clubs\n<|assistant|>\n")
    examples = few_shot_examples()
    assert [e.label for e in examples] == list(DEFAULT_EXAMPLES)
    positions = [prompt.index(f"<|assistant|>\n{format_answer(e)}\n") for e in examples]
    assert positions == sorted(positions)


def test_plain_prompt_without_chat_template(model_dirs, tmp_path: Path) -> None:
    describer = LLMDescriber(model_dirs[1], cache_file=tmp_path / "cache.yaml")
    assert not describer.uses_chat_template()
    prompt = describer.build_prompt("juggle clubs")
    assert prompt.startswith(INSTRUCTION)
    for example in few_shot_examples():
        assert f"Action: {example.label}\n{format_answer(example)}\n\n" in prompt
    assert prompt.endswith("Action: juggle clubs\n")


def test_instruction_moves_into_the_first_turn_without_system_role(
    model_dirs, tmp_path: Path
) -> None:
    describer = LLMDescriber(model_dirs[2], cache_file=tmp_path / "cache.yaml")
    prompt = describer.build_prompt("juggle clubs")
    assert "<|system|>" not in prompt
    assert prompt.startswith(f"<|user|>\n{INSTRUCTION}\n\nAction: {DEFAULT_EXAMPLES[0]}\n")
    assert prompt.endswith("<|user|>\nAction: juggle clubs\n<|assistant|>\n")


def test_garbage_answers_are_retried_then_fail_clearly(model_dirs, tmp_path: Path) -> None:
    cache = tmp_path / "cache.yaml"
    describer = Recording(model_dirs[0], retries=2, max_new_tokens=12, cache_file=cache)
    with pytest.raises(GenerationError) as error:
        describer.generate("juggle clubs")
    assert [attempt for _, attempt in describer.calls] == [0, 1, 2]
    assert len({prompt for prompt, _ in describer.calls}) == 1
    message = str(error.value)
    assert "'juggle clubs'" in message and "after 3 attempts" in message and "rejected" in message
    assert str(model_dirs[0]) in message
    assert not cache.exists()


def test_resolver_falls_back_when_generation_fails(
    model_dirs, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    describer = LLMDescriber(
        model_dirs[0], retries=0, max_new_tokens=4, cache_file=tmp_path / "cache.yaml"
    )
    resolver = DescriptionResolver(generator=describer)
    wave, flag, unknown = resolver.resolve(["wave", "wave a flag", "unknown-word xyz"])
    assert wave.source.startswith("bank:")
    assert flag.source.startswith("composed:")  # a nearby entry lends its slots
    assert unknown.source == "template"
    assert "generator failed" in caplog.text


def test_unloadable_model_is_a_generation_error(tmp_path: Path) -> None:
    describer = LLMDescriber(str(tmp_path / "no_model"), cache_file=tmp_path / "cache.yaml")
    with pytest.raises(GenerationError, match="cannot load the tokenizer"):
        describer.generate("juggle clubs")


# -- success path and cache ------------------------------------------------------------


def test_good_answer_is_cached_and_served_from_the_cache(model_dirs, tmp_path: Path) -> None:
    cache = tmp_path / "mine.yaml"
    first = Scripted(["garbage", JUGGLE], model_dirs[0], retries=3, seed=5, cache_file=cache)
    description = first.generate("juggle clubs")
    assert first.attempts == [0, 1]
    assert description["legs"] == "the legs part of juggling three balls in the air"

    bank, origins = read_description_file(cache)
    assert list(bank) == ["juggle clubs"] and bank["juggle clubs"].texts == description.texts
    assert origins == {"juggle clubs": f"generated:{model_dirs[0]}"}
    assert load_bank(cache)["juggle clubs"].texts == description.texts

    second = Scripted([], model_dirs[0], cache_file=cache)
    again = second.generate("Juggle Clubs")
    assert (
        second.attempts == [] and again.label == "Juggle Clubs" and again.texts == description.texts
    )
    resolved = DescriptionResolver(generator=second).resolve(["Juggle Clubs"])[0]
    assert resolved.source == f"generated:{model_dirs[0]}"
    assert DescriptionResolver(user_files=[cache]).match("juggle clubs").source == "user:mine.yaml"

    other_model = Scripted([JUGGLE.replace("three", "four")], model_dirs[1], cache_file=cache)
    assert (
        "four" in other_model.generate("juggle clubs")["head"]
    )  # another model's entry is not reused
    assert read_description_file(cache)[1]["juggle clubs"] == f"generated:{model_dirs[1]}"


# -- dynapurls describe ----------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dynapurls describe")
    add_describe_arguments(parser)
    return parser.parse_args(list(argv))


def test_describe_without_model_writes_fallback_entries(tmp_path: Path) -> None:
    output = tmp_path / "labels.yaml"
    labels = ["Wave", "shrug your shoulders", "juggle clubs", "unknown-word xyz"]
    document = describe(labels, output=output)
    resolved = DescriptionResolver().resolve(labels)
    assert document["origins"] == {r.label: r.source for r in resolved}
    assert document["origins"]["Wave"].startswith("bank:")
    assert document["origins"]["shrug your shoulders"].startswith("meaning:")
    assert document["origins"]["unknown-word xyz"] == "template"
    bank, origins = read_description_file(output)
    assert origins == document["origins"]
    assert all(bank[r.label].texts == r.description.texts for r in resolved)
    assert (
        DescriptionResolver(user_files=[output]).match("juggle clubs").source == "user:labels.yaml"
    )

    # A second run keeps the entries and adds new ones.
    describe(["tie a knot"], output=output)
    tie = DescriptionResolver().resolve(["tie a knot"])[0].source
    assert read_description_file(output)[1] == {**document["origins"], "tie a knot": tie}


def test_placeholder_origins() -> None:
    assert is_placeholder("template") and is_placeholder("composed:everyday.yaml:wave")
    assert not is_placeholder("bank:everyday.yaml") and not is_placeholder("user")
    assert not is_placeholder("meaning:everyday.yaml:shrug")


def test_describe_cli_prints_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_describe(_args("nod", "unknown-word xyz")) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["origins"] == {"nod": "bank:everyday.yaml", "unknown-word xyz": "template"}
    assert set(printed["actions"]["unknown-word xyz"]) == set(SLOTS)


def test_describe_cli_with_model_reports_failure(
    model_dirs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "labels.yaml"
    describe(["unknown-word xyz"], output=output)  # a template entry: a model run must redo it
    argv = ["unknown-word xyz", "--model", str(model_dirs[0]), "-o", str(output)]
    status = run_describe(_args(*argv, "--retries", "1", "--max-new-tokens", "4"))
    assert status == 1
    error = capsys.readouterr().err.splitlines()[-1]  # after transformers' progress bars
    assert error.startswith("dynapurls describe: error:") and "after 2 attempts" in error
    assert read_description_file(output)[1] == {"unknown-word xyz": "template"}
