"""Text encoders and the on-disk cache, with real models.

MiniLM is the real offline default. No CLIP weights exist offline, so the CLIP backend
is exercised on a tiny randomly initialised CLIP text tower saved with
``save_pretrained`` (the same files a real checkpoint has, just small).
"""

from __future__ import annotations

import string
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from dynapurls_ros.text.descriptions import SLOTS, label_only_description
from dynapurls_ros.text.encoder import (
    CachedTextEncoder,
    ClipTextEncoder,
    SentenceTextEncoder,
    encode_descriptions,
    make_text_encoder,
)


def _save_tiny_clip(path: Path, seed: int) -> Path:
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in string.ascii_lowercase:
        vocab[char] = len(vocab)
        vocab[char + "</w>"] = len(vocab)
    torch.manual_seed(seed)
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=64,
        projection_dim=16,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    CLIPTextModelWithProjection(config).save_pretrained(path)
    CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(path)
    return path


class CountingClip(ClipTextEncoder):
    """The real CLIP backend, counting how many texts reach the network."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.texts_embedded = 0

    def _embed(self, texts: list[str]) -> torch.Tensor:
        self.texts_embedded += len(texts)
        return super()._embed(texts)


@pytest.fixture(scope="module")
def clip_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("clip")
    return _save_tiny_clip(root / "a", seed=0), _save_tiny_clip(root / "b", seed=1)


@pytest.fixture(scope="module")
def minilm() -> SentenceTextEncoder:
    return SentenceTextEncoder()


def test_minilm_gives_384d_unit_vectors_with_sensible_similarities(
    minilm: SentenceTextEncoder,
) -> None:
    vectors = minilm.encode(["wave hand", "waving", "sit down", "wave hand"])
    assert vectors.shape == (4, 384) and vectors.dtype == torch.float32
    torch.testing.assert_close(vectors.norm(dim=-1), torch.ones(4))
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # "wave hand" ~ "waving", not "sit down"
    torch.testing.assert_close(vectors[0], vectors[3])  # duplicates encode identically
    assert minilm.model_id.startswith("sentence:all-MiniLM-L6-v2#")
    assert minilm.encode([]).shape == (0, 384)


def test_batching_does_not_change_vectors(minilm: SentenceTextEncoder) -> None:
    texts = ["a person jumps", "the right hand rises above the head slowly", "sit"]
    together = minilm.encode(texts)
    alone = torch.cat([minilm.encode([text]) for text in texts])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


def test_encode_descriptions_shape(minilm: SentenceTextEncoder) -> None:
    descs = [label_only_description("wave"), label_only_description("sit down")]
    class_text = encode_descriptions(minilm, descs)
    assert class_text.shape == (2, len(SLOTS), 384)
    torch.testing.assert_close(class_text[1, 3], minilm.encode([descs[1]["legs"]])[0])


def test_encode_rejects_a_bare_string(minilm: SentenceTextEncoder) -> None:
    with pytest.raises(TypeError, match="not a single string"):
        minilm.encode("wave")
    with pytest.raises(TypeError, match="item 1 is int"):
        minilm.encode(["wave", 3])


def test_clip_backend_and_factory(clip_dirs: tuple[Path, Path]) -> None:
    encoder = make_text_encoder(f"clip:{clip_dirs[0]}")
    assert isinstance(encoder, ClipTextEncoder) and encoder.dim == 16
    vectors = encoder.encode(["wave hand", "sit down"])
    assert vectors.shape == (2, 16)
    torch.testing.assert_close(vectors.norm(dim=-1), torch.ones(2))
    torch.testing.assert_close(encoder.encode(["sit down"])[0], vectors[1])
    assert encoder.model_id != make_text_encoder(f"clip:{clip_dirs[1]}").model_id
    with pytest.raises(ValueError, match="unknown text encoder spec 'bert'"):
        make_text_encoder("bert")
    with pytest.raises(ValueError, match="unknown text encoder spec 'clip:'"):
        make_text_encoder("clip:")


def test_cache_hits_skip_the_model_and_match_fresh_vectors(
    clip_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    texts = ["wave hand", "sit down", "jump", "wave hand"]
    fresh = ClipTextEncoder(clip_dirs[0]).encode(texts)

    counting = CountingClip(clip_dirs[0])
    cached = CachedTextEncoder(counting, tmp_path)
    torch.testing.assert_close(cached.encode(texts), fresh)
    assert counting.texts_embedded == 3  # the duplicate was encoded once
    cached.encode(texts)
    assert counting.texts_embedded == 3  # in-memory hit

    # A new process (new wrapper, same directory) reads the .npy files only.
    reloaded_model = CountingClip(clip_dirs[0])
    reloaded = CachedTextEncoder(reloaded_model, tmp_path)
    torch.testing.assert_close(reloaded.encode(texts), fresh)
    assert reloaded_model.texts_embedded == 0

    # Changing one label re-encodes only its text.
    reloaded.encode(["wave hand", "sit down", "crouch"])
    assert reloaded_model.texts_embedded == 1
    files = sorted(reloaded.directory.glob("*"))
    assert len(files) == 4 and all(f.suffix == ".npy" for f in files)  # no temp files left
    assert np.load(files[0], allow_pickle=False).dtype == np.float32


def test_cache_keeps_model_ids_apart(clip_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    first = CachedTextEncoder(ClipTextEncoder(clip_dirs[0]), tmp_path)
    second_model = CountingClip(clip_dirs[1])
    second = CachedTextEncoder(second_model, tmp_path)
    a = first.encode(["wave hand"])
    b = second.encode(["wave hand"])
    assert second_model.texts_embedded == 1  # not served from the other model's files
    assert first.directory != second.directory
    assert not torch.allclose(a, b)
    torch.testing.assert_close(b, ClipTextEncoder(clip_dirs[1]).encode(["wave hand"]))


def test_corrupt_cache_file_is_re_encoded_with_a_warning(
    clip_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    cached = CachedTextEncoder(ClipTextEncoder(clip_dirs[0]), tmp_path)
    expected = cached.encode(["jump"])
    (path,) = cached.directory.glob("*.npy")
    path.write_bytes(b"not a numpy file")
    model = CountingClip(clip_dirs[0])
    with pytest.warns(UserWarning, match="unreadable cached text vector"):
        again = CachedTextEncoder(model, tmp_path).encode(["jump"])
    torch.testing.assert_close(again, expected)
    assert model.texts_embedded == 1
    np.save(path, np.zeros(16, dtype=np.float32))  # readable but not a unit vector
    with pytest.warns(UserWarning, match="invalid cached text vector"):
        CachedTextEncoder(ClipTextEncoder(clip_dirs[0]), tmp_path).encode(["jump"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired: no warning any more
        CachedTextEncoder(ClipTextEncoder(clip_dirs[0]), tmp_path).encode(["jump"])
