"""How long turning a vocabulary into class texts takes: resolution and MiniLM encoding.

Measured the way the recogniser does it (``DescriptionResolver.resolve`` then
``encode_descriptions`` through a ``CachedTextEncoder``), with the MiniLM model already
loaded (its load time is printed first) and 2 torch threads (``--threads``). Every
repeat starts from a fresh resolver, a fresh handle on the shipped index (so reading it
is counted) and an empty disk cache, as a new process would, unless the case says
otherwise:

* new vocabulary: the 120 NTU-120 bank labels (target <= 1.5 s), and for comparison the
  same without the shipped index (the encoder only), and 120 labels no bank has (their
  texts are new to every cache, so this is the encoder's own speed);
* one changed label: the bank vocabulary already encoded, one label replaced by a new
  one (target <= 0.2 s);
* known vocabulary: a new process (fresh wrapper) encoding a vocabulary its disk cache
  holds, for bank labels and for labels no bank has (target <= 0.15 s).

Run: ``python -m benchmarks.text_speed [--repeats 5]``; prints median and worst of the
repeats. Times vary with the load of other processes on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text.encoder import (
    CachedTextEncoder,
    TextEncoder,
    encode_descriptions,
    make_text_encoder,
)
from dynapurls_ros.text.resolve import DescriptionResolver, load_bank_cached
from dynapurls_ros.text.vector_index import TextIndex, shipped_index_path

NTU120 = config_dir() / "descriptions" / "ntu120.yaml"
# 120 labels no bank has: each resolves by composition or the template, and its texts
# are new to every fresh cache.
NEW_VERBS = ("paint", "knit", "shovel", "iron", "stir", "row", "ski", "climb", "swim", "carve")
NEW_OBJECTS = ("a fence", "a scarf", "the snow", "a shirt", "a pot", "a boat")
NEW_OBJECTS += ("a slope", "a wall", "a lake", "a pumpkin", "a kite", "a drum")


UNKNOWN = [f"{verb} {obj}" for verb in NEW_VERBS for obj in NEW_OBJECTS]
CHANGED = "wave a flag"  # composed from "wave": eight new texts
NEW_BANK = "new vocabulary: 120 NTU-120 bank labels"
CHANGED_ONE = "one changed label (composed, 8 new texts)"
KNOWN_BANK = "known vocabulary, new process: 120 bank labels"
KNOWN_UNKNOWN = "known vocabulary, new process: 120 labels no bank has"


def encode_vocabulary(
    labels: Sequence[str], encoder: TextEncoder, resolver: DescriptionResolver
) -> torch.Tensor:
    return encode_descriptions(encoder, [r.description for r in resolver.resolve(labels)])


def show(name: str, times: list[float], target: float | None = None) -> None:
    verdict = "" if target is None else f"   target <= {target:.2f} s"
    print(f"{name:<62} median {np.median(times):6.3f} s  worst {max(times):6.3f} s{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    backend = make_text_encoder("minilm")
    print(f"MiniLM load: {time.perf_counter() - start:.2f} s ({backend.model_id})")
    bank_labels = list(load_bank_cached(NTU120))
    index_path = shipped_index_path()
    print(f"shipped index: {index_path} ({index_path.stat().st_size / 1e6:.1f} MB)")

    def fresh(cache: Path, indexed: bool = True) -> tuple[CachedTextEncoder, DescriptionResolver]:
        index = TextIndex(index_path) if indexed else None
        encoder = CachedTextEncoder(backend, cache, index=index)
        return encoder, DescriptionResolver(encoder=encoder)

    cases: dict[str, list[float]] = {}

    def run(case: str, labels: Sequence[str], encoder: TextEncoder, resolver: DescriptionResolver):
        start = time.perf_counter()
        encode_vocabulary(labels, encoder, resolver)
        cases.setdefault(case, []).append(time.perf_counter() - start)

    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            encoder, resolver = fresh(cache)
            run(NEW_BANK, bank_labels, encoder, resolver)
            run(CHANGED_ONE, [*bank_labels[:-1], CHANGED], encoder, resolver)
            run("new vocabulary: 120 labels no bank has", UNKNOWN, encoder, resolver)
            run(KNOWN_BANK, bank_labels, *fresh(cache))  # a new process, same disk cache
            run(KNOWN_UNKNOWN, UNKNOWN, *fresh(cache))
        with tempfile.TemporaryDirectory() as tmp:
            run(f"{NEW_BANK}, no index", bank_labels, *fresh(Path(tmp), indexed=False))
    targets = {NEW_BANK: 1.5, CHANGED_ONE: 0.2, KNOWN_BANK: 0.15, KNOWN_UNKNOWN: 0.15}
    for name, times in cases.items():
        show(name, times, targets.get(name))


if __name__ == "__main__":
    main()
