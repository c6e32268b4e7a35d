"""Training on a GPU box that has neither the datasets nor the text model.

The lent GPU machine takes at most 64 MiB of files and has no copy of ../shared/data or
of the offline MiniLM. ``pack`` writes, here, a bundle holding what a training or
evaluation run reads:

- each named dataset as canonical clips (the readers' output after ``canonical_clip``
  at the recording's own rate), positions rounded to 1 mm and stored as per-frame
  differences, lzma-compressed (CMU's 132 MB of float16 become about 33 MB);
- the on-disk text-vector cache, so that every text the runs need is looked up instead
  of encoded;
- the small files the benchmarks read from the data root: the zero-shot splits and the
  paper authors' descriptions (comparison rows).

``run`` starts a script or module with the bundle installed: the dataset loaders read
the packed clips, the data root is the bundle's ``data`` folder, and the text encoder
serves cached vectors only (a text missing from the bundle is an error that names it,
never a silent substitute). Pack after one local run of the same jobs has filled the
cache. The bundle stays out of git (it is derived from the datasets).

    python -m benchmarks.device_bundle pack bundle --datasets cmu_mocap nw_ucla gtu3d
    python -m benchmarks.device_bundle run bundle -m benchmarks.transfer --device cuda
    python -m benchmarks.device_bundle run bundle -m dynapurls_ros train --device cuda ...
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import lzma
import os
import runpy
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from dynapurls_ros import datasets
from dynapurls_ros.datasets import SkeletonDataset, SkeletonSample, load_dataset
from dynapurls_ros.paths import cache_dir, data_root
from dynapurls_ros.skeleton.layouts import CANONICAL
from dynapurls_ros.text import encoder as text_encoder
from dynapurls_ros.text.encoder import TextEncoder
from dynapurls_ros.training.windows import canonical_clip

RESOLUTION = 1000.0  # stored units per metre
DATA_FILES = ("splits", "reference")  # folders of the data root the benchmarks read


def encode_clips(clips: Sequence[np.ndarray]) -> bytes:
    """``(T, 25, 3)`` clips -> compressed first frames and per-frame steps."""
    quantised = [
        np.round(clip.reshape(len(clip), -1) * RESOLUTION).astype(np.int32) for clip in clips
    ]
    first = np.stack([q[0] for q in quantised])
    steps = np.concatenate([np.diff(q, axis=0, prepend=q[:1]) for q in quantised])
    if np.abs(steps).max() > np.iinfo(np.int16).max:
        raise ValueError("a joint moves more than 32 m between frames: not a skeleton")
    buffer = io.BytesIO()
    np.savez(
        buffer,
        first=first,
        steps=np.ascontiguousarray(steps.T.astype(np.int16)),  # joint-major compresses better
        frames=np.array([len(q) for q in quantised]),
    )
    return lzma.compress(buffer.getvalue(), preset=6)


def decode_clips(blob: bytes) -> list[np.ndarray]:
    arrays = np.load(io.BytesIO(lzma.decompress(blob)), allow_pickle=False)
    steps = arrays["steps"].T.astype(np.int32)
    ends = np.cumsum(arrays["frames"])
    clips = []
    for first, end, frames in zip(arrays["first"], ends, arrays["frames"], strict=True):
        positions = first + np.cumsum(steps[end - frames : end], axis=0)
        clips.append((positions / RESOLUTION).astype(np.float32).reshape(frames, 25, 3))
    return clips


def pack(out: Path, names: Sequence[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        dataset = load_dataset(name)
        clips = [canonical_clip(s, dataset.layout, s.fps) for s in dataset.samples]
        (out / f"{name}.xz").write_bytes(encode_clips(clips))
        meta = {
            "class_names": dataset.class_names,
            "samples": [[s.name, s.label, s.fps] for s in dataset.samples],
        }
        (out / f"{name}.json").write_text(json.dumps(meta))
        print(f"{name}: {len(clips)} clips, {(out / f'{name}.xz').stat().st_size / 1e6:.1f} MB")
    for folder in DATA_FILES:
        target = out / "data" / folder
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(data_root() / folder, target)
    encoder = text_encoder.make_text_encoder("minilm", cache_dir=cache_dir() / "text")
    text = out / "text" / encoder.directory.name
    if text.exists():
        shutil.rmtree(text)
    shutil.copytree(encoder.directory, text)
    meta = {"model_id": encoder.model_id, "dim": encoder.dim}
    (out / "text_model.json").write_text(json.dumps(meta))


def packed_loader(bundle: Path, name: str):
    """A loader for ``load_dataset(name)``: decoded once per process and then shared, with
    read-only arrays, as the dataset readers do (runs load a dataset several times)."""

    @functools.cache
    def load_once() -> SkeletonDataset:
        meta = json.loads((bundle / f"{name}.json").read_text())
        clips = decode_clips((bundle / f"{name}.xz").read_bytes())
        for clip in clips:
            clip.setflags(write=False)
        samples = [
            SkeletonSample(name=sample, joints=clip, label=label, fps=fps)
            for (sample, label, fps), clip in zip(meta["samples"], clips, strict=True)
        ]
        return SkeletonDataset(name, CANONICAL, meta["class_names"], samples)

    def load(root: object = None, **options: object) -> SkeletonDataset:
        return load_once()

    return load


class BundledTexts(TextEncoder):
    """Stands in for the text model: only what the bundle's cache holds is known."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        raise KeyError(f"texts not in the bundle's cache (pack after a local run): {texts[:3]}")


def install(bundle: Path) -> None:
    """Point this process's dataset loaders, data root and text cache at ``bundle``, and
    put a model that knows only the cached vectors behind every text encoder."""
    bundle = bundle.resolve()
    os.environ["DYNAPURLS_DATA"] = str(bundle / "data")
    os.environ["DYNAPURLS_CACHE"] = str(bundle)  # the cache holds text/<model key>/
    for packed in bundle.glob("*.xz"):
        datasets.LOADERS[packed.stem] = packed_loader(bundle, packed.stem)
    model_id, dim = json.loads((bundle / "text_model.json").read_text()).values()
    text_encoder._load_backend = lambda spec: BundledTexts(model_id, dim)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pack_cmd = sub.add_parser("pack", help="write a bundle here")
    pack_cmd.add_argument("bundle", type=Path)
    pack_cmd.add_argument("--datasets", nargs="*", default=[], help="(again) pack these")
    run_cmd = sub.add_parser("run", help="run a script (or -m module) with a bundle installed")
    run_cmd.add_argument("bundle", type=Path)
    run_cmd.add_argument("target", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.bundle, args.datasets)
        return 0
    install(args.bundle)
    target = args.target
    if target[:1] == ["-m"]:
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = target
        sys.path.insert(0, str(Path(target[0]).resolve().parent))
        runpy.run_path(target[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
