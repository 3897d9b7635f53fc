"""`rxassist finetune` (docs/formats.md#fine-tuning-outputs) and `rxassist finetune install`."""

from __future__ import annotations

import argparse
import json
import sys

from finetune.config import FinetuneConfig

# argparse only collects strings; FinetuneConfig validates and names the option on error.
_TRAIN_OPTIONS = ("cases", "method", "rank", "lr", "batch_size", "max_steps", "save_steps", "out",
                  "base_model", "target_modules", "lora_alpha", "lora_dropout", "max_length",
                  "max_grad_norm", "seed", "attn", "dtype", "save_dtype", "threads")

_default = FinetuneConfig.default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "finetune", help="fine-tune a LoRA / FA-LoRA adapter on a case file",
        description="Train a LoRA adapter on cases (JSONL). fa-lora freezes the A matrices and "
                    "trains only B (LoRA-FA). Checkpoints are PEFT adapter folders vLLM serves.")
    p.add_argument("--cases", help="training cases, JSONL (docs/formats.md#case-files)")
    p.add_argument("--method", default=_default("method"), help="fa-lora or lora (default %(default)s)")
    p.add_argument("--max-steps", help="optimizer steps in total")
    p.add_argument("--save-steps", help="write DIR/checkpoint-<step>/ every K steps and at the end")
    p.add_argument("--out", help="output folder DIR")
    FinetuneConfig.add_lora_options(p)
    p.add_argument("--lora-dropout", default=_default("lora_dropout"))
    p.add_argument("--seed", default=_default("seed"))
    p.add_argument("--attn", default=_default("attn"),
                   help="auto (FlashAttention-2 on CUDA with flash-attn, else sdpa), "
                        "flash_attention_2, sdpa or eager")
    p.add_argument("--dtype", default=_default("dtype"),
                   help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16")
    p.add_argument("--save-dtype", default=_default("save_dtype"),
                   help="dtype of the saved adapter weights: same, float32, bfloat16, float16")
    p.add_argument("--threads", default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    actions = p.add_subparsers(dest="finetune_command", metavar="[install|federated]")
    inst = actions.add_parser(
        "install", help="copy a checkpoint to RXASSIST_HOME/adapters/<name>/ for `rxassist serve`")
    inst.add_argument("checkpoint", help="a DIR/checkpoint-<step>/ folder")
    inst.add_argument("--name", default=None,
                      help="adapter name clients ask for (default <method>-r<rank>-step<step>)")
    inst.add_argument("--dest", default=None, help="adapters folder (default RXASSIST_HOME/adapters)")
    inst.add_argument("--overwrite", action="store_true")
    inst.set_defaults(func=_install)
    from finetune.fed_cli import register as register_federated
    register_federated(actions)


def _train(args) -> int:
    config = FinetuneConfig.from_args(args, _TRAIN_OPTIONS,
                                      ("cases", "max_steps", "save_steps", "out"),
                                      resume=args.resume)
    from finetune.trainer import train
    report = train(config, progress=not args.no_progress)
    summary = {k: report[k] for k in ("method", "rank", "steps", "trainable_params",
                                      "lora_equivalent_trainable_params", "total_params",
                                      "reduction_vs_full_finetune_pct", "final_loss",
                                      "attn_implementation", "dtype")}
    print(json.dumps(summary))
    print(f"wrote {config.out / 'train_report.json'}", file=sys.stderr)
    return 0


def _install(args) -> int:
    from pathlib import Path

    from finetune.install import adapter_name, check_adapter, install_adapter

    name = args.name
    if name is None:
        ckpt = Path(args.checkpoint)
        cfg = check_adapter(ckpt)
        step = ckpt.name.rsplit("-", 1)[-1]
        report = ckpt.parent / "train_report.json"
        method = json.loads(report.read_text())["method"] if report.is_file() else "lora"
        name = adapter_name(method, cfg["r"], int(step)) if step.isdigit() else ckpt.name
    target = install_adapter(args.checkpoint, name, args.dest, overwrite=args.overwrite)
    print(target)
    return 0
