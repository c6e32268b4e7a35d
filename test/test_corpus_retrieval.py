"""The corpus-retrieval diagnostic (benchmarks/corpus_retrieval.py): its global features
are the global slot the recognizer scores with, and corpus texts are listed once."""

from __future__ import annotations

import numpy as np
import torch
from test_refinement import class_texts, small_model

from benchmarks import corpus_retrieval
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX
from dynapurls_ros.refinement.stream import stream_features
from dynapurls_ros.training.evaluate import clip_means


@torch.no_grad()
def test_global_features_are_the_recognizers_global_slot() -> None:
    model = small_model()
    rng = np.random.default_rng(0)
    # clips shorter and longer than the window: one and several evaluation windows
    clips = [rng.normal(size=(n, 25, 3)).astype(np.float32) for n in (20, 32, 90)]
    candidates = model.prepare(class_texts(3))
    stream = stream_features(model, candidates, clips, np.zeros(3, dtype=np.int64), 32)
    for k in range(3):  # whichever candidate: the global slot does not look at its texts
        expected = torch.nn.functional.normalize(
            clip_means(stream.features[:, k, GLOBAL_INDEX], stream.counts), dim=-1
        )
        assert torch.allclose(
            corpus_retrieval.global_features(model, clips, 32), expected, atol=1e-5
        )


def test_corpus_texts_are_listed_once_whatever_their_case() -> None:
    embeddings = torch.eye(4)
    texts, kept = corpus_retrieval.distinct_texts(["Walk", "walk ", "Throw", "jump"], embeddings)
    assert texts == ["Walk", "Throw", "jump"]
    assert torch.equal(kept, embeddings[[0, 2, 3]])
