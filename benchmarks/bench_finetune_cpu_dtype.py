"""CPU training step time, float32 vs bfloat16, on the embedded SmolLM2 base (FA-LoRA r16).

Decides finetune.runtime.CPU_DEFAULT_DTYPE. Ratios are against float32 measured in the same run.

    .venv/bin/python benchmarks/bench_finetune_cpu_dtype.py --batch-size 4 --steps 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from finetune.config import FinetuneConfig  # noqa: E402
from finetune.examples import answer_loss, build_examples, collate  # noqa: E402
from finetune.runtime import Runtime  # noqa: E402
from finetune.trainer import attach_lora, load_base, make_optimizer  # noqa: E402
from rxassist.cases import read_cases  # noqa: E402
from rxassist.paths import SHIPPED_DATA_DIR, resolve_base_model  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=Path,
                   default=SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-train.jsonl")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dtypes", default="float32,bfloat16")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    base = resolve_base_model(None)
    results = {}
    for dtype in args.dtypes.split(","):
        tok, model = load_base(base, Runtime("cpu", "sdpa", dtype))
        cases = read_cases(args.cases).cases[: args.batch_size * args.steps]
        examples = build_examples(tok, cases, 1024).examples
        opts = FinetuneConfig.build(cases=args.cases, out=Path("-"), rank=16, max_steps=1,
                                    save_steps=1)
        torch.manual_seed(0)
        model = attach_lora(model, opts)
        opt = make_optimizer(model, opts)
        times, cpu, losses = [], [], []
        for s in range(args.steps):
            batch = collate(examples[s * args.batch_size:(s + 1) * args.batch_size],
                            tok.pad_token_id)
            t0, c0 = time.perf_counter(), time.process_time()
            loss = answer_loss(model, batch)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)  # robust to other processes sharing the CPU
            losses.append(loss.item())
        results[dtype] = {"step_s": sum(times) / len(times), "cpu_s": sum(cpu) / len(cpu)}
        print(json.dumps({"dtype": dtype, "step_s": [round(t, 2) for t in times],
                          "cpu_s": [round(t, 2) for t in cpu],
                          "losses": [round(x, 4) for x in losses]}), flush=True)
    ref = results.get("float32")
    if ref:
        for d, r in results.items():
            print(f"{d:9} mean step {r['step_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU; ratio vs "
                  f"float32 {r['step_s'] / ref['step_s']:.2f}x wall, "
                  f"{r['cpu_s'] / ref['cpu_s']:.2f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
