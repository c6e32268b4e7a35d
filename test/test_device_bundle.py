"""The GPU-machine bundle (benchmarks/device_bundle.py): packed clips come back within the
1 mm resolution, and a bundled run serves cached text vectors only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import device_bundle
from dynapurls_ros.datasets import load_dataset
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text import encoder as text_encoder
from dynapurls_ros.text.encoder import CachedTextEncoder
from dynapurls_ros.training.windows import canonical_clip


def test_packed_clips_round_trip_real_gtu3d(tmp_path: Path) -> None:
    dataset = load_dataset("gtu3d")
    samples = dataset.samples[:40]
    clips = [canonical_clip(s, dataset.layout, s.fps) for s in samples]
    decoded = device_bundle.decode_clips(device_bundle.encode_clips(clips))
    assert [c.shape for c in decoded] == [c.shape for c in clips]
    assert max(np.abs(a - b).max() for a, b in zip(decoded, clips, strict=True)) <= 0.0005 + 1e-6


def test_jumps_beyond_int16_are_refused() -> None:
    clip = np.zeros((2, 25, 3), dtype=np.float32)
    clip[1] = 40.0  # 40 m in one frame
    with pytest.raises(ValueError, match="32 m"):
        device_bundle.encode_clips([clip])


def test_bundle_serves_only_cached_texts(tmp_path: Path, monkeypatch) -> None:
    bundle = tmp_path / "bundle"
    model_id, dim = "sentence:test#0", 4
    cache = CachedTextEncoder(device_bundle.BundledTexts(model_id, dim), bundle / "text")
    vector = torch.nn.functional.normalize(torch.arange(1.0, 5.0), dim=0)
    cache._store("a person waves", vector)
    (bundle / "text_model.json").write_text(json.dumps({"model_id": model_id, "dim": dim}))
    # install() replaces the text backend and sets the data and cache roots: restore them
    monkeypatch.setattr(text_encoder, "_load_backend", text_encoder._load_backend)
    monkeypatch.setenv("DYNAPURLS_DATA", str(tmp_path))
    monkeypatch.setenv("DYNAPURLS_CACHE", str(tmp_path))
    device_bundle.install(bundle)
    encoder = text_encoder.make_text_encoder("minilm", cache_dir=cache_dir() / "text")
    assert torch.allclose(encoder.encode(["a person waves"])[0], vector)
    with pytest.raises(KeyError, match="not in the bundle"):
        encoder.encode(["a person claps"])
