"""The skeleton encoder as a frozen TorchScript graph, for inference.

The encoder is ~120 small operators per window batch, and in eager mode each one pays
Python's module dispatch. A traced and frozen graph runs the same operators, weights
and shift plans from C++: the same numbers (checked when it is built) for less time
(``benchmarks/model_latency.py`` prints both; docs/OUTPUT.md has the figures).

A trace fixes every shape it saw except the batch: it is built for one window length
(the checkpoint's, the only one the recognizer scores) and checked on two other batch
sizes. Any failure keeps the eager encoder, with a warning: slower, never different.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import torch

from dynapurls_ros.model.shift_gcn import ShiftGCNEncoder

logger = logging.getLogger(__name__)

Encoder = Callable[[torch.Tensor], torch.Tensor]
# Largest difference from the eager encoder accepted (float rounding of a reordered graph).
TOLERANCE = 1e-4
CHECK_BATCHES = (1, 3)


def frozen_encoder(encoder: ShiftGCNEncoder, window_length: int) -> Encoder:
    """``encoder`` traced for ``(N, 3, window_length, V)`` inputs and frozen (eval mode,
    no gradients), or ``encoder`` itself where tracing fails or changes its output."""
    cfg = encoder.config
    encoder.eval()
    generator = torch.Generator().manual_seed(0)

    def example(batch: int) -> torch.Tensor:
        shape = (batch, cfg.in_channels, window_length, cfg.num_joints)
        return torch.randn(shape, generator=generator)

    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The encoder's input checks and shift-plan memo are Python branches the
            # trace records as constants: right for the one window length traced.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # torch 2.13 deprecates TorchScript for torch.compile, which needs a C++
            # toolchain and tens of seconds at every start; should tracing go, the
            # except below keeps the encoder eager.
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.freeze(torch.jit.trace(encoder, example(2), check_trace=False))
            for batch in CHECK_BATCHES:
                x = example(batch)
                error = (traced(x) - encoder(x)).abs().max().item()
                if not error <= TOLERANCE:
                    raise ValueError(f"traced output differs by {error:.3g} at batch {batch}")
    except Exception as error:  # noqa: BLE001 - any failure: the eager encoder, same output
        logger.warning("encoder runs eagerly (tracing failed: %s)", error)
        return encoder
    return traced
