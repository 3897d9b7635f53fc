"""What one federated party does with the model, without any Flower code.

Every party (the server and each site) builds the same LoRA model: the base model, then LoRA
attached right after `torch.manual_seed(seed)`, so every lora_A is the same frozen matrix
everywhere and only B has to travel. A fingerprint of all A matrices travels with the first
message and each site checks it, so a site with another base model, rank or seed fails loudly
instead of averaging B matrices that belong to different A's.

A site trains `local_steps` steps of FA-LoRA (finetune.lorafa_cached) on its own examples from
the B it received and returns the new B. Examples are built from the site's case file only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from rxassist.cases import read_cases
from rxassist.errors import ConfigError, InvalidInput
from rxassist.paths import resolve_base_model

B_MARK = "lora_B"


@dataclass(frozen=True)
class ModelSpec:
    """What makes two parties' LoRA models identical (and their A matrices equal)."""

    base_model: str | None
    rank: int
    lora_alpha: int | float
    target_modules: tuple[str, ...]
    seed: int

    def as_config(self) -> dict:
        return {"base-model": self.base_model or "", "rank": self.rank,
                "lora-alpha": float(self.lora_alpha),
                "target-modules": ",".join(self.target_modules), "seed": self.seed}

    @classmethod
    def from_config(cls, c) -> "ModelSpec":
        alpha = float(c["lora-alpha"])
        return cls(base_model=str(c["base-model"]) or None, rank=int(c["rank"]),
                   lora_alpha=int(alpha) if alpha.is_integer() else alpha,
                   target_modules=tuple(str(c["target-modules"]).split(",")),
                   seed=int(c["seed"]))


@dataclass(frozen=True)
class LocalPlan:
    """One site's work in one round."""

    server_round: int
    local_steps: int
    batch_size: int
    lr: float
    max_length: int
    max_grad_norm: float | None


_MODELS: dict[ModelSpec, tuple] = {}   # per process: a site reuses its model across rounds
_EXAMPLES: dict[tuple, list] = {}


def build_model(spec: ModelSpec):
    """(tokenizer, PEFT model with A frozen) for `spec`; cached per process."""
    if spec in _MODELS:
        return _MODELS[spec]
    import torch

    from finetune.config import FinetuneConfig
    from finetune.runtime import choose_runtime
    from finetune.trainer import attach_lora, load_base

    runtime = choose_runtime("auto", "auto")
    tokenizer, model = load_base(resolve_base_model(spec.base_model), runtime)
    options = FinetuneConfig.build(cases=Path("-"), out=Path("-"), method="fa-lora",
                                   rank=spec.rank, lora_alpha=spec.lora_alpha,
                                   target_modules=spec.target_modules, max_steps=1, save_steps=1,
                                   seed=spec.seed)
    torch.manual_seed(spec.seed)  # the same seed gives every party the same A
    model = attach_lora(model, options)
    for name, p in model.named_parameters():
        p.requires_grad_(B_MARK in name)
    _MODELS.clear()  # one model per process: memory matters more than a second spec
    _MODELS[spec] = (tokenizer, model, runtime)
    return _MODELS[spec]


def a_fingerprint(model) -> str:
    """sha256 over every lora_A (name and bytes): equal iff the frozen A's are equal."""
    h = hashlib.sha256()
    for name, p in model.named_parameters():
        if "lora_A" in name:
            h.update(name.encode())
            h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def b_arrays(model) -> dict:
    """The B matrices as float32 numpy arrays, by parameter name: all that a site sends."""
    return {n: p.detach().cpu().float().numpy().copy() for n, p in model.named_parameters()
            if B_MARK in n}


def set_b(model, arrays: dict) -> None:
    import torch

    params = dict(model.named_parameters())
    missing = [n for n in params if B_MARK in n and n not in arrays]
    unknown = [n for n in arrays if n not in params or B_MARK not in n]
    if missing or unknown:
        raise ConfigError(f"received B arrays do not match this model ({len(missing)} missing, "
                          f"{len(unknown)} unexpected): same --base-model, --rank and "
                          "--target-modules everywhere?", param="rank")
    with torch.no_grad():
        for n, a in arrays.items():
            p = params[n]
            if tuple(a.shape) != tuple(p.shape):
                raise ConfigError(f"B array {n} has shape {tuple(a.shape)}, expected "
                                  f"{tuple(p.shape)}", param="rank")
            p.copy_(torch.as_tensor(a, dtype=p.dtype, device=p.device))


def site_examples(tokenizer, cases_path: Path, max_length: int) -> list:
    """The site's training examples from its own case file (cached per process)."""
    from finetune.examples import build_examples

    path = Path(cases_path)
    key = (str(path), path.stat().st_mtime_ns, max_length)
    if key not in _EXAMPLES:
        case_file = read_cases(path)
        built = build_examples(tokenizer, case_file.cases, max_length)
        _EXAMPLES[key] = built.examples
    if not _EXAMPLES[key]:
        raise InvalidInput("the site has no usable training example (cases without drugs, "
                           "none among the candidates, or all longer than --max-length)",
                           param="cases")
    return _EXAMPLES[key]


def train_locally(spec: ModelSpec, plan: LocalPlan, cases_path: Path, b_in: dict,
                  expected_a: str | None, site_seed: int,
                  threads: int | None = None) -> tuple[dict, dict]:
    """Train B for `plan.local_steps` steps on this site's cases, starting from `b_in`.

    Returns (new B arrays, {"num-examples", "train-loss"}). Nothing else leaves the site.
    """
    import torch

    from finetune.examples import answer_loss, collate
    from finetune.lorafa_cached import create_cached_lorafa_optimizer
    from finetune.runtime import set_threads
    from finetune.trainer import batch_indices

    set_threads(threads)
    tokenizer, model, runtime = build_model(spec)
    if expected_a is not None and a_fingerprint(model) != expected_a:
        raise ConfigError("this site's frozen A matrices differ from the server's: use the same "
                          "base model, rank, target modules and seed", param="seed")
    set_b(model, b_in)
    examples = site_examples(tokenizer, cases_path, plan.max_length)
    optimizer = create_cached_lorafa_optimizer(model, r=spec.rank, lora_alpha=spec.lora_alpha,
                                               lr=plan.lr)
    trainable = [p for p in model.parameters() if p.requires_grad]
    pad_id = tokenizer.pad_token_id
    model.train()
    losses = []
    first = (plan.server_round - 1) * plan.local_steps  # continue the site's own data order
    for step in range(first, first + plan.local_steps):
        idx = batch_indices(step, plan.batch_size, len(examples), site_seed)
        batch = {k: (v.to(runtime.device) if hasattr(v, "to") else v) for k, v in
                 collate([examples[i] for i in idx], pad_id).items()}
        loss = answer_loss(model, batch)
        if not math.isfinite(loss.item()):
            raise ConfigError(f"the loss became {loss.item()}; lower --lr", param="lr")
        loss.backward()
        if plan.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(trainable, plan.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.item()))
    return b_arrays(model), {"num-examples": len(examples),
                             "train-loss": sum(losses) / len(losses)}
