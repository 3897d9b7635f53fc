"""Options of `rxassist finetune federated`, validated once at the edge.

Every bad value (0 sites, a negative noise multiplier, a site file that does not exist, ...) is a
ConfigError naming the option, which the CLI turns into a message and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from rxassist.adapters import ADAPTER_NAME_RE

from finetune.config import DEFAULT_TARGET_MODULES, LoraOptions, whole_alpha


class FederatedConfig(LoraOptions):
    """One federated FA-LoRA run. Field names are the CLI options with '-' replaced by '_'."""

    cases: Path = Field(description="JSONL cases split into the simulated hospitals")
    out: Path = Field(description="adapter folder written at the end (never partially)")
    sites: int = Field(ge=1, le=64, description="simulated hospitals drawn from --cases")
    site_files: tuple[tuple[str, Path], ...] = Field(
        (), description="extra sites NAME=FILE, each its own case file (e.g. Synthea)")
    partition: Literal["chapter", "age"] = Field(
        "chapter", description="non-IID split by ICD-10-CM chapter or by age band")
    alpha: float = Field(0.5, gt=0, description="Dirichlet concentration; small = more skewed")
    max_site_cases: int | None = Field(None, ge=1, description="cap each site's cases (sampled)")
    rounds: int = Field(1, ge=1, le=10_000)
    local_steps: int = Field(ge=1, le=1_000_000, description="optimizer steps per site per round")
    batch_size: int = Field(4, ge=1, le=4096)
    lr: float = Field(1e-3, gt=0, le=1.0)
    rank: int = 16
    lora_alpha: float | None = Field(None, gt=0)
    target_modules: tuple[str, ...] = Field(DEFAULT_TARGET_MODULES, min_length=1)
    max_length: int = Field(1024, ge=16)
    max_grad_norm: float | None = Field(1.0, gt=0)
    seed: int = 0
    base_model: str | None = None
    noise_multiplier: float = Field(0.0, ge=0, description="0: no DP; >0: site-level DP")
    clipping_norm: float = Field(1.0, gt=0, description="L2 bound on each site's B update")
    delta: float = Field(1e-5, gt=0, lt=1, description="delta of the reported (epsilon, delta)")
    parallel_sites: int = Field(1, ge=1, le=64, description="sites trained at the same time")
    threads: int | None = Field(None, ge=1, le=1024, description="torch threads per site")
    overwrite: bool = False

    @field_validator("site_files", mode="before")
    @classmethod
    def _parse_site_files(cls, v):
        out = []
        for item in v or ():
            if isinstance(item, str):
                name, sep, path = item.partition("=")
                if not sep or not name or not path:
                    raise ValueError(f"{item!r} is not NAME=FILE")
                item = (name, path)
            out.append(tuple(item))
        return out

    @field_validator("site_files")
    @classmethod
    def _site_names(cls, v):
        names = [n for n, _ in v]
        bad = [n for n in names if not ADAPTER_NAME_RE.match(n) or n.startswith("hospital-")]
        if bad:
            raise ValueError(f"site names {bad}: use letters, digits, '.', '_', '-' (and not "
                             "'hospital-N', the simulated sites' names)")
        if len(set(names)) != len(names):
            raise ValueError("site names must be distinct")
        return v

    @property
    def alpha_lora(self) -> int | float:
        return whole_alpha(self.lora_alpha, self.rank)

    @property
    def dp(self) -> bool:
        return self.noise_multiplier > 0

    @property
    def n_sites(self) -> int:
        return self.sites + len(self.site_files)
