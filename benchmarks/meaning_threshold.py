"""Choose and check the threshold of resolution by meaning on hand-written lists.

The lists (``benchmarks/meaning_lists.yaml``) were committed before this script first
ran. The rule below was written, with this script, before its first run:

1. Every label of both lists is compared with the entries of the lists' banks; its best
   entry, score (cosine) and margin (over the best entry of another action) are kept.
2. At a threshold T and margin M a label maps when score >= T and margin >= M; a WRONG
   mapping is a paraphrase mapped outside its ``entries`` or a non-match mapped
   outside its ``allowed``.
3. For each M in {0.00, 0.02, 0.04}: T*(M) = the lowest T on the grid 0.30, 0.31, ...,
   0.99 with zero wrong mappings on both lists.
4. The M whose T*(M) maps the most paraphrases is chosen (ties: the smaller M).
5. The shipped threshold is T*(M) + 0.02: one more step above the highest wrong
   mapping of the lists, against near-misses the lists do not have. Recall is
   reported at both.
6. If the wrong mappings that set T* are opposite directions, sides or negations, a
   guard refusing those pairs is added and steps 3-5 are rerun with it; it is kept if
   it raises the recall of step 5.

Prints the sweep, the decision, and the lists' results at what the package ships
(``text.meaning.THRESHOLD``, no margin, the guard on). Run:
``python -m benchmarks.meaning_threshold [--show-all]`` (about 10 s, mostly loading MiniLM).
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from dynapurls_ros.paths import config_dir
from dynapurls_ros.text import meaning
from dynapurls_ros.text.resolve import DescriptionResolver

LISTS = Path(__file__).resolve().parent / "meaning_lists.yaml"
MARGINS = (0.0, 0.02, 0.04)
GRID = np.round(np.arange(0.30, 0.995, 0.01), 2)
SAFETY_STEP = 0.02


@dataclass(frozen=True)
class Row:
    """One list label and what meaning resolution sees for it."""

    label: str
    kind: str
    paraphrase: bool
    ok: frozenset[str]  # entries it may map to
    entry: str
    score: float
    margin: float
    guarded: bool  # refused by the guard whatever the score

    def maps(self, threshold: float, margin: float, guard: bool) -> bool:
        return self.score >= threshold and self.margin >= margin and not (guard and self.guarded)

    @property
    def right(self) -> bool:
        return self.entry in self.ok


def load_lists(path: Path = LISTS) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def list_resolver(
    lists: dict, banks: list[Path] | None = None, **options: object
) -> DescriptionResolver:
    """A resolver over ``banks``, by default exactly those the lists were written against."""
    if banks is None:
        banks = [config_dir() / "descriptions" / name for name in lists["banks"]]
    return DescriptionResolver(bank_paths=banks, **options)


def rows(lists: dict, resolver: DescriptionResolver) -> list[Row]:
    """What meaning resolution sees for each list label; labels that a bank has come to
    spell since the lists were written (banks grow) resolve by spelling and are left out."""
    items = [(item, True) for item in lists["paraphrases"]]
    items += [(item, False) for item in lists["non_matches"]]
    spelled = [item["label"] for item, _ in items if resolver.match(item["label"]) is not None]
    if spelled:
        print(f"left out, a bank spells them now: {spelled}")
    items = [(item, paraphrase) for item, paraphrase in items if item["label"] not in spelled]
    result = []
    labels = [item["label"] for item, _ in items]
    for (item, paraphrase), closest in zip(items, resolver.closest(labels), strict=True):
        ok = item.get("entries") if paraphrase else item.get("allowed", [])
        result.append(
            Row(
                label=item["label"],
                kind=item["kind"],
                paraphrase=paraphrase,
                ok=frozenset(ok),
                entry=closest.entry.description.label,
                score=closest.match.score,
                margin=closest.match.margin,
                guarded=closest.match.guarded,
            )
        )
    return result


def counts(table: list[Row], threshold: float, margin: float, guard: bool) -> tuple[int, int]:
    """(paraphrases mapped right, wrong mappings on both lists)."""
    mapped = [row for row in table if row.maps(threshold, margin, guard)]
    right = sum(row.paraphrase and row.right for row in mapped)
    return right, sum(not row.right for row in mapped)


def lowest_safe(table: list[Row], margin: float, guard: bool) -> float | None:
    for threshold in GRID:
        if counts(table, threshold, margin, guard)[1] == 0:
            return float(threshold)
    return None


def sweep(table: list[Row], guard: bool) -> tuple[float, float, int]:
    """Steps 3-5 of the rule: (chosen margin, shipped threshold, recall there)."""
    paraphrases = sum(row.paraphrase for row in table)
    best: tuple[int, float, float] | None = None
    print(f"guard {'on' if guard else 'off'}:")
    for margin in MARGINS:
        safe = lowest_safe(table, margin, guard)
        if safe is None:
            print(f"  margin {margin:.2f}: no threshold on the grid is free of wrong mappings")
            continue
        at_safe = counts(table, safe, margin, guard)[0]
        shipped = round(safe + SAFETY_STEP, 2)
        at_shipped = counts(table, shipped, margin, guard)[0]
        print(
            f"  margin {margin:.2f}: T* = {safe:.2f} maps {at_safe}/{paraphrases} paraphrases; "
            f"T* + {SAFETY_STEP} = {shipped:.2f} maps {at_shipped}/{paraphrases}"
        )
        below = [r for r in table if r.maps(safe - 0.01, margin, guard) and not r.right]
        for row in sorted(below, key=lambda r: -r.score):
            print(f"      wrong at {safe - 0.01:.2f}: {row.label!r} -> {row.entry!r} ({row.kind})")
        if best is None or at_safe > best[0]:
            best = (at_safe, margin, shipped)
    if best is None:
        raise SystemExit("no margin gives a threshold free of wrong mappings")
    _, margin, shipped = best
    return margin, shipped, counts(table, shipped, margin, guard)[0]


def report(table: list[Row], threshold: float, margin: float, guard: bool, show: bool) -> None:
    """Per list and kind: mapped right / wrong / not mapped, at one setting."""
    for paraphrase, name in ((True, "paraphrases"), (False, "non-matches")):
        part = [row for row in table if row.paraphrase == paraphrase]
        outcome: Counter[tuple[str, str]] = Counter()
        for row in part:
            mapped = row.maps(threshold, margin, guard)
            verdict = "unmapped" if not mapped else ("right" if row.right else "WRONG")
            outcome[(row.kind, verdict)] += 1
            if show or verdict == "WRONG" or (paraphrase and verdict == "unmapped"):
                print(
                    f"    {verdict:8} {row.label!r} -> {row.entry!r} "
                    f"score {row.score:.3f} margin {row.margin:.3f}"
                    + (" guarded" if row.guarded else "")
                )
        kinds = sorted({kind for kind, _ in outcome})
        summary = ", ".join(
            f"{kind} {outcome[(kind, 'right')]} right / {outcome[(kind, 'WRONG')]} wrong / "
            f"{outcome[(kind, 'unmapped')]} unmapped"
            for kind in kinds
        )
        mapped_right = sum(outcome[(k, "right")] for k in kinds)
        wrong = sum(outcome[(k, "WRONG")] for k in kinds)
        print(f"  {name} ({len(part)}): {mapped_right} mapped right, {wrong} wrong; {summary}")
        if paraphrase:
            unmapped = [row for row in part if not row.maps(threshold, margin, guard)]
            near = sum(row.right for row in unmapped)
            print(f"  unmapped paraphrases whose nearest entry is right: {near}/{len(unmapped)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-all", action="store_true", help="print every label's outcome")
    parser.add_argument(
        "--banks",
        nargs="+",
        type=Path,
        help="bank files to resolve against instead of the lists' own (e.g. every shipped "
        "bank: a WRONG there may be an entry the lists do not know; read the mapping)",
    )
    args = parser.parse_args()
    lists = load_lists()
    table = rows(lists, list_resolver(lists, args.banks, compose=False))
    choice = sweep(table, guard=False)
    print(f"rule, no guard: margin {choice[0]:.2f}, threshold {choice[1]:.2f}, recall {choice[2]}")
    guarded = sweep(table, guard=True)
    print(f"rule, guard: margin {guarded[0]:.2f}, threshold {guarded[1]:.2f}, recall {guarded[2]}")
    print(f"shipped: THRESHOLD {meaning.THRESHOLD:.2f}, no margin, guard on")
    report(table, meaning.THRESHOLD, 0.0, True, args.show_all)


if __name__ == "__main__":
    main()
