"""LoRA vs FA-LoRA (PEFT's optimizer) vs FA-LoRA (cached projection) on CPU, the embedded model.

The real training step (finetune.trainer: load_base, attach_lora, answer_loss; real examples from
a case file) with each optimizer. Every variant runs in its own fresh process, so peak RSS is
that variant's alone; the order of variants is interleaved over --repeats to spread the noise of
a shared CPU over all of them. Reported per variant: median step time (wall and process CPU),
peak RSS, and the bytes held by gradients + optimizer state (exact, from the tensors).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_finetune_cpu.py --steps 6 --batch-size 2
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = ("lora", "fa-lora-peft", "fa-lora-cached")


def one_variant(variant: str, args) -> dict:
    import torch

    from finetune.config import FinetuneConfig
    from finetune.examples import answer_loss, build_examples, collate
    from finetune.lorafa_cached import create_cached_lorafa_optimizer
    from finetune.runtime import choose_runtime, set_threads
    from finetune.trainer import attach_lora, batch_indices, load_base
    from rxassist.cases import read_cases
    from rxassist.paths import resolve_base_model

    set_threads(args.threads)
    runtime = choose_runtime("sdpa", "float32")
    tokenizer, model = load_base(resolve_base_model(args.base_model), runtime)
    cases = read_cases(args.cases).cases[: args.cases_limit]
    examples = build_examples(tokenizer, cases, 1024).examples
    method = "lora" if variant == "lora" else "fa-lora"
    cfg = FinetuneConfig.build(cases=Path("-"), out=Path("-"), method=method, rank=args.rank,
                               max_steps=1, save_steps=1)
    torch.manual_seed(0)
    model = attach_lora(model, cfg)
    if variant == "lora":
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3,
                                weight_decay=0.0)
    elif variant == "fa-lora-peft":
        from peft.optimizers import create_lorafa_optimizer
        opt = create_lorafa_optimizer(model, r=cfg.rank, lora_alpha=cfg.alpha, lr=1e-3)
    else:
        opt = create_cached_lorafa_optimizer(model, r=cfg.rank, lora_alpha=cfg.alpha, lr=1e-3)
    trainable = [p for p in model.parameters() if p.requires_grad]
    model.train()
    wall, cpu, opt_s = [], [], []
    for step in range(args.warmup + args.steps):
        batch = collate([examples[i] for i in batch_indices(step, args.batch_size,
                                                              len(examples), 0)],
                        tokenizer.pad_token_id)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = answer_loss(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        t1 = time.perf_counter()
        opt.step()
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=False)  # keep grads allocated: their bytes are counted below
        if step >= args.warmup:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            opt_s.append(t2 - t1)
    grad_bytes = sum(p.grad.numel() * p.grad.element_size() for p in trainable
                     if p.grad is not None)
    state_bytes = sum(v.numel() * v.element_size() for st in opt.state.values()
                      for v in st.values() if torch.is_tensor(v))
    return {"variant": variant, "step_s": statistics.median(wall),
            "cpu_s": statistics.median(cpu), "optimizer_step_ms": 1000 * statistics.median(opt_s),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "grad_plus_optimizer_state_mib": (grad_bytes + state_bytes) / 2**20,
            "trainable_params": sum(p.numel() for p in trainable), "loss": loss.item()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=Path, default=ROOT / "data/cases/nhanes-2013-2014-train.jsonl")
    p.add_argument("--cases-limit", type=int, default=64, help="cases tokenised for batches")
    p.add_argument("--base-model", default=None)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--repeats", type=int, default=1, help="fresh processes per variant")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # child process
    args = p.parse_args(argv)
    if args.variant:
        print(json.dumps(one_variant(args.variant, args)))
        return 0

    passthrough = ["--cases", str(args.cases), "--cases-limit", str(args.cases_limit),
                   "--rank", str(args.rank), "--batch-size", str(args.batch_size),
                   "--warmup", str(args.warmup), "--steps", str(args.steps),
                   "--threads", str(args.threads)]
    if args.base_model:
        passthrough += ["--base-model", args.base_model]
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(args.repeats):
        for v in VARIANTS:
            out = subprocess.run([sys.executable, __file__, *passthrough, "--variant", v],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            runs[v].append(r)
            print(json.dumps(r), flush=True)
    rows = []
    for v, rs in runs.items():
        row = dict(rs[0])
        for k in ("step_s", "cpu_s", "optimizer_step_ms", "peak_rss_mib"):
            row[k] = statistics.median(r[k] for r in rs)
        rows.append(row)
    base = rows[0]
    print(f"\nSmolLM2-135M, rank {args.rank}, batch {args.batch_size}, {args.steps} timed steps x "
          f"{args.repeats} process(es), {args.threads} thread(s); ratios vs plain LoRA")
    print(f"{'variant':16} {'step s':>7} {'x':>6} {'cpu s':>7} {'opt ms':>8} {'peak RSS MiB':>13} "
          f"{'grad+state MiB':>15} {'trainable':>11}")
    for r in rows:
        print(f"{r['variant']:16} {r['step_s']:7.3f} {r['step_s'] / base['step_s']:6.3f} "
              f"{r['cpu_s']:7.3f} {r['optimizer_step_ms']:8.1f} {r['peak_rss_mib']:13.0f} "
              f"{r['grad_plus_optimizer_state_mib']:15.1f} {r['trainable_params']:11,d}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "runs": runs, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
