"""The transfer benchmark's fixed rules on the real class lists: which target classes
count as new (MiniLM name similarity, the rule written before any run) and which are
the same action under another dataset's name (the wording check)."""

from __future__ import annotations

from benchmarks.transfer import COUNTERPARTS, DATASETS, NEW_CLASS_COSINE, nearest_training_class
from dynapurls_ros.datasets import load_dataset


def test_new_classes_follow_the_fixed_rule() -> None:
    names = {d: load_dataset(d).class_names for d in DATASETS}
    new = {}
    for target in DATASETS:
        training = [n for d in DATASETS if d != target for n in names[d]]
        nearest = nearest_training_class(names[target], training)
        new[target] = {
            n for n, (_, cos) in zip(names[target], nearest, strict=True) if cos < NEW_CLASS_COSINE
        }
    assert new["nw_ucla"] == {"drop trash", "donning", "doffing", "carry"}
    assert len(new["gtu3d"]) == 13 and "walking" not in new["gtu3d"]
    assert len(new["utd_mhad"]) == 22 and "two hand push" in new["utd_mhad"]
    assert not {"sit to stand", "stand to sit", "walking in place"} & new["utd_mhad"]


def test_counterparts_name_real_classes_of_other_datasets() -> None:
    names = {d: set(load_dataset(d).class_names) for d in DATASETS}
    for target, pairs in COUNTERPARTS.items():
        others = set().union(*(names[d] for d in DATASETS if d != target))
        assert set(pairs) <= names[target] and set(pairs.values()) <= others
