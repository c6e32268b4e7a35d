"""Training on seen classes: per-slot contrastive alignment of skeleton windows and text.

Seen classes only ever enter training; the unseen classes of a split are never looked
at here. The checkpoint is the final epoch (no selection on any test data); a stratified
held-out share of the seen clips is kept out of training for the GZSL seen-class score.
Text-motion corpora (``corpora``, e.g. CMU mocap) add broad motion-text pairs to both
stages through the global slot (see :mod:`dynapurls_ros.training.corpus`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from dynapurls_ros.checkpoint import RunInfo, save_checkpoint
from dynapurls_ros.model.dynapurls import GLOBAL_INDEX, DynaPURLS, ModelConfig
from dynapurls_ros.model.losses import slot_contrastive_loss
from dynapurls_ros.model.shift_gcn import EncoderConfig
from dynapurls_ros.paths import cache_dir
from dynapurls_ros.text.encoder import encode_descriptions, make_text_encoder
from dynapurls_ros.training.corpus import DEFAULT_MERGE, TextMotionCorpus, load_corpus
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
    every dataset is seen (how the default model is trained).

    Two stages, as in the paper (a Shift-GCN pre-trained on the seen classes, then
    frozen): ``encoder_epochs`` of seen-class classification train the skeleton
    encoder; then its tokens for ``views`` augmented windows per clip are computed
    once and ``align_epochs`` train the text alignment (partitioning, projections,
    temperatures) on them. The second stage is cheap, so variants (fusion weights,
    description sources) can share one encoder (:func:`train_alignment`).

    ``corpus`` (a text-motion corpus such as ``cmu_mocap``) joins both stages with
    weight ``corpus_weight``: its windows are aligned with their free-text
    descriptions through the global slot (texts closer than ``text_merge`` in cosine
    count as one); ``corpus_drift`` > 0 adds slow tracking wobble of up to that std
    (torso lengths) to its windows (``corpus.add_drift``, off by default). With a
    corpus only (no ``datasets``) the model has only a global slot to score with, and
    its fusion is set to global only.

    ``text_weight`` > 0 also aligns, in stage 1, every labelled window's mean token with
    its class's global description (through the global projection, as the corpus
    windows are): the encoder is then shaped by the text space, not only by the few
    seen classes' boundaries (off by default; with a corpus it is the shipped
    model's recipe, ``docs/MODEL.md``).

    ``device`` runs the network (``"cuda"`` on a GPU box); windows are still cut and
    augmented on the CPU, and the returned model is on the CPU.
    """

    datasets: list[str] = field(default_factory=lambda: ["nw_ucla"])
    corpus: str | None = None
    corpus_weight: float = 1.0
    corpus_drift: float = 0.0
    text_weight: float = 0.0
    text_merge: float = DEFAULT_MERGE
    split: str | None = None
    descriptions: str = "bank"
    encoder_epochs: int = 15
    align_epochs: int = 8
    views: int = 8
    batch_size: int = 64
    lr: float = 1e-3
    align_lr: float = 1e-3
    weight_decay: float = 1e-3
    window_length: int = 48
    frame_rate: float = 30.0
    holdout: float = 0.1
    seed: int = 0
    fusion: tuple[float, float, float] = (1.0, 1.0, 1.0)
    text_encoder: str = "minilm"
    encoder: dict[str, Any] = field(default_factory=dict)
    threads: int = 0
    device: str = "cpu"
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.split is not None and len(self.datasets) != 1:
            raise ValueError("a zero-shot split applies to exactly one dataset")
        if not self.datasets and not self.corpus:
            raise ValueError("nothing to train on: give datasets and/or a corpus")
        if not self.datasets:
            self.fusion = (1.0, 0.0, 0.0)  # parts and phases need labelled descriptions
        if min(self.encoder_epochs, self.align_epochs, self.views) < 1 or self.batch_size < 2:
            raise ValueError("epochs and views must be >= 1 and batch_size >= 2")
        if min(self.corpus_weight, self.corpus_drift, self.text_weight) < 0:
            raise ValueError("corpus_weight, corpus_drift and text_weight must be >= 0")


@dataclass
class TrainResult:
    model: DynaPURLS
    info: RunInfo
    seconds: float
    history: list[dict[str, float]]


@dataclass
class SeenData:
    """The training side of a run: seen-class clips (minus the held-out share)."""

    clips: list[np.ndarray]
    labels: torch.Tensor
    seen_names: list[str]
    seen_origin: list[str]
    heldout: list[str]


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def load_seen(config: TrainConfig) -> SeenData:
    if not config.datasets:
        return SeenData([], torch.zeros(0, dtype=torch.long), [], [], [])
    clipset, origin = load_clips(config.datasets, config.frame_rate, config.dataset_options)
    seen, _ = split_classes(config.datasets[0], config.split, len(clipset.class_names))
    seen_set = clipset.subset(np.isin(clipset.labels, seen))
    heldout = holdout_mask(seen_set.labels, config.holdout, config.seed)
    train_set = seen_set.subset(~heldout)
    remap = {cls: i for i, cls in enumerate(seen)}
    return SeenData(
        clips=train_set.clips,
        labels=torch.tensor([remap[int(y)] for y in train_set.labels]),
        seen_names=[clipset.class_names[c] for c in seen],
        seen_origin=[origin[c] for c in seen],
        heldout=[seen_set.names[i] for i in np.flatnonzero(heldout)],
    )


def _batches(count: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(count)
    batches = [order[i : i + batch_size] for i in range(0, count, batch_size)]
    return [b for b in batches if len(b) >= 2]  # BatchNorm needs two samples


def _optimizer(params, lr: float, weight_decay: float, epochs: int, steps: int):
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, lr, total_steps=max(1, epochs * steps), pct_start=0.15
    )
    return optimizer, schedule


Step = tuple[np.ndarray | None, np.ndarray | None]  # (labelled clips, corpus clips)


def _stage1_steps(
    num_labelled: int,
    corpus: TextMotionCorpus | None,
    config: TrainConfig,
    rng: np.random.Generator,
) -> list[Step]:
    """One epoch of stage 1: labelled batches paired with corpus batches; the shorter
    list is cycled so that every step sees both (each time with new random crops)."""
    labelled = _batches(num_labelled, config.batch_size, rng) if num_labelled else []
    from_corpus: list[np.ndarray] = []
    if corpus is not None:
        order = corpus.epoch(config.window_length, rng)
        size = config.batch_size
        from_corpus = [order[i : i + size] for i in range(0, len(order), size)]
        from_corpus = [b for b in from_corpus if len(b) >= 2]
    steps = max(len(labelled), len(from_corpus))
    return [
        (
            labelled[i % len(labelled)] if labelled else None,
            from_corpus[i % len(from_corpus)] if from_corpus else None,
        )
        for i in range(steps)
    ]


def pretrain_encoder(
    model: DynaPURLS,
    data: SeenData,
    config: TrainConfig,
    progress: bool,
    corpus: TextMotionCorpus | None = None,
    class_text: torch.Tensor | None = None,
) -> list[dict[str, float]]:
    """Stage 1: seen-class classification through the auxiliary head (label smoothing
    keeps the features from collapsing onto the few seen classes), plus, with a
    corpus, text-motion alignment of corpus windows through the global projection,
    and with ``config.text_weight`` the same alignment of the labelled windows with
    their classes' global descriptions (``class_text``, ``(K, 8, d)``).
    Both kinds of window go through the encoder in one batch, so its BatchNorm
    statistics cover both."""
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = torch.device(config.device)
    params = list(model.encoder.parameters())
    if model.aux_head is not None:
        params += model.aux_head.parameters()
    align_text = config.text_weight > 0
    if align_text and class_text is None:
        raise ValueError("text_weight > 0 needs the seen classes' texts")
    if corpus is not None or align_text:
        params += [*model.global_proj.parameters(), *model.temperature.parameters()]
    global_text = F.normalize(class_text[:, GLOBAL_INDEX], dim=-1) if align_text else None
    num_labelled = len(data.labels)
    steps = len(_stage1_steps(num_labelled, corpus, config, np.random.default_rng(0)))
    optimizer, schedule = _optimizer(
        params, config.lr, config.weight_decay, config.encoder_epochs, steps
    )
    model.train()
    history = []
    bar = tqdm(range(config.encoder_epochs), desc="encoder", disable=not progress, leave=False)
    for epoch in bar:
        sums = dict.fromkeys(("loss", "corpus_loss", "text_loss", "correct", "count", "steps"), 0)
        for labelled, from_corpus in _stage1_steps(num_labelled, corpus, config, rng):
            parts = []
            if labelled is not None:
                parts += [random_window(data.clips[i], config.window_length, rng) for i in labelled]
            if from_corpus is not None:
                parts += list(corpus.windows(from_corpus, config.window_length, rng))
            x = augment(torch.from_numpy(np.stack(parts)), generator)
            tokens = model.tokens(x.to(device, non_blocking=True))
            split = 0 if labelled is None else len(labelled)
            loss = torch.zeros((), device=device)
            if labelled is not None:
                y = data.labels[labelled].to(device)
                logits = model.aux_logits(tokens[:split])
                loss = F.cross_entropy(logits, y, label_smoothing=0.1)
                sums["loss"] += loss.item()
                sums["correct"] += int((logits.argmax(1) == y).sum())
                sums["count"] += split
                if global_text is not None:
                    mean_tokens = tokens[:split].mean(dim=1)
                    text_loss = F.cross_entropy(model.global_logits(mean_tokens, global_text), y)
                    loss = loss + config.text_weight * text_loss
                    sums["text_loss"] += text_loss.item()
            if from_corpus is not None:
                corpus_loss = corpus.loss(model, tokens[split:].mean(dim=1), from_corpus)
                loss = loss + config.corpus_weight * corpus_loss
                sums["corpus_loss"] += corpus_loss.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            sums["steps"] += 1
        record = {
            "stage": 1,
            "epoch": epoch + 1,
            "loss": sums["loss"] / sums["steps"],
            "corpus_loss": sums["corpus_loss"] / sums["steps"],
            "text_loss": sums["text_loss"] / sums["steps"],
            "train_acc": 100 * sums["correct"] / max(1, sums["count"]),
        }
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.3f}", corpus=f"{record['corpus_loss']:.3f}")
    return history


@torch.inference_mode()
def frozen_tokens(
    model: DynaPURLS, data: SeenData, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens of ``views`` augmented windows per clip from the frozen encoder:
    ``(N*views, L, C)`` and their labels."""
    rng = np.random.default_rng(config.seed + 1)
    generator = torch.Generator().manual_seed(config.seed + 1)
    model.encoder.eval()
    tokens, labels = [], []
    for _ in range(config.views):
        for first in range(0, len(data.clips), 256):
            clips = data.clips[first : first + 256]
            windows = [random_window(clip, config.window_length, rng) for clip in clips]
            x = augment(torch.from_numpy(np.stack(windows)), generator)
            tokens.append(model.tokens(x.to(config.device)))
        labels.append(data.labels)
    return torch.cat(tokens), torch.cat(labels)


@dataclass
class CorpusTokens:
    """Mean tokens of ``views`` frozen-encoder windows per corpus clip (all the global
    slot needs) and the clip each came from."""

    corpus: TextMotionCorpus
    mean_tokens: torch.Tensor  # (N*views, C)
    index: np.ndarray  # (N*views,) clip indices

    def loss(self, model: DynaPURLS, rng: np.random.Generator, size: int) -> torch.Tensor:
        """Corpus loss of a random batch of ``size`` stored windows."""
        pick = rng.choice(len(self.index), size=min(size, len(self.index)), replace=False)
        return self.corpus.loss(model, self.mean_tokens[pick], self.index[pick])


@torch.inference_mode()
def corpus_tokens(model: DynaPURLS, corpus: TextMotionCorpus, config: TrainConfig) -> CorpusTokens:
    rng = np.random.default_rng(config.seed + 3)
    generator = torch.Generator().manual_seed(config.seed + 3)
    model.encoder.eval()
    index = np.tile(np.arange(len(corpus.clips)), config.views)
    means = []
    for first in range(0, len(index), 256):
        chunk = index[first : first + 256]
        x = augment(torch.from_numpy(corpus.windows(chunk, config.window_length, rng)), generator)
        means.append(model.tokens(x.to(config.device)).mean(dim=1))
    return CorpusTokens(corpus, torch.cat(means), index)


def train_alignment(
    model: DynaPURLS,
    tokens: torch.Tensor,
    labels: torch.Tensor,
    class_text: torch.Tensor,
    config: TrainConfig,
    progress: bool = False,
    corpus: CorpusTokens | None = None,
) -> list[dict[str, float]]:
    """Stage 2: per-slot contrastive alignment of frozen tokens with the seen classes'
    texts, using the same candidate-query scores as inference. Slots whose fusion weight
    is zero are not trained (ablation rows). With ``corpus``, every step also aligns a
    batch of corpus windows with their texts (weight ``corpus_weight``), so that the
    global projection keeps the corpus' breadth instead of fitting the seen classes."""
    rng = np.random.default_rng(config.seed + 2)
    slots = model.slot_weights > 0
    params = [
        *model.partition.parameters(),
        *model.local_proj.parameters(),
        *model.global_proj.parameters(),
        *model.temperature.parameters(),
    ]
    batch = 2 * config.batch_size
    steps = len(_batches(len(labels), batch, rng))
    optimizer, schedule = _optimizer(
        params, config.align_lr, config.weight_decay, config.align_epochs, steps
    )
    model.train()
    model.encoder.eval()
    history = []
    bar = tqdm(range(config.align_epochs), desc="align", disable=not progress, leave=False)
    for epoch in bar:
        total, correct = 0.0, 0
        for index in _batches(len(labels), batch, rng):
            y = labels[index]
            sims = model.token_similarities(tokens[index], class_text)
            loss = slot_contrastive_loss(sims[..., slots], y, model.temperature()[slots]).total
            if corpus is not None:
                loss = loss + config.corpus_weight * corpus.loss(model, rng, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
            correct += int((model.fuse(sims.detach()).argmax(1) == y).sum())
        record = {
            "stage": 2,
            "epoch": epoch + 1,
            "loss": total / len(labels),
            "train_acc": 100 * correct / len(labels),
        }
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['train_acc']:.1f}")
    model.eval()
    return history


def build_model(config: TrainConfig, text_dim: int, num_seen: int) -> DynaPURLS:
    return DynaPURLS(
        ModelConfig(
            encoder=EncoderConfig.from_dict(config.encoder) if config.encoder else EncoderConfig(),
            text_encoder=config.text_encoder,
            text_dim=text_dim,
            fusion=config.fusion,
            aux_classes=num_seen,
        )
    )


def seen_text(data: SeenData, config: TrainConfig) -> torch.Tensor:
    descriptions = class_descriptions(data.seen_names, data.seen_origin, config.descriptions)
    encoder = make_text_encoder(config.text_encoder, cache_dir=cache_dir() / "text")
    return encode_descriptions(encoder, descriptions)


def run_info(config: TrainConfig, data: SeenData) -> RunInfo:
    settings = asdict(config)
    settings["fusion"] = list(config.fusion)
    return RunInfo(
        window_length=config.window_length,
        frame_rate=config.frame_rate,
        seen_labels=data.seen_names,
        datasets=list(config.datasets),
        split=config.split,
        description_source=config.descriptions,
        settings=settings,
        heldout=data.heldout,
    )


def load_training_corpus(config: TrainConfig) -> TextMotionCorpus | None:
    if config.corpus is None:
        return None
    options = config.dataset_options.get(config.corpus)
    corpus = load_corpus(
        config.corpus, config.frame_rate, config.text_encoder, config.text_merge, options
    )
    return replace(corpus, drift=config.corpus_drift)


@dataclass
class EncoderStage:
    """Stage 1 done, stage 2 ready to run: the model with its trained encoder, the seen
    classes' texts and the frozen tokens stage 2 aligns (``None`` with a corpus only,
    where stage 1 trained all there is). Several stage-2 variants can share one."""

    model: DynaPURLS
    data: SeenData
    class_text: torch.Tensor | None
    tokens: torch.Tensor | None
    labels: torch.Tensor | None
    corpus: CorpusTokens | None
    history: list[dict[str, float]]


def train_encoder_stage(config: TrainConfig, progress: bool = True) -> EncoderStage:
    """Seed, load the data (and corpus), build the model and run stage 1 on
    ``config.device``; then compute the frozen tokens for stage 2."""
    seed_everything(config.seed)
    device = torch.device(config.device)
    data = load_seen(config)
    corpus = load_training_corpus(config)
    if corpus is not None:
        corpus = corpus.to(device)
    class_text = seen_text(data, config).to(device) if data.seen_names else None
    text_dim = corpus.embeddings.shape[-1] if class_text is None else class_text.shape[-1]
    model = build_model(config, text_dim, len(data.seen_names)).to(device)
    history = pretrain_encoder(model, data, config, progress, corpus, class_text)
    if class_text is None:
        return EncoderStage(model, data, None, None, None, None, history)
    tokens, labels = frozen_tokens(model, data, config)
    extra = None if corpus is None else corpus_tokens(model, corpus, config)
    return EncoderStage(model, data, class_text, tokens, labels.to(device), extra, history)


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    """Train a model on the seen classes (and corpus) of ``config``; eval mode."""
    if config.threads:
        torch.set_num_threads(config.threads)
    start = time.perf_counter()
    stage = train_encoder_stage(config, progress)
    model, history = stage.model, stage.history
    if stage.class_text is not None:
        history += train_alignment(
            model, stage.tokens, stage.labels, stage.class_text, config, progress, stage.corpus
        )
    model.cpu().eval()
    return TrainResult(model, run_info(config, stage.data), time.perf_counter() - start, history)


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
