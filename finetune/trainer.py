"""The training loop: LoRA or FA-LoRA on cases, checkpoints vLLM can serve, a computed report.

FA-LoRA (Zhang et al. 2023, "LoRA-FA") freezes every LoRA A matrix at its random initialisation
and trains only B, with PEFT's LoraFAOptimizer projecting B's gradient. It is an optimizer choice:
the adapter it produces is a plain LoRA adapter (A and B saved), which is what vLLM loads.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

from rxassist.cases import read_cases
from rxassist.errors import ConfigError, InvalidInput, NotFound
from rxassist.paths import resolve_base_model
from recommend.prompt import PROMPT_VERSION

from finetune.config import FinetuneConfig
from finetune.examples import Example, answer_loss, build_examples, collate
from finetune.params import count_params
from finetune.runtime import choose_runtime, set_threads

STATE_FILE = "training_state.pt"
REPORT_FILE = "train_report.json"
CHECKPOINT_PREFIX = "checkpoint-"
# Options that must match for --resume to continue the same run.
RESUME_KEYS = ("method", "rank", "lora_alpha", "lora_dropout", "target_modules", "lr",
               "batch_size", "seed", "max_length")


def load_examples(config: FinetuneConfig, tokenizer) -> tuple[list[Example], dict]:
    if not config.cases.is_file():
        raise NotFound(f"--cases {str(config.cases)!r} does not exist", param="cases")
    case_file = read_cases(config.cases)
    for err in case_file.errors:
        # Line numbers and the reason only: case content is patient data and is never echoed.
        print(f"rxassist finetune: skipped {config.cases}:{err}", file=sys.stderr)
    if not case_file.cases:
        raise InvalidInput(f"--cases {str(config.cases)!r} holds no valid case "
                           f"({len(case_file.errors)} malformed lines)", param="cases")
    built = build_examples(tokenizer, case_file.cases, config.max_length)
    if not built.examples:
        raise InvalidInput(f"no usable training example in {str(config.cases)!r}: "
                           f"{len(built.skipped_too_long)} longer than --max-length "
                           f"{config.max_length}, {len(built.skipped_no_drugs)} without drugs, "
                           f"{len(built.skipped_not_in_candidates)} with no drug among the candidates",
                           param="cases")
    stats = {"n_cases": len(case_file.cases), "malformed_lines": len(case_file.errors),
             "n_examples": len(built.examples),
             "skipped_too_long": len(built.skipped_too_long),
             "skipped_no_drugs": len(built.skipped_no_drugs),
             "skipped_not_in_candidates": len(built.skipped_not_in_candidates),
             "truncated_recommendations": built.truncated_recommendations}
    return built.examples, stats


def batch_indices(step: int, batch_size: int, n: int, seed: int) -> list[int]:
    """Example indices for 0-based `step`: a fresh seeded shuffle every epoch, so any step's batch
    is known without replaying the run (this is what makes --resume exact)."""
    import torch

    out: list[int] = []
    pos = step * batch_size
    perms: dict[int, list[int]] = {}
    while len(out) < batch_size:
        epoch, offset = divmod(pos, n)
        if epoch not in perms:
            gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            perms[epoch] = torch.randperm(n, generator=gen).tolist()
        out.append(perms[epoch][offset])
        pos += 1
    return out


def load_base(base: str, runtime):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(
            base, dtype=getattr(torch, runtime.dtype),
            attn_implementation=runtime.attn_implementation)
    except (OSError, ValueError) as e:
        raise ConfigError(f"--base-model {base!r} could not be loaded: {e}",
                          param="base_model") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model.to(runtime.device)


def attach_lora(model, config: FinetuneConfig):
    from peft import LoraConfig, get_peft_model

    leaf_names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [m for m in config.target_modules if m not in leaf_names]
    if missing:
        raise ConfigError(f"--target-modules {','.join(missing)} not found in the base model",
                          param="target_modules")
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.lora_dropout,
                      target_modules=list(config.target_modules), bias="none",
                      task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def make_optimizer(model, config: FinetuneConfig):
    import torch

    if config.method == "fa-lora":
        from finetune.lorafa_cached import create_cached_lorafa_optimizer
        # Freezes every lora_A (requires_grad=False) and projects B's gradient; PEFT's maths
        # with the projection of each frozen A computed once instead of every step.
        return create_cached_lorafa_optimizer(model, r=config.rank, lora_alpha=config.alpha,
                                              lr=config.lr)
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                             weight_decay=0.0)


def latest_checkpoint(out: Path) -> Path | None:
    found = []
    for d in out.glob(f"{CHECKPOINT_PREFIX}*"):
        suffix = d.name[len(CHECKPOINT_PREFIX):]
        if suffix.isdigit() and (d / STATE_FILE).is_file():
            found.append((int(suffix), d))
    return max(found)[1] if found else None


def save_checkpoint(model, optimizer, config: FinetuneConfig, step: int, losses: list[float]):
    import torch
    from peft import get_peft_model_state_dict

    final = config.out / f"{CHECKPOINT_PREFIX}{step}"
    tmp = config.out / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    state = {"step": step, "losses": losses, "optimizer": optimizer.state_dict(),
             "config": config.model_dump(mode="json"), "rng": torch.get_rng_state()}
    if config.save_dtype != "same":
        # The served file is cast; keep the exact weights here so --resume (and FA-LoRA's frozen
        # A) continue bit for bit.
        state["adapter"] = {k: v.detach().clone() for k, v in
                            get_peft_model_state_dict(model).items()}
        cast_adapter_file(tmp / "adapter_model.safetensors", config.save_dtype)
    torch.save(state, tmp / STATE_FILE)
    # Write-then-rename: a crash mid-save never leaves a checkpoint that looks complete.
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def cast_adapter_file(path: Path, dtype: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    save_file({k: v.to(getattr(torch, dtype)).contiguous() for k, v in tensors.items()},
              str(path), metadata={"format": "pt"})


def restore_checkpoint(model, optimizer, config: FinetuneConfig, ckpt: Path) -> tuple[int, list]:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=False)
    saved = state["config"]
    now = config.model_dump(mode="json")
    diff = [k for k in RESUME_KEYS if saved.get(k) != now.get(k)]
    if diff:
        raise ConfigError(f"--resume: {ckpt} was trained with different "
                          + ", ".join(f"--{k.replace('_', '-')} ({saved.get(k)!r} vs "
                                      f"{now.get(k)!r})" for k in diff), param="resume")
    weights = state.get("adapter") or load_file(str(ckpt / "adapter_model.safetensors"))
    result = set_peft_model_state_dict(model, weights)
    if getattr(result, "unexpected_keys", None):
        raise ConfigError(f"--resume: {ckpt} does not match this model", param="resume")
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    return int(state["step"]), list(state["losses"])


def write_report(config: FinetuneConfig, report: dict) -> Path:
    path = config.out / REPORT_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def train(config: FinetuneConfig, *, progress: bool = True) -> dict:
    """Run (or resume) one fine-tuning run; returns the train report that was written."""
    import torch
    from tqdm.auto import tqdm

    runtime = choose_runtime(config.attn, config.dtype)
    threads = set_threads(config.threads)
    if not config.cases.is_file():
        raise NotFound(f"--cases {str(config.cases)!r} does not exist", param="cases")
    ckpt = latest_checkpoint(config.out) if config.resume else None
    if config.out.exists() and not config.resume and any(config.out.glob(f"{CHECKPOINT_PREFIX}*")):
        raise ConfigError(f"--out {str(config.out)!r} already holds checkpoints; pass --resume to "
                          "continue that run or choose another folder", param="out")
    if config.resume and ckpt is None:
        print(f"rxassist finetune: --resume: no checkpoint in {config.out}, starting at step 0",
              file=sys.stderr)
    base = resolve_base_model(config.base_model)
    tokenizer, model = load_base(base, runtime)
    examples, data_stats = load_examples(config, tokenizer)
    config.out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)  # the same seed gives the same (frozen, for FA-LoRA) A
    model = attach_lora(model, config)
    optimizer = make_optimizer(model, config)
    counts = count_params(model)

    step, losses = (0, [])
    if ckpt is not None:
        step, losses = restore_checkpoint(model, optimizer, config, ckpt)
    model.train()

    report = {
        "method": config.method, "rank": config.rank, "lora_alpha": config.alpha,
        "target_modules": list(config.target_modules), "lr": config.lr,
        "batch_size": config.batch_size, "max_steps": config.max_steps,
        "save_steps": config.save_steps, "seed": config.seed,
        "base_model": config.base_model or "default", "base_model_path": base,
        "cases": str(config.cases), "prompt_version": PROMPT_VERSION, **data_stats,
        **counts.as_report(), "attn_implementation": runtime.attn_implementation,
        "dtype": runtime.dtype, "save_dtype": config.save_dtype, "device": runtime.device,
        "torch_threads": threads, "resumed_from": str(ckpt) if ckpt else None,
    }
    checkpoints = sorted((str(p) for p in config.out.glob(f"{CHECKPOINT_PREFIX}*")
                          if p.name[len(CHECKPOINT_PREFIX):].isdigit()),
                         key=lambda s: int(s.rsplit("-", 1)[1]))
    trainable = [p for p in model.parameters() if p.requires_grad]
    pad_id = tokenizer.pad_token_id
    started, start_step = time.perf_counter(), step

    def finish_report() -> dict:
        elapsed = time.perf_counter() - started
        done = step - start_step
        tail = losses[-10:]
        report.update({
            "steps": step, "final_loss": losses[-1] if losses else None,
            "final_loss_avg10": sum(tail) / len(tail) if tail else None,
            "first_loss": losses[0] if losses else None,
            "seconds_this_session": round(elapsed, 2),
            "steps_per_second": round(done / elapsed, 4) if done and elapsed else None,
            "epochs": round(step * config.batch_size / len(examples), 4),
            "checkpoints": checkpoints, "losses": [round(x, 5) for x in losses]})
        write_report(config, report)
        return report

    bar = tqdm(total=config.max_steps, initial=step, unit="step", disable=not progress,
               dynamic_ncols=True, desc=f"{config.method} r{config.rank}")
    while step < config.max_steps:
        idx = batch_indices(step, config.batch_size, len(examples), config.seed)
        batch = {k: (v.to(runtime.device) if hasattr(v, "to") else v) for k, v in
                 collate([examples[i] for i in idx], pad_id).items()}
        loss = answer_loss(model, batch)
        if not math.isfinite(loss.item()):
            raise ConfigError(f"the loss became {loss.item()} at step {step + 1}; lower --lr "
                              "or use --dtype float32", param="lr")
        loss.backward()
        if config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(float(loss.item()))
        bar.update(1)
        bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.4f}")
        if step % config.save_steps == 0 or step == config.max_steps:
            path = str(save_checkpoint(model, optimizer, config, step, losses))
            if path not in checkpoints:
                checkpoints.append(path)
            finish_report()
    bar.close()
    return finish_report()
