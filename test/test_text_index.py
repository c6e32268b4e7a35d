"""The shipped index of bank text vectors, and content-stable model ids.

The index is only worth shipping if it covers the banks as they are and gives the same
vectors the encoder would; a stale or foreign index must cost time, never correctness.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from dynapurls_ros.text.bank_index import bank_texts, missing_texts
from dynapurls_ros.text.encoder import (
    CachedTextEncoder,
    SentenceTextEncoder,
    TextEncoder,
    _fingerprint,
    default_minilm_path,
    make_text_encoder,
    shipped_index,
)
from dynapurls_ros.text.vector_index import TextIndex, shipped_index_path, write_index


class CountingMiniLM(TextEncoder):
    """The real MiniLM, counting how many texts reach the network."""

    def __init__(self, backend: TextEncoder) -> None:
        self.backend = backend
        self.model_id = backend.model_id
        self.dim = backend.dim
        self.texts_embedded = 0

    def encode(self, texts):
        self.texts_embedded += len(texts)
        return self.backend.encode(texts)


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    return make_text_encoder("minilm")


def test_shipped_index_covers_every_bank_text(minilm: TextEncoder) -> None:
    missing = missing_texts(TextIndex(shipped_index_path()), minilm.model_id, bank_texts())
    assert not missing, (
        f"{len(missing)} bank texts are not in {shipped_index_path()} "
        f"(e.g. {missing[:3]}): run `make text-index`"
    )


def test_indexed_vectors_equal_fresh_ones(minilm: TextEncoder) -> None:
    texts = bank_texts()[::25]  # a spread-out sample of names and slot texts
    found = shipped_index().lookup(minilm.model_id, texts)
    stored = torch.stack([found[text] for text in texts])
    cosine = (stored * minilm.encode(texts)).sum(dim=-1)
    assert float(cosine.min()) >= 0.9999
    torch.testing.assert_close(stored.norm(dim=-1), torch.ones(len(texts)))


def test_cached_encoder_takes_indexed_texts_without_the_model(minilm, tmp_path: Path) -> None:
    counting = CountingMiniLM(minilm)
    cached = CachedTextEncoder(counting, tmp_path, index=shipped_index())
    texts = [*bank_texts()[:5], "a text that no bank has"]
    vectors = cached.encode(texts)
    assert counting.texts_embedded == 1  # only the text the index lacks
    assert len(list(cached.directory.glob("*.npy"))) == 1  # indexed texts are not copied
    torch.testing.assert_close(vectors, minilm.encode(texts), atol=2e-3, rtol=0)


def test_index_of_another_model_or_no_file_is_empty(tmp_path: Path) -> None:
    index = TextIndex(shipped_index_path())
    assert len(index) > 0
    assert index.lookup("sentence:another-model#0", bank_texts()[:3]) == {}
    assert TextIndex(tmp_path / "absent.npz").lookup(index.model_id, bank_texts()[:3]) == {}


def test_written_index_round_trips_and_rejects_bad_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    path = tmp_path / "index.npz"
    write_index(path, "model-a", ["one", "two", "three"], vectors)
    assert path.stat().st_mode & 0o777 == 0o644
    found = TextIndex(path).lookup("model-a", ["three", "four", "one"])
    assert sorted(found) == ["one", "three"]
    np.testing.assert_allclose(found["three"].numpy(), vectors[2], atol=1e-3)
    with pytest.raises(ValueError, match="unique"):
        write_index(path, "model-a", ["one", "one"], vectors[:2])
    np.savez(tmp_path / "bad.npz", format=np.array("something else"))
    with pytest.raises(ValueError, match="bad.npz: not a dynapurls-text-index/1 file"):
        TextIndex(tmp_path / "bad.npz").lookup("model-a", ["one"])


def test_model_id_depends_on_content_only(tmp_path: Path) -> None:
    source = default_minilm_path()
    copy = tmp_path / "model"
    shutil.copytree(source, copy)  # new path, new modification times
    assert _fingerprint(str(copy)) == _fingerprint(str(source))
    assert SentenceTextEncoder(copy).model_id.split("#")[1] == _fingerprint(str(source))
    config = copy / "config.json"
    config.write_text(config.read_text().replace("}", ', "note": 1}', 1))
    assert _fingerprint(str(copy)) != _fingerprint(str(source))


def test_cached_encoders_are_shared_per_model_and_directory(tmp_path: Path) -> None:
    first = make_text_encoder("minilm", cache_dir=tmp_path)
    assert make_text_encoder("minilm", cache_dir=str(tmp_path)) is first
    assert isinstance(first, CachedTextEncoder) and first.index is shipped_index()
    assert make_text_encoder("minilm", cache_dir=tmp_path / "other") is not first
