"""Neural side of DynaPURLS (torch only): Shift-GCN encoder, adaptive partitioning,
the DynaPURLS model and its per-slot contrastive losses."""

from dynapurls_ros.model.dynapurls import (
    Candidates,
    DynaPURLS,
    ModelConfig,
    TextProjection,
    fusion_slot_weights,
)
from dynapurls_ros.model.losses import LossOutput, SlotTemperature, slot_contrastive_loss
from dynapurls_ros.model.partition import AdaptivePartition
from dynapurls_ros.model.shift_gcn import EncoderConfig, ShiftGCNEncoder

__all__ = [
    "AdaptivePartition",
    "Candidates",
    "DynaPURLS",
    "EncoderConfig",
    "LossOutput",
    "ModelConfig",
    "ShiftGCNEncoder",
    "SlotTemperature",
    "TextProjection",
    "fusion_slot_weights",
    "slot_contrastive_loss",
]
