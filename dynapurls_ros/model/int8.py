"""int8 weights for inference on a CPU: the linear layers quantized dynamically.

Every layer that costs time in the model is an ``nn.Linear`` (the Shift-GCN encoder's
pointwise projections, the attention keys, the projections into the text space), so
PyTorch's dynamic quantization (int8 weights, activations quantized on the fly per
batch) covers the forward pass without retraining or a second runtime. Measured with
``benchmarks/model_latency.py`` on one core: see docs/OUTPUT.md; labels agree
with the float model on 99 % of windows. Inference only: the quantized layers have no
gradients (online refinement does not need them: it trains its own text projection on
features computed without gradients).
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from dynapurls_ros.model.dynapurls import DynaPURLS


def int8_model(model: DynaPURLS) -> DynaPURLS:
    """A copy of ``model`` (eval mode) with int8 linear layers."""
    with warnings.catch_warnings():
        # torch 2.13 points eager quantization users to torchao, which this
        # dependency set does not carry; the eager API works as documented.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantized = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8
        )
    return quantized
