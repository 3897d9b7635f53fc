"""Where and how the model runs: device, attention kernel, dtype, threads."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from rxassist.errors import ConfigError

# Measured on this project's 2-core AVX2 CPU (no AVX512-BF16): fp32 steps were faster than bf16
# (see finetune/README.md for the numbers and command), so CPU defaults to fp32.
CPU_DEFAULT_DTYPE = "float32"


@dataclass(frozen=True)
class Runtime:
    device: str
    attn_implementation: str
    dtype: str


def flash_attn_available() -> bool:
    import torch
    return torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None


def choose_runtime(attn: str = "auto", dtype: str = "auto") -> Runtime:
    import torch

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if attn == "auto":
        attn = "flash_attention_2" if flash_attn_available() else "sdpa"
    elif attn == "flash_attention_2" and not flash_attn_available():
        raise ConfigError("--attn flash_attention_2 needs a CUDA GPU and the flash-attn package "
                          "(RXASSIST_GPU=1 scripts/setup.sh); use --attn sdpa", param="attn")
    if dtype == "auto":
        dtype = "bfloat16" if cuda else CPU_DEFAULT_DTYPE
    if attn == "flash_attention_2" and dtype == "float32":
        raise ConfigError("FlashAttention-2 runs in bfloat16/float16 only; pass --dtype bfloat16",
                          param="dtype")
    return Runtime(device=device, attn_implementation=attn, dtype=dtype)


def set_threads(threads: int | None) -> int:
    import torch
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
