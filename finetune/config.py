"""Fine-tuning options, validated once at the edge (docs/formats.md#fine-tuning-outputs).

Every bad value is rejected here with a ConfigError that names the option, so the training code
below can trust its inputs.
"""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The ranks vLLM's --max-lora-rank accepts (vllm.config.lora.MaxLoRARanks); an adapter of any
# other rank could not be served side by side with the others. tests/finetune pins this to vLLM.
from rxassist.adapters import VLLM_LORA_RANKS  # noqa: F401  (re-exported by finetune)
from rxassist.errors import ConfigError, validated

# All attention and MLP projections of Llama-style models (the source paper's setting).
DEFAULT_TARGET_MODULES: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj",
                                           "gate_proj", "up_proj", "down_proj")

Method = Literal["fa-lora", "lora"]
Attn = Literal["auto", "flash_attention_2", "sdpa", "eager"]
DType = Literal["auto", "float32", "bfloat16", "float16"]
SaveDType = Literal["same", "float32", "bfloat16", "float16"]

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def whole_alpha(lora_alpha: float | None, rank: int) -> int | float:
    """LoRA alpha, 2 x rank by default."""
    alpha = lora_alpha if lora_alpha is not None else 2 * rank
    # Whole numbers as int: adapter_config.json then reads "lora_alpha": 32, as vLLM expects.
    return int(alpha) if float(alpha).is_integer() else alpha


class LoraOptions(BaseModel):
    """What every fine-tuning command's options share: the checks on `rank` and
    `target_modules` (each subclass declares those fields itself, so that its field order, and
    with it the order of reported errors, stays its own) and `build`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("rank", check_fields=False)
    @classmethod
    def _servable_rank(cls, v: int) -> int:
        if v not in VLLM_LORA_RANKS:
            raise ValueError(f"{v} is not a rank vLLM can serve; choose one of "
                             f"{', '.join(map(str, VLLM_LORA_RANKS))}")
        return v

    @field_validator("target_modules", mode="before", check_fields=False)
    @classmethod
    def _split_modules(cls, v):
        if isinstance(v, str):
            v = [m.strip() for m in v.split(",") if m.strip()]
        return v

    @field_validator("target_modules", check_fields=False)
    @classmethod
    def _module_names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [m for m in v if not _MODULE_NAME.match(m)]
        if bad:
            raise ValueError(f"not module names: {bad}")
        return tuple(dict.fromkeys(v))

    @classmethod
    def build(cls, **values):
        """Validate, turning pydantic's errors into one ConfigError naming each option."""
        return validated(cls, option=True, first_only=False, whole="options", **values)

    @classmethod
    def default(cls, name: str):
        """Defaults are declared once, on the config; the CLI options only show them."""
        return cls.model_fields[name].default

    @classmethod
    def add_lora_options(cls, p: argparse.ArgumentParser) -> None:
        """The adapter and optimizer options `finetune` and `finetune federated` share, with
        this config's defaults (argparse collects strings; `from_args` validates them)."""
        p.add_argument("--rank", default=cls.default("rank"),
                       help=f"LoRA rank, one of {VLLM_LORA_RANKS} (default %(default)s)")
        p.add_argument("--lora-alpha", default=None, help="LoRA alpha (default 2 x rank)")
        p.add_argument("--target-modules", default=None,
                       help="comma-separated module names (default: all attention and MLP "
                            f"projections, {','.join(DEFAULT_TARGET_MODULES)})")
        p.add_argument("--lr", default=cls.default("lr"),
                       help="learning rate, constant (default %(default)s)")
        p.add_argument("--batch-size", default=cls.default("batch_size"),
                       help="examples per step (default %(default)s)")
        p.add_argument("--max-length", default=cls.default("max_length"),
                       help="skip examples longer than this (tokens; default %(default)s)")
        p.add_argument("--max-grad-norm", default=cls.default("max_grad_norm"),
                       help="gradient clipping per optimizer step (default %(default)s)")
        p.add_argument("--base-model", default=None,
                       help="model folder or hub id (default: the embedded "
                            "SmolLM2-135M-Instruct)")

    @classmethod
    def from_args(cls, args, options: tuple[str, ...], required: tuple[str, ...], **fixed):
        """`build` from the parsed CLI: argparse only collects strings, so the config validates
        them and names the option on error; an option left out is left to the config's default."""
        given = {k: getattr(args, k) for k in options if getattr(args, k, None) is not None}
        missing = [k for k in required if k not in given]
        if missing:
            raise ConfigError("missing " + ", ".join(f"--{k.replace('_', '-')}" for k in missing),
                              param=missing[0])
        return cls.build(**given, **fixed)


class FinetuneConfig(LoraOptions):
    """One training run. Field names are the CLI options with '-' replaced by '_'."""

    cases: Path = Field(description="JSONL case file (docs/formats.md#case-files)")
    out: Path = Field(description="output folder: checkpoint-<step>/ and train_report.json")
    method: Method = Field("fa-lora", description="fa-lora: A frozen, only B trained; lora: A+B")
    rank: int = Field(16, description=f"LoRA rank; one of {VLLM_LORA_RANKS} (what vLLM serves)")
    lora_alpha: float | None = Field(None, gt=0, description="LoRA alpha; default 2 x rank")
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = Field(DEFAULT_TARGET_MODULES, min_length=1)
    lr: float = Field(1e-3, gt=0, le=1.0, description="learning rate (constant)")
    batch_size: int = Field(4, ge=1, le=4096)
    max_steps: int = Field(ge=1, description="optimizer steps to train in total")
    save_steps: int = Field(ge=1, description="write checkpoint-<step>/ every K steps (and last)")
    base_model: str | None = Field(None, description="path or hub id; default embedded SmolLM2")
    max_length: int = Field(1024, ge=16, description="examples longer than this are skipped")
    max_grad_norm: float | None = Field(1.0, gt=0)
    seed: int = 0
    attn: Attn = "auto"
    dtype: DType = "auto"
    save_dtype: SaveDType = "same"
    threads: int | None = Field(None, ge=1, le=1024, description="torch CPU threads")
    resume: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "FinetuneConfig":
        if self.save_steps > self.max_steps:
            warnings.warn(f"save_steps={self.save_steps} > max_steps={self.max_steps}: "
                          "only the final checkpoint is written", stacklevel=2)
        return self

    @property
    def alpha(self) -> int | float:
        return whole_alpha(self.lora_alpha, self.rank)
