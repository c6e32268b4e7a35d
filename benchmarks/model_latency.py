"""Micro-benchmark of the DynaPURLS networks on this CPU.

Prints, for a 64-frame window:
  * encoder latency, batch 1, one thread (p50 / p95 ms) -- the budget is 10 ms;
  * full model latency (encoder + partitioning + fusion over K candidate classes);
  * batched throughput at batch 32 with two threads (windows/s);
  * parameter counts.

The text side (resolving and encoding a vocabulary) is timed by
``python -m benchmarks.text_speed``.

Run: ``python -m benchmarks.model_latency [--iters 300] [--classes 60]``.
Latencies on a shared machine vary with the load of other processes; p95 shows it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from dynapurls_ros.model import DynaPURLS, ModelConfig

FRAMES = 64


def latencies_ms(fn: Callable[[], object], iters: int, warmup: int = 20) -> np.ndarray:
    for _ in range(warmup):
        fn()
    times = np.empty(iters)
    for i in range(iters):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return times * 1e3


def report(name: str, times: np.ndarray) -> None:
    p50, p95 = np.percentile(times, [50, 95])
    print(f"{name:<48} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def bench_model(iters: int, classes: int) -> None:
    torch.manual_seed(0)
    model = DynaPURLS(ModelConfig()).eval()
    text = torch.nn.functional.normalize(torch.randn(classes, 8, model.config.text_dim), dim=-1)
    with torch.inference_mode():
        candidates = model.prepare(text)  # once per vocabulary, as the recogniser does
    one = torch.randn(1, 3, FRAMES, 25)
    batch = torch.randn(32, 3, FRAMES, 25)

    print(
        f"parameters: total {count(model):,} | encoder {count(model.encoder):,} | "
        f"partition {count(model.partition):,} | projections "
        f"{count(model.local_proj) + count(model.global_proj):,}"
    )
    with torch.inference_mode():
        torch.set_num_threads(1)
        report("encoder, batch 1, 1 thread", latencies_ms(lambda: model.encoder(one), iters))
        report(
            f"full model vs {classes} classes, batch 1, 1 thread",
            latencies_ms(lambda: model(one, candidates), iters),
        )
        torch.set_num_threads(2)
        for name, fn in [
            ("encoder", lambda: model.encoder(batch)),
            (f"full model vs {classes} classes", lambda: model(batch, candidates)),
        ]:
            times = latencies_ms(fn, max(iters // 10, 10), warmup=3)
            print(f"{name + ', batch 32, 2 threads':<48} {32e3 / np.median(times):9.0f} windows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--classes", type=int, default=60)
    args = parser.parse_args()
    bench_model(args.iters, args.classes)


if __name__ == "__main__":
    main()
