"""Regenerate (or check) the shipped index of the banks' text vectors.

``python -m dynapurls_ros.text.bank_index`` (``make text-index``) encodes, with the
default MiniLM, every slot text of every shipped bank and every name that resolution by
meaning compares labels with, and writes them to
:func:`~dynapurls_ros.text.vector_index.shipped_index_path`. ``--check`` only reports
the texts the shipped index lacks (exit status 1 if any). Run it after editing a bank:
until then the edited texts are encoded at run time (slower, never wrong).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from dynapurls_ros.text.encoder import DEFAULT_SPEC, make_text_encoder
from dynapurls_ros.text.resolve import default_bank_paths, entry_names, load_bank_cached
from dynapurls_ros.text.vector_index import TextIndex, shipped_index_path, write_index


def bank_texts(bank_paths: Iterable[str | Path] | None = None) -> list[str]:
    """Every slot text and every meaning name of the banks (default: the shipped ones),
    each once, sorted."""
    paths = default_bank_paths() if bank_paths is None else [Path(p) for p in bank_paths]
    texts: set[str] = set()
    for path in paths:
        for description in load_bank_cached(path).values():
            texts.update(description.texts)
            texts.update(entry_names(description))
    return sorted(texts)


def missing_texts(index: TextIndex, model_id: str, texts: list[str]) -> list[str]:
    """The ``texts`` that ``index`` does not hold for ``model_id``."""
    found = index.lookup(model_id, texts)
    return [text for text in texts if text not in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=shipped_index_path())
    parser.add_argument("--check", action="store_true", help="only list the texts it lacks")
    args = parser.parse_args(argv)
    encoder = make_text_encoder(DEFAULT_SPEC)
    texts = bank_texts()
    if args.check:
        missing = missing_texts(TextIndex(args.output), encoder.model_id, texts)
        for text in missing:
            print(text)
        print(f"{args.output}: {len(texts) - len(missing)} of {len(texts)} bank texts indexed")
        return 1 if missing else 0
    start = time.perf_counter()
    vectors = encoder.encode(texts).numpy()
    write_index(args.output, encoder.model_id, texts, vectors)
    size = args.output.stat().st_size / 1e6
    print(
        f"{args.output}: {len(texts)} texts of {len(default_bank_paths())} banks, "
        f"{size:.1f} MB, encoded in {time.perf_counter() - start:.0f} s ({encoder.model_id})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
