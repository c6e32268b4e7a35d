"""What a corpus-trained model thinks unseen clips are, in the corpus' own words.

For each class of a target dataset: the corpus texts nearest its name (text to text,
the model plays no part) and the corpus texts its clips retrieve (motion to text, the
model's global slot against every distinct corpus text). ``agree`` is the share of the
class's clips whose best corpus text is among the ``--near`` texts nearest the class
name: high when the name has counterparts in the corpus *and* the model maps the
target's motions onto them. It tells a naming failure that lies in the texts (a name
with no counterpart in the corpus) from one that lies in the motion-to-text map (the
counterparts exist, the clips land elsewhere).

    dynapurls train --corpus cmu_mocap -o runs/cross/cmu-seed0.pt
    python -m benchmarks.corpus_retrieval runs/cross/cmu-seed0.pt --target nw_ucla
    python -m benchmarks.corpus_retrieval runs/cross/cmu-seed0.pt --target cmu_mocap

With ``--target cmu_mocap`` the clips are ``--trials`` of the corpus' own trials (the
training data of a corpus-trained model: a reference for what ``agree`` reaches where
the model has seen the motions' sensor and style), each named by its own description.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.common import add_dataset_option, dataset_options
from dynapurls_ros.checkpoint import load_checkpoint
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS
from dynapurls_ros.training.corpus import load_corpus
from dynapurls_ros.training.evaluate import (
    class_texts,
    clip_means,
    prepare,
    stacked_windows,
    unseen_test,
)

CORPUS = "cmu_mocap"


def distinct_texts(texts: list[str], embeddings: torch.Tensor) -> tuple[list[str], torch.Tensor]:
    """Each corpus text once (the corpus keeps one entry per class name already; this
    only drops exact repeats after stripping and lower-casing)."""
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        seen.setdefault(text.strip().lower(), i)
    keep = list(seen.values())
    return [texts[i] for i in keep], embeddings[keep]


def global_features(model: DynaPURLS, clips: list[np.ndarray], window_length: int) -> torch.Tensor:
    """Unit ``(C, d)`` global-slot features per clip (mean over its evaluation windows);
    the global slot does not depend on the candidates, so none are needed."""
    windows, owner = stacked_windows(clips, window_length)
    parts = [
        F.normalize(model.global_vector(model.tokens(windows[i : i + 256]).mean(dim=1)), dim=-1)
        for i in range(0, len(windows), 256)
    ]
    return F.normalize(clip_means(torch.cat(parts), np.bincount(owner)), dim=-1)


@torch.no_grad()  # not inference_mode: the encoder memoises on version counters
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--target", default="nw_ucla", help=f"a dataset, or {CORPUS} itself")
    parser.add_argument("--near", type=int, default=20, help="corpus texts nearest a name")
    parser.add_argument("--show", type=int, default=4, help="texts listed per class")
    parser.add_argument("--trials", type=int, default=400, help=f"{CORPUS} trials drawn (seed 0)")
    add_dataset_option(parser)
    args = parser.parse_args()
    options = dataset_options(args.dataset_option)
    model, info = load_checkpoint(args.checkpoint)
    corpus = load_corpus(CORPUS, info.frame_rate, model.config.text_encoder)
    texts, corpus_text = distinct_texts(corpus.texts, corpus.embeddings)
    if args.target == CORPUS:  # the corpus' own trials, each named by its description
        pick = np.random.default_rng(0).choice(len(corpus.clips), args.trials, replace=False)
        clips = [corpus.clips[i] for i in pick]
        labels = corpus.own[pick].float().argmax(dim=1).numpy()  # its CMU description
        names = list(corpus.texts)
        name_text = corpus.embeddings
    else:
        setup = prepare(info, [args.target], None, "labels", options)
        clips, labels = unseen_test(setup)
        names = [setup.clipset.class_names[k] for k in setup.unseen]
        name_text = class_texts(model, setup).select(setup.unseen).first[:, GLOBAL_INDEX]
    motion = global_features(model, clips, info.window_length)
    retrieved = (motion @ corpus_text.T).argmax(dim=1).numpy()  # best corpus text per clip
    nearest = (name_text @ corpus_text.T).topk(args.near, dim=1).indices.numpy()
    agree = np.array([retrieved[c] in nearest[y] for c, y in enumerate(labels)])
    print(
        f"{args.checkpoint} -> {args.target} {options or ''}: {len(clips)} clips, "
        f"{len(texts)} distinct corpus texts"
    )
    if args.target != CORPUS:
        for k, name in enumerate(names):
            mine = retrieved[labels == k]
            near = ", ".join(repr(texts[i]) for i in nearest[k][: args.show])
            got = ", ".join(f"{texts[i]!r} {n}" for i, n in Counter(mine).most_common(args.show))
            print(f"\n{name} ({len(mine)} clips), agree {100 * agree[labels == k].mean():.1f} %")
            print(f"  name is near: {near}\n  clips retrieve: {got}")
        per_class = [100 * agree[labels == k].mean() for k in range(len(names))]
        print(f"\nmean agree over classes: {np.mean(per_class):.1f} %")
    print(f"agree over clips: {100 * agree.mean():.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
