"""What the CPU can do that training uses: bfloat16 arithmetic (AVX512-BF16 or AMX).

On a CPU with bfloat16 units, the full profile trains under Keras's `mixed_bfloat16` policy: the
layers compute in bfloat16, the weights, the losses and the metric stay in float32. Measured on
the book's 2-core development CPU (AMX), the full-size U-Net trained 1.77 times as fast as in
float32; the quick sizes gained little (1.07 times), so the quick and reference profiles stay in
float32. Set ``MARSLIB_CPU_BFLOAT16=0`` to train the full profile in float32 on such a CPU.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MARSLIB_CPU_BFLOAT16"
BFLOAT16_FLAGS: frozenset[str] = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: Path | str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags from Linux's `cpuinfo` (empty where there is no such file)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def cpu_bfloat16(cpuinfo: Path | str = "/proc/cpuinfo") -> bool:
    """True when the CPU has bfloat16 units and ``$MARSLIB_CPU_BFLOAT16`` does not switch them off.

    Raises:
        ValueError: for a ``$MARSLIB_CPU_BFLOAT16`` other than "0" or "1".
    """
    switch = os.environ.get(ENV_VAR, "1").strip()
    if switch not in ("0", "1"):
        raise ValueError(f"${ENV_VAR} must be 0 (off) or 1 (on where supported), got {switch!r}")
    return switch == "1" and bool(cpu_flags(cpuinfo) & BFLOAT16_FLAGS)
