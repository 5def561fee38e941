"""What the CPU can do that training uses: bfloat16 arithmetic (AVX512-BF16 or AMX).

On a CPU with bfloat16 units, the full profile trains under Keras's `mixed_bfloat16` policy: the
layers compute in bfloat16, the weights, the losses and the metric stay in float32. Measured on
the book's 2-core development CPU (AMX), the full-size U-Net trained 1.77 times as fast as in
float32; the quick sizes gained little (1.07 times), so the quick and reference profiles stay in
float32. Set ``MARSLIB_CPU_BFLOAT16=0`` to train the full profile in float32 on such a CPU.

Where the features come from: Linux's ``/proc/cpuinfo``; on an Intel Mac, ``sysctl``'s
``machdep.cpu`` lists. A CPU that is not x86 (Apple silicon, ARM) has neither AVX512-BF16 nor
AMX. Where none of these can tell (Windows on x86, a Linux without ``/proc``), `cpu_bfloat16`
says so in a warning and answers no: the full profile then trains in float32.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

ENV_VAR = "MARSLIB_CPU_BFLOAT16"
BFLOAT16_FLAGS: frozenset[str] = frozenset({"avx512_bf16", "amx_bf16"})
X86_MACHINES: frozenset[str] = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})
SYSCTL_KEYS: tuple[str, ...] = ("machdep.cpu.features", "machdep.cpu.leaf7_features")


def cpu_flags(cpuinfo: Path | str | None = None) -> set[str] | None:
    """The CPU's feature flags, lower case, or None where this system cannot tell.

    Args:
        cpuinfo: a Linux ``cpuinfo`` file to read instead of asking this machine.

    Returns:
        The ``flags`` (x86) or ``Features`` (ARM) of `cpuinfo` or of Linux's ``/proc/cpuinfo``;
        on macOS, ``sysctl``'s ``machdep.cpu`` features (Intel) or none (Apple silicon, whose
        CPU is not x86); on another system none for a CPU that is not x86, else None.
    """
    if cpuinfo is not None:
        return _read_cpuinfo(Path(cpuinfo))
    if sys.platform.startswith("linux"):
        return _read_cpuinfo(Path("/proc/cpuinfo"))
    if platform.machine().lower() not in X86_MACHINES:
        return set()  # the flags looked for are x86 instruction sets
    if sys.platform == "darwin":
        return _sysctl_flags()
    return None  # Windows on x86: no file or command lists them


def _read_cpuinfo(path: Path) -> set[str] | None:
    """The first ``flags`` or ``Features`` line of a cpuinfo file (None: unreadable or none)."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return {flag.lower() for flag in value.split()}
    return None


def _sysctl_flags() -> set[str] | None:
    """The CPU features macOS lists under ``machdep.cpu`` (Intel Macs), lower case."""
    try:
        listed = subprocess.run(
            ["sysctl", "-n", *SYSCTL_KEYS], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0 or not listed.stdout.strip():
        return None
    return {flag.lower().replace(".", "_") for flag in listed.stdout.split()}


def _normal(flag: str) -> str:
    """A flag's name without case, dots or underscores (Linux "amx_bf16", macOS "AMX_BF16")."""
    return flag.lower().replace("_", "").replace(".", "")


def cpu_bfloat16(cpuinfo: Path | str | None = None) -> bool:
    """True when the CPU has bfloat16 units and ``$MARSLIB_CPU_BFLOAT16`` does not switch them off.

    Where this system cannot tell (`cpu_flags` is None), a warning says so and the answer is
    False: training in float32 is always correct, only maybe slower.

    Args:
        cpuinfo: a Linux ``cpuinfo`` file to read instead of asking this machine.

    Raises:
        ValueError: for a ``$MARSLIB_CPU_BFLOAT16`` other than "0" or "1".
    """
    switch = os.environ.get(ENV_VAR, "1").strip()
    if switch not in ("0", "1"):
        raise ValueError(f"${ENV_VAR} must be 0 (off) or 1 (on where supported), got {switch!r}")
    if switch == "0":
        return False
    flags = cpu_flags(cpuinfo)
    if flags is None:
        where = cpuinfo if cpuinfo is not None else f"{sys.platform} on {platform.machine()}"
        warnings.warn(
            f"could not tell whether this CPU has bfloat16 units (AVX512-BF16 or AMX): no list "
            f"of its features could be read ({where}); the full profile trains in float32",
            stacklevel=2,
        )
        return False
    return bool({_normal(flag) for flag in flags} & {_normal(f) for f in BFLOAT16_FLAGS})
