"""Benchmark of the data layer: how fast the synthetic set is generated."""

from __future__ import annotations

import time

from marslib.bench.measurement import Measurement
from marslib.data.synthetic import DEFAULT_TEST, DEFAULT_TRAIN, generate, texture_bank


def benchmark(scale: str) -> list[Measurement]:
    """Generation speed: "small" times 500 + 500 images, "full" the default 2615 + 10022 (no cache).

    The wall clock depends on what else runs on the machine; the CPU time much less so.
    """
    if scale not in ("small", "full"):
        raise ValueError(f"scale must be 'small' or 'full', got {scale!r}")
    n_train, n_test = (500, 500) if scale == "small" else (DEFAULT_TRAIN, DEFAULT_TEST)
    start = time.perf_counter()
    texture_bank()
    bank_s = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), time.process_time()
    generate(0, n_train, n_test)
    total_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return [
        Measurement("texture tiles, built once per process", bank_s, "s"),
        Measurement(f"synthetic set {n_train} + {n_test} images, wall clock", total_s, "s"),
        Measurement(
            f"synthetic set {n_train} + {n_test} images, CPU time (all threads)", cpu_s, "s"
        ),
        Measurement("synthetic generation speed", (n_train + n_test) / total_s, "images/s"),
    ]
