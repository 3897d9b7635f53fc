"""What the CPU the engine runs on can do, and the engine settings that follow from it.

Measured on a 2-core AVX2 machine without native bf16 (docs/benchmarks.md): vLLM's CPU build
runs bfloat16 unless told otherwise, which such a CPU emulates slowly (float32 was 2.3x faster),
and it binds its OpenMP threads to one core less than it sees (using both doubled throughput).
"""

from __future__ import annotations

import os
from pathlib import Path

# CPU flags (as Linux names them in /proc/cpuinfo) that mean bf16 matrix maths in hardware.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The first processor's flags, or None where /proc/cpuinfo is unreadable (not Linux)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / ARM spelling
            return set(value.split())
    return set()


def has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    flags = cpu_flags(cpuinfo)
    if flags is not None:
        # ARM names its bf16 extension "bf16"; vLLM's CPU kernels use it there too.
        return bool(flags & NATIVE_BF16_FLAGS) or "bf16" in flags
    try:  # no cpuinfo: ask torch, which probes the CPU itself
        import torch
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (ImportError, AttributeError):
        return False


def cpu_engine_dtype(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """bfloat16 where the CPU computes it natively (half the memory traffic), float32 otherwise."""
    return "bfloat16" if has_native_bf16(cpuinfo) else "float32"


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def cpu_list(cpus: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5' (the syntax VLLM_CPU_OMP_THREADS_BIND takes)."""
    parts: list[str] = []
    start = prev = None
    for c in sorted(set(cpus)):
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = c
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ",".join(parts)
