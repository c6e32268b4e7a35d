"""What the fallback texts are worth: zero-shot accuracy on a split's unseen classes
with their bank entries hidden, i.e. for labels the banks never had.

Each checkpoint is a zero-shot model (``python -m benchmarks.zero_shot`` keeps them in
``runs/zero_shot/<recipe>/<dataset>_<split>_s<seed>.pt``). Its split's unseen clips are
classified against the unseen classes, once per description source, on one encoder
pass:

* ``bank``: the dataset's own bank first (what the recognizer resolves today);
* ``resolver, hidden``: ``DescriptionResolver(exclude=<the unseen class names>)``, what
  a user typing these names would get if the banks never had them (resolution by
  meaning, then the composed fallback, then the template, as the resolver decides; the
  seen classes' entries stay visible, as they are in the banks);
* ``meaning, hidden``: the same with the composed fallback off (meaning, else template);
* ``template`` and ``labels`` (the label framed eight times).

``--variants`` adds composition rules the shipped one is compared with (other donor
floors, the donor's texts copied unframed). "gap closed" = (source - template) /
(bank - template), from the means over checkpoints.

    python -m benchmarks.fallback_accuracy runs/zero_shot/default/utd_mhad_22-5_s*.pt
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import mean_std
from dynapurls_ros.checkpoint import load_checkpoint
from dynapurls_ros.text.compose import Donor, choose_donor, composed_description
from dynapurls_ros.text.descriptions import ActionDescription, label_only_description
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.text.resolve import DescriptionResolver
from dynapurls_ros.text.template import template_description
from dynapurls_ros.training.data import class_descriptions, load_clips, split_classes
from dynapurls_ros.training.evaluate import clip_means, stacked_windows

Sources = dict[str, list[ActionDescription]]


def composed_with(
    names: list[str],
    donors: list[list[Donor]],
    rule: Callable[[str, list[Donor]], Donor | None],
    framed: bool = True,
) -> list[ActionDescription]:
    """Per class: the donor ``rule`` picks, composed (``framed``) or copied, else the
    template."""
    result = []
    for name, nearest in zip(names, donors, strict=True):
        donor = rule(name, nearest)
        if donor is None:
            result.append(template_description(name))
        elif framed:
            result.append(composed_description(name, donor))
        else:
            result.append(replace(donor.description, label=name))
    return result


def sources(names: list[str], dataset: str, variants: bool) -> tuple[Sources, Counter[str]]:
    """The descriptions of ``names`` from every source, and the resolution paths the
    hidden resolver took."""
    resolved = DescriptionResolver(exclude=names).resolve(names)
    paths = Counter(found.source.split(":")[0] for found in resolved)
    result: Sources = {
        "bank": class_descriptions(names, [dataset] * len(names), "bank"),
        "resolver, hidden": [r.description for r in resolved],
        "meaning, hidden": [
            r.description for r in DescriptionResolver(exclude=names, compose=False).resolve(names)
        ],
        "template": [template_description(name) for name in names],
        "labels": [label_only_description(name) for name in names],
    }
    if variants:
        donors = DescriptionResolver(exclude=names, meaning=False).donors(names)

        def nearest(_: str, near: list[Donor]) -> Donor | None:
            return near[0] if near else None

        result["nearest entry, copied"] = composed_with(names, donors, nearest, framed=False)
        for floor in (0.7, 0.8):
            result[f"composed, floor {floor}"] = composed_with(
                names, donors, lambda n, d, floor=floor: choose_donor(n, d, floor=floor)
            )
    return result, paths


@torch.no_grad()
def accuracies(path: Path, variants: bool) -> tuple[str, dict[str, float], Counter[str]]:
    """``(dataset split, top-1 per source, hidden resolution paths)`` of one checkpoint."""
    model, info = load_checkpoint(path)
    (dataset,) = info.datasets
    clipset, _ = load_clips([dataset], info.frame_rate)
    _, unseen = split_classes(dataset, info.split, len(clipset.class_names))
    keep = np.isin(clipset.labels, unseen)
    clips = [clip for clip, k in zip(clipset.clips, keep, strict=True) if k]
    labels = np.searchsorted(unseen, clipset.labels[keep])
    names = [clipset.class_names[c] for c in unseen]
    texts, paths = sources(names, dataset, variants)
    encoder = make_text_encoder(model.config.text_encoder)
    candidates = {k: model.prepare(encode_descriptions(encoder, v)) for k, v in texts.items()}
    stacked, owner = stacked_windows(clips, info.window_length)
    logits: dict[str, list[torch.Tensor]] = {name: [] for name in texts}
    for start in range(0, len(stacked), 256):
        tokens = model.tokens(stacked[start : start + 256])  # shared by every source
        for name, prepared in candidates.items():
            logits[name].append(model.fuse(model.token_similarities(tokens, prepared)))
    counts = np.bincount(owner, minlength=len(clips))
    result = {}
    for name, parts in logits.items():
        per_clip = clip_means(torch.cat(parts).double(), counts).numpy()
        result[name] = float((per_clip.argmax(1) == labels).mean() * 100)
    return f"{dataset} {info.split}", result, paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path, help="zero-shot checkpoints")
    parser.add_argument("--variants", action="store_true", help="also the rules compared")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    paths: dict[str, Counter[str]] = defaultdict(Counter)
    for path in sorted(args.checkpoints):
        split, result, taken = accuracies(path, args.variants)
        paths[split].update(taken)
        print(f"{path.name}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()), flush=True)
        for name, value in result.items():
            scores[split][name].append(value)
    print("\n| split | source | n | top-1 | gap closed |")
    print("|---|---|---|---|---|")
    for split, by_source in scores.items():
        bank, template = (statistics.mean(by_source[k]) for k in ("bank", "template"))
        for name, values in by_source.items():
            closed = (
                (statistics.mean(values) - template) / (bank - template)
                if bank != template
                else float("nan")
            )
            print(f"| {split} | {name} | {len(values)} | {mean_std(values)} | {closed:+.2f} |")
        counted = ", ".join(f"{k} {v}" for k, v in sorted(paths[split].items()))
        print(f"| {split} | hidden resolution paths (all checkpoints) | | {counted} | |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
