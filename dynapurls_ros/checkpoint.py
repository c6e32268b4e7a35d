"""Checkpoint files: the model plus what inference needs to use it correctly.

Everything is builtins and tensors, so files load with ``torch.load(weights_only=True)``
and a checkpoint from an unknown source cannot run code. Beside the network
(:meth:`DynaPURLS.to_checkpoint`) a file records the window the model was trained on
(length, frame rate), the text encoder whose space it maps into, the seen vocabulary
and the training settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

import torch

from dynapurls_ros.model.dynapurls import DynaPURLS
from dynapurls_ros.paths import PACKAGE_DIR

DEFAULT_CHECKPOINT = PACKAGE_DIR / "weights" / "default.pt"


@dataclass
class RunInfo:
    """What a checkpoint says about how its model was trained."""

    window_length: int
    frame_rate: float
    seen_labels: list[str]
    datasets: list[str] = field(default_factory=list)
    split: str | None = None
    description_source: str = "bank"
    settings: dict[str, Any] = field(default_factory=dict)
    heldout: list[str] = field(default_factory=list)
    # Global vectors (N, d) of training windows: open-set rejection's references
    # (dynapurls_ros.rejection); None in checkpoints made without them.
    reference_motions: torch.Tensor | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def save_checkpoint(path: str | Path, model: DynaPURLS, info: RunInfo) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = model.to_checkpoint()
    data["run"] = info.to_dict()
    temp = path.with_suffix(path.suffix + ".tmp")
    torch.save(data, temp)
    temp.replace(path)
    return path


def load_checkpoint(path: str | Path | None = None) -> tuple[DynaPURLS, RunInfo]:
    """Model (in eval mode) and run info; ``None`` loads the package's default model."""
    path = Path(path) if path else DEFAULT_CHECKPOINT
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        model = DynaPURLS.from_checkpoint(data)
        info = RunInfo(**data["run"])
    except FileNotFoundError:
        raise
    except (
        OSError,
        RuntimeError,
        ValueError,
        KeyError,
        TypeError,
        EOFError,
        UnpicklingError,
    ) as exc:
        raise ValueError(f"{path}: not a usable dynapurls_ros checkpoint: {exc}") from exc
    return model.eval(), info
