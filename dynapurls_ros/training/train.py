"""Training on seen classes: per-slot contrastive alignment of skeleton windows and text.

Seen classes only ever enter training; the unseen classes of a split are never looked
at here. The checkpoint is the final epoch (no selection on any test data); a stratified
held-out share of the seen clips is kept out of training for the GZSL seen-class score.
Text-motion corpora (``corpus``, e.g. CMU mocap) add broad motion-text pairs to both
stages through the global slot (see :mod:`dynapurls_ros.training.corpus`).

Every setting of a run is a field of :class:`TrainConfig`, with its meaning in the
field's ``help``: the ``dynapurls train`` options are built from them, so the command
line and the library cannot drift apart.
"""

from __future__ import annotations

import random
import time
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
from dynapurls_ros.training.augment import (
    Augmentation,
    add_jitter,
    augment,
    mirror,
    scale_bones,
    sensor_map,
)
from dynapurls_ros.training.calibration import training_references
from dynapurls_ros.training.corpus import CORPUS_WEIGHT, TextMotionCorpus, load_corpus
from dynapurls_ros.training.data import holdout_mask, load_clips, report_left_out, split_classes
from dynapurls_ros.training.texts import (
    ClassSet,
    ClassTexts,
    class_set,
    encode_class_texts,
    same_slots,
)
from dynapurls_ros.training.windows import MODEL_FRAME_RATE, random_window

BATCH_SIZE = 64  # labelled windows per stage-1 step (stage 2 takes twice as many)
LEARNING_RATE = 1e-3  # peak of the one-cycle schedule, both stages
WEIGHT_DECAY = 1e-3  # AdamW
HOLDOUT_SHARE = 0.1  # seen clips kept out of training for the GZSL seen-class score
# Slot texts of two classes at least this similar (MiniLM cosine, same side words) are
# positives of each other (losses.slot_contrastive_loss): many actions share what one
# part does. Chosen by reading the bank's pairs before any accuracy run: above 0.8 the
# pairs say the same thing ("legs stand still, feet planted ..."). None: off.
SLOT_MERGE: float | None = None
FULL_FUSION = (1.0, 1.0, 1.0)  # global, parts, phases
GLOBAL_ONLY = (1.0, 0.0, 0.0)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class TrainConfig:
    """One training run. ``split`` needs exactly one dataset; without it every class of
    every dataset is seen (how the default model is trained).

    Two stages, as in the paper (a Shift-GCN pre-trained on the seen classes, then
    frozen): ``encoder_epochs`` of seen-class classification (plus, with
    ``text_weight``, alignment of each window's global vector with its class's global
    text) train the skeleton encoder; then its tokens for ``views`` augmented windows
    per clip are computed once and ``align_epochs`` train the text alignment
    (partitioning, projections, temperatures) on them. A corpus joins both stages.
    With a corpus only (no ``datasets``) the model has only a global slot.
    """

    datasets: list[str] = field(
        default_factory=lambda: ["nw_ucla"],
        metadata=_help("labelled datasets to train on (repeat --dataset to combine)"),
    )
    corpus: str | None = field(
        default=None,
        metadata=_help(
            "text-motion corpus added to both stages (cmu_mocap); alone, "
            "without --dataset, a corpus-only model (global slot)"
        ),
    )
    split: str | None = field(
        default=None, metadata=_help("zero-shot split of the one dataset, e.g. 5/5, 8/2, 22/5")
    )
    descriptions: str = field(
        default="bank",
        metadata=_help(
            "class texts: bank, labels, template, reference, or varied (bank "
            "description, label and synonyms, one drawn per step)"
        ),
    )
    text_weight: float = field(
        default=0.0, metadata=_help("stage-1 weight of aligning windows with their global texts")
    )
    encoder_epochs: int = field(default=10, metadata=_help("stage-1 (encoder) epochs"))
    align_epochs: int = field(default=8, metadata=_help("stage-2 (text alignment) epochs"))
    views: int = field(default=4, metadata=_help("augmented windows per clip in stage 2"))
    window_length: int = field(default=48, metadata=_help("frames per window at 30 fps"))
    seed: int = field(default=0, metadata=_help("seed of data order, augmentation and init"))
    text_encoder: str = field(
        default="minilm", metadata=_help("minilm | sentence:PATH | clip:PATH")
    )
    device: str = field(default="cpu", metadata=_help("torch device of the network (cpu, cuda)"))
    encoder: dict[str, Any] = field(default_factory=dict)  # EncoderConfig overrides
    augmentation: Augmentation = field(default_factory=Augmentation)
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.augmentation, dict):  # from a checkpoint's settings
            self.augmentation = Augmentation(**self.augmentation)
        if self.split is not None and len(self.datasets) != 1:
            raise ValueError("a zero-shot split applies to exactly one dataset")
        if not self.datasets and not self.corpus:
            raise ValueError("nothing to train on: give datasets and/or a corpus")
        if min(self.encoder_epochs, self.align_epochs, self.views) < 1:
            raise ValueError("epochs and views must be >= 1")
        if self.text_weight < 0:
            raise ValueError("text_weight must be >= 0")

    @property
    def fusion(self) -> tuple[float, float, float]:
        """All slots; global only without labelled data (parts and phases need the
        labelled classes' descriptions)."""
        return FULL_FUSION if self.datasets else GLOBAL_ONLY


@dataclass
class TrainResult:
    model: DynaPURLS
    info: RunInfo
    seconds: float
    history: list[dict[str, float]]


@dataclass
class SeenData:
    """The training side of a run: seen-class clips (minus the held-out share), their
    classes (with mirrored twins where the augmentation asks for them)."""

    clips: list[np.ndarray]
    labels: torch.Tensor
    classes: ClassSet
    origin: list[str]  # dataset of each seen class (its own bank is searched first)
    heldout: list[str]

    def described(self, config: TrainConfig) -> SeenData:
        """The same data with its classes described as ``config`` says."""
        names = self.classes.names[: self.classes.num_seen]
        mirrored = config.augmentation.mirror > 0
        classes = class_set(names, self.origin, config.descriptions, mirrored)
        return replace(self, classes=classes)


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def load_seen(config: TrainConfig) -> SeenData:
    if not config.datasets:
        return SeenData([], torch.zeros(0, dtype=torch.long), ClassSet([], [], [], 0), [], [])
    clipset, origin = load_clips(config.datasets, MODEL_FRAME_RATE, config.dataset_options)
    report_left_out(clipset)
    seen, _ = split_classes(config.datasets[0], config.split, len(clipset.class_names))
    seen_set = clipset.subset(np.isin(clipset.labels, seen))
    heldout = holdout_mask(seen_set.labels, HOLDOUT_SHARE, config.seed)
    train_set = seen_set.subset(~heldout)
    remap = {cls: i for i, cls in enumerate(seen)}
    names, origins = [clipset.class_names[c] for c in seen], [origin[c] for c in seen]
    return SeenData(
        clips=train_set.clips,
        labels=torch.tensor([remap[int(y)] for y in train_set.labels]),
        classes=class_set(names, origins, config.descriptions, config.augmentation.mirror > 0),
        origin=origins,
        heldout=[seen_set.names[i] for i in np.flatnonzero(heldout)],
    )


def labelled_windows(
    data: SeenData,
    index: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augmented model inputs ``(B, 3, T, 25)`` of clips ``index`` and their labels
    (a mirrored window takes its class's mirrored twin)."""
    aug = config.augmentation
    clips = (data.clips[i] for i in index)
    if aug.bones:
        clips = (scale_bones(clip, rng) for clip in clips)
    windows = np.stack([random_window(c, config.window_length, rng, aug.speed) for c in clips])
    if aug.jitter:
        windows = add_jitter(windows, rng, aug.jitter)
    x = torch.from_numpy(windows)
    labels = data.labels[index].clone()
    if aug.mirror:
        flip = torch.rand(len(x), generator=generator) < aug.mirror
        x[flip] = mirror(x[flip])
        labels[flip] = torch.tensor(data.classes.mirror_of)[labels[flip]]
    if aug.sensors:
        mapped = torch.rand(len(x), generator=generator) < aug.sensors
        x[mapped] = sensor_map(x[mapped], generator)
    return augment(x, generator), labels


def _same(text: torch.Tensor, sides: torch.Tensor) -> torch.Tensor | None:
    """Per slot, which classes' drawn texts count as the same (``SLOT_MERGE``)."""
    return None if SLOT_MERGE is None else same_slots(text, sides, SLOT_MERGE)


def _batches(count: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(count)
    batches = [order[i : i + batch_size] for i in range(0, count, batch_size)]
    return [b for b in batches if len(b) >= 2]  # BatchNorm needs two samples


def _optimizer(params, epochs: int, steps: int):
    optimizer = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, LEARNING_RATE, total_steps=max(1, epochs * steps), pct_start=0.15
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
    labelled = _batches(num_labelled, BATCH_SIZE, rng) if num_labelled else []
    from_corpus: list[np.ndarray] = []
    if corpus is not None:
        order = corpus.epoch(config.window_length, rng)
        from_corpus = [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]
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
    texts: ClassTexts | None = None,
) -> list[dict[str, float]]:
    """Stage 1: seen-class classification through the auxiliary head (label smoothing
    keeps the features from collapsing onto the few seen classes), plus, with a
    corpus, text-motion alignment of corpus windows through the global projection,
    and with ``config.text_weight`` the same alignment of the labelled windows with
    their classes' global texts (``texts``; a phrasing drawn per step).
    Both kinds of window go through the encoder in one batch, so its BatchNorm
    statistics cover both."""
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = torch.device(config.device)
    params = list(model.encoder.parameters())
    if model.aux_head is not None:
        params += model.aux_head.parameters()
    align_text = config.text_weight > 0
    if align_text and texts is None:
        raise ValueError("text_weight > 0 needs the seen classes' texts")
    if corpus is not None or align_text:
        params += [*model.global_proj.parameters(), *model.temperature.parameters()]
    num_labelled = len(data.labels)
    steps = len(_stage1_steps(num_labelled, corpus, config, np.random.default_rng(0)))
    optimizer, schedule = _optimizer(params, config.encoder_epochs, steps)
    model.train()
    history = []
    bar = tqdm(range(config.encoder_epochs), desc="encoder", disable=not progress, leave=False)
    for epoch in bar:
        sums = dict.fromkeys(("loss", "corpus_loss", "text_loss", "correct", "count", "steps"), 0)
        for labelled, from_corpus in _stage1_steps(num_labelled, corpus, config, rng):
            parts, y = [], None
            if labelled is not None:
                x, y = labelled_windows(data, labelled, config, rng, generator)
                parts.append(x)
                y = y.to(device)
            if from_corpus is not None:
                windows = corpus.windows(from_corpus, config.window_length, rng)
                parts.append(augment(torch.from_numpy(windows), generator))
            tokens = model.tokens(torch.cat(parts).to(device, non_blocking=True))
            split = 0 if labelled is None else len(labelled)
            loss = torch.zeros((), device=device)
            if y is not None:
                logits = model.aux_logits(tokens[:split])
                loss = F.cross_entropy(logits, y, label_smoothing=0.1)
                sums["loss"] += loss.item()
                sums["correct"] += int((logits.argmax(1) == y).sum())
                sums["count"] += split
                if align_text:
                    drawn, sides = texts.draw(generator)
                    global_text = F.normalize(drawn[:, GLOBAL_INDEX], dim=-1)
                    text_logits = model.global_logits(tokens[:split].mean(dim=1), global_text)
                    same = _same(drawn, sides)
                    if same is None:
                        text_loss = F.cross_entropy(text_logits, y)
                    else:
                        positives = same[GLOBAL_INDEX][y].to(text_logits.dtype)
                        positives = positives / positives.sum(dim=1, keepdim=True)
                        log_probs = text_logits.log_softmax(dim=1)
                        text_loss = -(positives * log_probs).sum(dim=1).mean()
                    loss = loss + config.text_weight * text_loss
                    sums["text_loss"] += text_loss.item()
            if from_corpus is not None:
                corpus_loss = corpus.loss(model, tokens[split:].mean(dim=1), from_corpus)
                loss = loss + CORPUS_WEIGHT * corpus_loss
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
            index = np.arange(first, min(first + 256, len(data.clips)))
            x, y = labelled_windows(data, index, config, rng, generator)
            tokens.append(model.tokens(x.to(config.device)))
            labels.append(y)
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
    texts: ClassTexts,
    config: TrainConfig,
    progress: bool = False,
    corpus: CorpusTokens | None = None,
) -> list[dict[str, float]]:
    """Stage 2: per-slot contrastive alignment of frozen tokens with the seen classes'
    texts (a phrasing per class drawn for every batch), using the same candidate-query
    scores as inference. Slots whose fusion weight is zero are not trained (ablation
    rows). With ``corpus``, every step also aligns a batch of corpus windows with their
    texts, so that the global projection keeps the corpus' breadth instead of fitting
    the seen classes."""
    rng = np.random.default_rng(config.seed + 2)
    generator = torch.Generator().manual_seed(config.seed + 2)
    slots = model.slot_weights > 0
    params = [
        *model.partition.parameters(),
        *model.local_proj.parameters(),
        *model.global_proj.parameters(),
        *model.temperature.parameters(),
    ]
    batch = 2 * BATCH_SIZE
    steps = len(_batches(len(labels), batch, rng))
    optimizer, schedule = _optimizer(params, config.align_epochs, steps)
    model.train()
    model.encoder.eval()
    history = []
    bar = tqdm(range(config.align_epochs), desc="align", disable=not progress, leave=False)
    for epoch in bar:
        total, correct = 0.0, 0
        for index in _batches(len(labels), batch, rng):
            y = labels[index]
            drawn, sides = texts.draw(generator)
            sims = model.token_similarities(tokens[index], drawn)
            same = _same(drawn, sides)
            loss = slot_contrastive_loss(
                sims[..., slots],
                y,
                model.temperature()[slots],
                None if same is None else same[slots],
            ).total
            if corpus is not None:
                loss = loss + CORPUS_WEIGHT * corpus.loss(model, rng, batch)
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


def build_model(config: TrainConfig, text_dim: int, num_classes: int) -> DynaPURLS:
    return DynaPURLS(
        ModelConfig(
            encoder=EncoderConfig.from_dict(config.encoder) if config.encoder else EncoderConfig(),
            text_encoder=config.text_encoder,
            text_dim=text_dim,
            fusion=config.fusion,
            aux_classes=num_classes,
        )
    )


def run_info(config: TrainConfig, data: SeenData) -> RunInfo:
    return RunInfo(
        window_length=config.window_length,
        frame_rate=MODEL_FRAME_RATE,
        seen_labels=data.classes.names[: data.classes.num_seen],
        datasets=list(config.datasets),
        split=config.split,
        description_source=config.descriptions,
        settings=asdict(config),
        heldout=data.heldout,
    )


def load_training_corpus(config: TrainConfig) -> TextMotionCorpus | None:
    if config.corpus is None:
        return None
    options = config.dataset_options.get(config.corpus)
    return load_corpus(config.corpus, MODEL_FRAME_RATE, config.text_encoder, options)


@dataclass
class EncoderStage:
    """Stage 1 done, stage 2 ready to run: the model with its trained encoder, the seen
    classes' texts and the frozen tokens stage 2 aligns (``None`` with a corpus only,
    where stage 1 trained all there is). Several stage-2 variants can share one
    (:meth:`align`)."""

    config: TrainConfig
    model: DynaPURLS
    data: SeenData
    texts: ClassTexts | None
    tokens: torch.Tensor | None
    labels: torch.Tensor | None
    corpus: CorpusTokens | None
    history: list[dict[str, float]]
    seconds: float

    def __post_init__(self) -> None:
        self._encoder_state = {k: v.clone() for k, v in self.model.state_dict().items()}

    def align(
        self,
        fusion: tuple[float, float, float] | None = None,
        descriptions: str | None = None,
        progress: bool = False,
    ) -> TrainResult:
        """Stage 2 on the frozen encoder: a trained model (on the CPU, eval mode).
        ``fusion`` (global, parts, phases) and ``descriptions`` override the run's, for
        variants that share this encoder; each call starts from the stage-1 weights, so
        variants do not see each other."""
        start = time.perf_counter()
        config, data, texts = self.config, self.data, self.texts
        if descriptions is not None and descriptions != config.descriptions:
            config = replace(config, descriptions=descriptions)
            data = data.described(config)
            texts = seen_texts(data, config)
        model = DynaPURLS(replace(self.model.config, fusion=fusion or config.fusion))
        model.load_state_dict(self._encoder_state)
        model.to(config.device)
        history = list(self.history)
        if texts is not None:
            seed_everything(config.seed)
            history += train_alignment(
                model,
                self.tokens,
                self.labels,
                texts.to(config.device),
                config,
                progress,
                self.corpus,
            )
        model.cpu().eval()
        seconds = self.seconds + time.perf_counter() - start
        return TrainResult(model, run_info(config, data), seconds, history)


def seen_texts(data: SeenData, config: TrainConfig) -> ClassTexts:
    """Every phrasing of every training class, encoded by the run's text model."""
    return encode_class_texts(data.classes.descriptions, config.text_encoder)


def train_encoder_stage(config: TrainConfig, progress: bool = True) -> EncoderStage:
    """Seed, load the data (and corpus), build the model and run stage 1 on
    ``config.device``; then compute the frozen tokens for stage 2."""
    start = time.perf_counter()
    seed_everything(config.seed)
    device = torch.device(config.device)
    data = load_seen(config)
    corpus = load_training_corpus(config)
    if corpus is not None:
        corpus = corpus.to(device)
    texts = seen_texts(data, config).to(device) if data.classes.names else None
    text_dim = corpus.embeddings.shape[-1] if texts is None else texts.variants.shape[-1]
    model = build_model(config, text_dim, len(data.classes.names)).to(device)
    history = pretrain_encoder(model, data, config, progress, corpus, texts)
    if texts is None:
        return EncoderStage(config, model, data, None, None, None, None, history, 0.0)
    tokens, labels = frozen_tokens(model, data, config)
    extra = None if corpus is None else corpus_tokens(model, corpus, config)
    seconds = time.perf_counter() - start
    return EncoderStage(
        config, model, data, texts, tokens, labels.to(device), extra, history, seconds
    )


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    """Train a model on the seen classes (and corpus) of ``config``; eval mode."""
    return train_encoder_stage(config, progress).align(progress=progress)


def train_to_file(config: TrainConfig, output: str | Path, progress: bool = True) -> TrainResult:
    """Train, add the open-set references, save."""
    result = train(config, progress)
    references = training_references(result.model, result.info)
    result.info.reference_motions = None if references is None else references.half()
    save_checkpoint(output, result.model, result.info)
    return result
