"""Training on seen classes: per-slot contrastive alignment of skeleton windows and text.

Seen classes only ever enter training; the unseen classes of a split are never looked
at here. The checkpoint is the final epoch (no selection on any test data); a stratified
held-out share of the seen clips is kept out of training for the GZSL seen-class score.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from dynapurls_ros.checkpoint import RunInfo, save_checkpoint
from dynapurls_ros.model.dynapurls import DynaPURLS, ModelConfig
from dynapurls_ros.model.losses import slot_contrastive_loss
from dynapurls_ros.model.shift_gcn import EncoderConfig
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.training.data import (
    class_descriptions,
    holdout_mask,
    load_clips,
    split_classes,
)
from dynapurls_ros.training.windows import augment, random_window


@dataclass
class TrainConfig:
    """One training run. ``split`` needs exactly one dataset; without it every class of
    every dataset is seen (how the default model is trained)."""

    datasets: list[str] = field(default_factory=lambda: ["nw_ucla"])
    split: str | None = None
    descriptions: str = "bank"
    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-3
    window_length: int = 48
    frame_rate: float = 30.0
    aux_weight: float = 0.5
    holdout: float = 0.1
    seed: int = 0
    fusion: tuple[float, float, float] = (1.0, 1.0, 1.0)
    text_encoder: str = "minilm"
    encoder: dict[str, Any] = field(default_factory=dict)
    threads: int = 0
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.split is not None and len(self.datasets) != 1:
            raise ValueError("a zero-shot split applies to exactly one dataset")
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError("epochs must be >= 1 and batch_size >= 2")


@dataclass
class TrainResult:
    model: DynaPURLS
    info: RunInfo
    seconds: float
    history: list[dict[str, float]]


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    """Train a model on the seen classes of ``config`` and return it (eval mode)."""
    if config.threads:
        torch.set_num_threads(config.threads)
    generator = seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    start = time.perf_counter()

    clipset, origin = load_clips(config.datasets, config.frame_rate, config.dataset_options)
    seen, _ = split_classes(config.datasets[0], config.split, len(clipset.class_names))
    seen_set = clipset.subset(np.isin(clipset.labels, seen))
    heldout = holdout_mask(seen_set.labels, config.holdout, config.seed)
    train_set = seen_set.subset(~heldout)
    remap = {cls: i for i, cls in enumerate(seen)}
    labels = torch.tensor([remap[int(y)] for y in train_set.labels])

    seen_names = [clipset.class_names[c] for c in seen]
    descriptions = class_descriptions(seen_names, [origin[c] for c in seen], config.descriptions)
    encoder = make_text_encoder(config.text_encoder, cache_dir=cache_dir() / "text")
    class_text = encode_descriptions(encoder, descriptions)

    model = DynaPURLS(
        ModelConfig(
            encoder=EncoderConfig.from_dict(config.encoder) if config.encoder else EncoderConfig(),
            text_encoder=config.text_encoder,
            text_dim=encoder.dim,
            fusion=config.fusion,
            aux_classes=len(seen) if config.aux_weight > 0 else 0,
        )
    )
    slots = torch.tensor([w > 0 for w in model.slot_weights.tolist()])
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(labels) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.15
    )

    history = []
    model.train()
    bar = tqdm(range(config.epochs), desc="train", disable=not progress, leave=False)
    for epoch in bar:
        order = rng.permutation(len(labels))
        total, correct = 0.0, 0
        for first in range(0, len(order), config.batch_size):
            index = order[first : first + config.batch_size]
            if len(index) < 2:  # BatchNorm needs two samples
                continue
            windows = np.stack(
                [random_window(train_set.clips[i], config.window_length, rng) for i in index]
            )
            x = augment(torch.from_numpy(windows), generator)
            y = labels[index]
            tokens = model.tokens(x)
            sims = model.token_similarities(tokens, class_text)
            loss = slot_contrastive_loss(
                sims[..., slots],
                y,
                model.temperature()[slots],
                aux_logits=model.aux_logits(tokens) if config.aux_weight > 0 else None,
                aux_weight=config.aux_weight,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.total.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.total) * len(index)
            correct += int((model.fuse(sims.detach()).argmax(1) == y).sum())
        record = {
            "epoch": epoch + 1,
            "loss": total / len(labels),
            "train_acc": 100 * correct / len(labels),
        }
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['train_acc']:.1f}")

    model.eval()
    settings = asdict(config)
    settings["fusion"] = list(config.fusion)
    info = RunInfo(
        window_length=config.window_length,
        frame_rate=config.frame_rate,
        seen_labels=seen_names,
        datasets=list(config.datasets),
        split=config.split,
        description_source=config.descriptions,
        settings=settings,
        heldout=[seen_set.names[i] for i in np.flatnonzero(heldout)],
    )
    return TrainResult(model, info, time.perf_counter() - start, history)


def train_to_file(config: TrainConfig, output: str | Path, progress: bool = True) -> TrainResult:
    result = train(config, progress)
    save_checkpoint(output, result.model, result.info)
    return result


def parse_fusion(text: str | Sequence[float]) -> tuple[float, float, float]:
    """``"1,1,1"`` -> (global, parts, phases) weights."""
    values = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    if len(values) != 3:
        raise ValueError(f"fusion needs three weights (global,parts,phases), got {text!r}")
    return values[0], values[1], values[2]
