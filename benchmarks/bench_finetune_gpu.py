"""FA-LoRA vs LoRA, FlashAttention-2 / SDPA vs eager: step time and peak memory of the real
training step (finetune.trainer: attach_lora, make_optimizer, answer_loss) on a randomly
initialised Llama-3.1-8B-shaped model. No downloads.

Every figure is printed as a ratio against the baseline measured in the same run
(plain LoRA + eager attention). Sized for one H100-class GPU in a few minutes:

    .venv/bin/python benchmarks/bench_finetune_gpu.py                 # 8B shape, 32 layers
    .venv/bin/python benchmarks/bench_finetune_gpu.py --layers 8      # faster, say so in reports
    .venv/bin/python benchmarks/bench_finetune_gpu.py --tiny          # CPU smoke run (seconds)

It also prints the parameter counts of the full 8B shape (built on the meta device, no memory)
for FA-LoRA and LoRA at ranks 16 and 32: what "trainable parameters vs full fine-tuning" is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from finetune.config import FinetuneConfig  # noqa: E402
from finetune.params import count_params  # noqa: E402
from finetune.runtime import flash_attn_available  # noqa: E402
from finetune.trainer import answer_loss, attach_lora, make_optimizer  # noqa: E402

# meta-llama/Llama-3.1-8B config.json, the shape the source paper fine-tuned.
LLAMA_31_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                   num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                   max_position_embeddings=131072, rope_theta=500000.0, rms_norm_eps=1e-5,
                   tie_word_embeddings=False)
TINY = dict(vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
            tie_word_embeddings=True)


def options(method: str, rank: int, lr: float = 1e-3) -> FinetuneConfig:
    # cases/out are never read here; the config is only the validated LoRA settings.
    return FinetuneConfig.build(cases=Path("-"), out=Path("-"), method=method, rank=rank, lr=lr,
                                max_steps=1, save_steps=1)


def synthetic_batch(vocab: int, batch: int, seq: int, answer: int, device: str) -> dict:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (batch, seq), generator=gen)
    labels = ids.clone()
    labels[:, : seq - answer] = -100  # loss on the answer only, as in training
    return {"input_ids": ids.to(device), "labels": labels.to(device),
            "attention_mask": torch.ones_like(ids).to(device),
            "position_ids": torch.arange(seq).expand(batch, seq).to(device), "keep": answer + 1}


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def sdpa_ops_seen(model, batch) -> list[str]:
    """Which SDPA kernels one forward pass really ran (aten op names from the profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        answer_loss(model, batch)
    return sorted({e.key for e in prof.key_averages()
                   if "scaled_dot_product" in e.key or "flash" in e.key.lower()
                   or "efficient_attention" in e.key or "cudnn_attention" in e.key})


def measure(shape: dict, method: str, attn: str, args, device: str, dtype) -> dict:
    import contextlib

    torch.manual_seed(0)
    # "sdpa-flash": SDPA forced onto its FLASH_ATTENTION backend (FlashAttention-2 inside
    # PyTorch); it raises instead of falling back when the kernel cannot run.
    cfg = LlamaConfig(**shape, attn_implementation="sdpa" if attn == "sdpa-flash" else attn)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype)
    opt_method = "fa-lora" if method == "fa-lora-peft" else method
    model = attach_lora(model, options(opt_method, args.rank))
    if method == "fa-lora-peft":  # PEFT's optimizer, pinv(A A^T + dI) recomputed every step
        from peft.optimizers import create_lorafa_optimizer
        optimizer = create_lorafa_optimizer(model, r=args.rank, lora_alpha=2 * args.rank, lr=1e-3)
    else:
        optimizer = make_optimizer(model, options(method, args.rank))
    if attn == "sdpa-flash":
        from torch.nn.attention import SDPBackend, sdpa_kernel
        kernel = sdpa_kernel(SDPBackend.FLASH_ATTENTION)
    else:
        kernel = contextlib.nullcontext()
    with kernel:
        return _timed(model, optimizer, method, attn, shape, args, device)


def _timed(model, optimizer, method, attn, shape, args, device) -> dict:
    counts = count_params(model)
    batch = synthetic_batch(shape["vocab_size"], args.batch_size, args.seq_len, args.answer_len,
                            device)
    model.train()
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(args.warmup + args.steps):
        sync(device)
        t0 = time.perf_counter()
        loss = answer_loss(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
    kernels = sdpa_ops_seen(model, batch) if attn.startswith("sdpa") else []
    del model, optimizer
    if device == "cuda":
        torch.cuda.empty_cache()
    times.sort()
    return {"method": method, "attn": attn, "step_s": times[len(times) // 2],
            "peak_gib": peak, "trainable_params": counts.trainable_params,
            "loss": loss.item(), "sdpa_kernels": kernels}


def param_table(shape: dict) -> list[dict]:
    rows = []
    for method in ("fa-lora", "lora"):
        for rank in (16, 32):
            with torch.device("meta"):
                model = LlamaForCausalLM(LlamaConfig(**shape))
            model = attach_lora(model, options(method, rank))
            make_optimizer(model, options(method, rank))  # FA-LoRA freezes A here
            c = count_params(model).as_report()
            rows.append({"method": method, "rank": rank, **{k: c[k] for k in (
                "trainable_params", "lora_equivalent_trainable_params", "base_params",
                "reduction_vs_full_finetune_pct", "reduction_vs_lora_pct")}})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny model on CPU: checks the script runs")
    p.add_argument("--layers", type=int, default=None, help="fewer decoder layers than 32")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--answer-len", type=int, default=64)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    if device == "cpu" and not args.tiny:
        p.error("no CUDA GPU: run with --tiny (CPU smoke run) or on a GPU machine")
    shape = dict(TINY if args.tiny else LLAMA_31_8B)
    if args.layers:
        shape["num_hidden_layers"] = args.layers
    if args.tiny:
        args.seq_len, args.answer_len = min(args.seq_len, 64), min(args.answer_len, 16)
        args.warmup, args.steps = min(args.warmup, 1), min(args.steps, 3)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    if device == "cpu":
        torch.set_num_threads(1)  # a smoke run on a shared CPU; threads only add contention
    attns = ["eager", "sdpa"] + (["sdpa-flash"] if device == "cuda" else []) + (
        ["flash_attention_2"] if flash_attn_available() else [])
    header = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
              "shape": "tiny" if args.tiny else "Llama-3.1-8B", **shape, "dtype": str(dtype),
              "batch_size": args.batch_size, "seq_len": args.seq_len,
              "answer_len": args.answer_len, "rank": args.rank, "timed_steps": args.steps,
              "flash_attn": flash_attn_available()}
    print(json.dumps(header))
    if "flash_attention_2" not in attns:
        print("flash_attention_2 skipped: needs CUDA and the flash-attn package", file=sys.stderr)

    results = []
    for attn in attns:
        for method in ("lora", "fa-lora", "fa-lora-peft"):
            try:
                r = measure(shape, method, attn, args, device, dtype)
            except RuntimeError as e:  # e.g. the forced flash kernel cannot run here
                print(json.dumps({"method": method, "attn": attn, "error": str(e)[:300]}))
                continue
            results.append(r)
            print(json.dumps(r), flush=True)
    base = next(r for r in results if r["method"] == "lora" and r["attn"] == "eager")
    print(f"\nbaseline: lora + eager, step {base['step_s'] * 1000:.1f} ms"
          + (f", peak {base['peak_gib']:.2f} GiB" if base["peak_gib"] else ""))
    print(f"{'method':12} {'attention':18} {'step ms':>9} {'time x':>7} {'peak GiB':>9} "
          f"{'mem x':>6} {'trainable':>12}")
    for r in results:
        mem = f"{r['peak_gib']:9.2f} {r['peak_gib'] / base['peak_gib']:6.3f}" if r["peak_gib"] \
            else f"{'n/a':>9} {'n/a':>6}"
        print(f"{r['method']:12} {r['attn']:18} {r['step_s'] * 1000:9.1f} "
              f"{r['step_s'] / base['step_s']:7.3f} {mem} {r['trainable_params']:12,d}")

    full = dict(TINY if args.tiny else LLAMA_31_8B)
    table = param_table(full)
    print(f"\nparameters, full {header['shape']} shape ({full['num_hidden_layers']} layers, "
          "all attention+MLP projections):")
    for t in table:
        print(f"  {t['method']:8} r{t['rank']:<3} trainable {t['trainable_params']:>12,d}  "
              f"(plain LoRA {t['lora_equivalent_trainable_params']:,d}; full model "
              f"{t['base_params']:,d}) -> {t['reduction_vs_full_finetune_pct']:.2f}% fewer than "
              f"full fine-tuning, {t['reduction_vs_lora_pct']:.2f}% fewer than LoRA")
    if args.json:
        args.json.write_text(json.dumps({"header": header, "results": results,
                                         "params": table}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
