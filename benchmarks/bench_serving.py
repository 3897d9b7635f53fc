"""Serving speed, one command, one run: `rxassist serve` against plain transformers + PEFT.

The same chat prompts (held-out NHANES cases in the serving prompt format), the same output length
(exactly --max-tokens each, end-of-sequence ignored), greedy, at concurrency 1 and 8, against:

  1. the model API with the default adapter (served merged),
  2. a LoRA adapter by name (a copy of the default adapter, so outputs are comparable),
  3. the base model,
  4. the baseline: HF transformers + PEFT `generate`, batched (batch = concurrency), same
     adapter, in its best dtype (float32 on CPUs without native bf16, bfloat16 on GPUs),

then the assistant API end to end (one-turn consultations: p50/p95 latency at concurrency 1 and
8, consultations per minute, generated tokens per consultation), and merged-vs-unmerged agreement
with greedy decoding (PEFT unmerged vs merged in transformers; the merged engine vs the LoRA
engine in vLLM). Ratios are against the baseline measured in the same run. Where vLLM is not
installed (a bare GPU box) the vLLM parts are skipped with a message and the transformers parts
still run.

    flock /tmp/rxassist-heavy.lock .venv/bin/python benchmarks/bench_serving.py
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rxassist.cases import read_cases  # noqa: E402
from rxassist.paths import SHIPPED_ADAPTERS_DIR, SHIPPED_DATA_DIR, resolve_base_model  # noqa: E402
from recommend.prompt import build_messages  # noqa: E402
from recommend.shortlist import shortlist  # noqa: E402

LORA_COPY = "bench-lora-copy"  # the default adapter again, served through the LoRA engine
T0 = time.monotonic()


def progress(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.0f}s] {msg}", file=sys.stderr, flush=True)


def consultation_text(case) -> str:
    """A clinician's one-turn message built from a case (what the assistant API receives)."""
    p = case.patient
    who = f"{int(p.age)} year old {p.sex or 'patient'}" if p.age is not None else (p.sex or "patient")
    preg = ", pregnant" if p.pregnant else (", not pregnant" if p.sex == "female" else "")
    allergies = ("no known allergies" if p.allergies == [] else
                 f"allergic to {', '.join(p.allergies)}" if p.allergies else "allergies unknown")
    meds = ("on no medications" if p.current_medications == [] else
            f"currently taking {', '.join(p.current_medications)}" if p.current_medications
            else "medications unknown")
    return f"{who}{preg}, {case.diagnosis.text}, {allergies}, {meds}."


def run_prompts(prompts: list, c: int, args) -> list:
    """Concurrency 1 and >1 use different prompts, so no run finds another's prompts in vLLM's
    prefix cache (the transformers baseline has none); both engines get the same sets."""
    return prompts[:args.requests] if c > 1 else \
        prompts[args.requests:args.requests + args.requests_c1]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# -- transformers + PEFT ---------------------------------------------------------------------------
class HF:
    def __init__(self, base: str, adapter: Path, device: str, dtype: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch, self.device = torch, device
        self.tok = AutoTokenizer.from_pretrained(base)
        self.tok.padding_side = "left"
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        self.base, self.adapter, self.dtype = base, adapter, getattr(torch, dtype)
        self._load = lambda: AutoModelForCausalLM.from_pretrained(base, dtype=self.dtype).to(device)

    def model(self, kind: str):
        from peft import PeftModel

        m = self._load()
        if kind in ("peft", "merged"):
            m = PeftModel.from_pretrained(m, str(self.adapter))
            if kind == "merged":
                m = m.merge_and_unload()
        return m.eval()

    def generate(self, model, prompts: list[list[dict]], batch: int, max_tokens: int,
                 exact: bool = True) -> tuple[list[list[int]], float]:
        """Greedy outputs (token ids) and the wall time, batch by batch."""
        out, t = [], 0.0
        for i in range(0, len(prompts), batch):
            texts = [self.tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
                     for m in prompts[i:i + batch]]
            enc = self.tok(texts, return_tensors="pt", padding=True).to(self.device)
            self._sync()
            t0 = time.perf_counter()
            with self.torch.inference_mode():
                gen = model.generate(**enc, do_sample=False, max_new_tokens=max_tokens,
                                     min_new_tokens=max_tokens if exact else 0,
                                     pad_token_id=self.tok.pad_token_id)
            self._sync()
            t += time.perf_counter() - t0
            out += [row[enc["input_ids"].shape[1]:].tolist() for row in gen]
        return out, t

    def _sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()


def hf_part(args, base, adapter, prompts, agree_prompts, results):
    import torch

    on_gpu = torch.cuda.is_available()
    device = "cuda" if on_gpu else "cpu"
    # float32 here: without native bf16 the CPU emulates it (finetune measured 13x slower).
    from serving.cpu import cpu_engine_dtype
    dtype = "bfloat16" if on_gpu else cpu_engine_dtype()
    hf = HF(base, adapter, device, dtype)
    kinds = ["peft", "merged", "base"] if (on_gpu or args.hf_all) else ["peft"]
    labels = {"peft": "baseline: transformers + PEFT generate, default adapter",
              "merged": "transformers generate, default adapter merged",
              "base": "transformers generate, base model"}
    for kind in kinds:
        model = hf.model(kind)
        hf.generate(model, prompts[-1:], 1, 4)  # warm-up
        row = {"engine": labels[kind], "dtype": dtype, "device": device}
        for c in args.concurrency:
            batch = run_prompts(prompts, c, args)
            n = len(batch)
            progress(f"transformers {kind}: {n} requests, batch {c}, {args.max_tokens} tokens")
            outs, t = hf.generate(model, batch, c, args.max_tokens)
            toks = sum(len(o) for o in outs)
            row[f"c{c}"] = {"tok_s": toks / t, "tokens": toks, "seconds": t, "requests": n}
        results["model_api"].append(row)
        del model
        gc.collect()
    # merged vs unmerged with greedy decoding, in transformers (no engine differences involved)
    progress(f"agreement in transformers: {len(agree_prompts)} prompts, PEFT vs merged")
    peft_out, _ = hf.generate(hf.model("peft"), agree_prompts, 8, args.agree_tokens, exact=False)
    gc.collect()
    merged_out, _ = hf.generate(hf.model("merged"), agree_prompts, 8, args.agree_tokens,
                                exact=False)
    results["agreement"]["transformers_peft_vs_merged"] = compare(
        [hf.tok.decode(o, skip_special_tokens=True) for o in peft_out],
        [hf.tok.decode(o, skip_special_tokens=True) for o in merged_out])
    gc.collect()
    return on_gpu


def compare(a: list[str], b: list[str]) -> dict:
    diffs = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            k = next((j for j, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            diffs.append({"prompt": i, "first_diff_char": k, "a": x[max(0, k - 40):k + 60],
                          "b": y[max(0, k - 40):k + 60]})
    return {"prompts": len(a), "identical": len(a) - len(diffs), "differences": diffs}


# -- rxassist serve --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    def __init__(self, args, adapter_dir: Path, log: Path):
        self.api_port, self.model_port = free_port(), free_port()
        cmd = [sys.executable, "-m", "rxassist.cli", "serve", "--port", str(self.api_port),
               "--model-port", str(self.model_port), "--adapter-dir", str(SHIPPED_ADAPTERS_DIR),
               "--adapter-dir", str(adapter_dir), "--adapter-rescan", "0", *args.serve_arg]
        if args.base_model:
            cmd += ["--base-model", args.base_model]
        self.log = log
        # The model API always needs its key; given through the environment, not argv.
        self.model_key = secrets.token_urlsafe(32)
        self.model_headers = {"Authorization": f"Bearer {self.model_key}"}
        env = {**os.environ, "RXASSIST_MODEL_API_KEY": self.model_key}
        with open(log, "w") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.model_api = f"http://127.0.0.1:{self.model_port}/v1"

    def wait_ready(self, timeout: float) -> float:
        import httpx

        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"rxassist serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise SystemExit(f"rxassist serve not ready in {timeout:g}s")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


async def load(url: str, payloads: list[dict], concurrency: int,
               headers: dict | None = None) -> tuple[list[dict], float, list[float]]:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    lat: list[float] = []
    async with httpx.AsyncClient(timeout=900, headers=headers) as client:
        async def one(p):
            async with sem:
                t0 = time.perf_counter()
                r = await client.post(url, json=p)
                lat.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"{url} answered {r.status_code}: {r.text[:300]}")
                return r.json()
        t0 = time.perf_counter()
        out = await asyncio.gather(*(one(p) for p in payloads))
        return out, time.perf_counter() - t0, lat


def generation_tokens(model_api: str, headers: dict) -> float:
    import httpx

    text = httpx.get(model_api[:-3] + "/metrics", timeout=10, headers=headers).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("vllm:generation_tokens_total"))


def vllm_part(args, base, adapter, prompts, agree_prompts, cases, results, workdir):
    adapter_dir = workdir / "adapters"
    shutil.copytree(adapter, adapter_dir / LORA_COPY)
    progress("starting rxassist serve (engine start-up; the first start after set-up compiles)")
    srv = Serve(args, adapter_dir, workdir / "serve.log")
    try:
        results["serve_startup_s"] = srv.wait_ready(args.startup_timeout)
        progress(f"rxassist serve ready after {results['serve_startup_s']:.0f}s")
        import httpx
        listed = [m["id"] for m in httpx.get(f"{srv.model_api}/models", timeout=600,
                                                headers=srv.model_headers).json()["data"]]
        default = adapter.name
        base_name = next(n for n in listed if n not in (default, LORA_COPY)
                         and not (SHIPPED_ADAPTERS_DIR / n).is_dir())
        targets = [(f"rxassist serve model API, default adapter ({default}, merged)", default),
                   (f"rxassist serve model API, LoRA adapter by name ({LORA_COPY})", LORA_COPY),
                   (f"rxassist serve model API, base model ({base_name})", base_name)]
        url = f"{srv.model_api}/chat/completions"
        # Warm every engine before timing any: the LoRA engine starts after the API is ready,
        # and its start-up must not overlap the default engine's measurement.
        for _, name in targets:
            asyncio.run(load(url, [_req(name, prompts[-1], 8)], 1, srv.model_headers))
        progress("every engine answered a warm-up request")
        for label, name in targets:
            row = {"engine": label, "model": name}
            for c in args.concurrency:
                batch = run_prompts(prompts, c, args)
                n = len(batch)
                progress(f"model API {name}: {n} requests at concurrency {c}")
                out, t, _ = asyncio.run(load(url, [_req(name, m, args.max_tokens)
                                                   for m in batch], c, srv.model_headers))
                toks = sum(o["usage"]["completion_tokens"] for o in out)
                row[f"c{c}"] = {"tok_s": toks / t, "tokens": toks, "seconds": t, "requests": n}
            results["model_api"].append(row)
        progress(f"agreement in vLLM: {len(agree_prompts)} prompts, merged engine vs LoRA engine")
        texts = {}
        for name in (default, LORA_COPY):
            out, _, _ = asyncio.run(load(url, [_req(name, m, args.agree_tokens, exact=False)
                                               for m in agree_prompts], 8,
                                         srv.model_headers))
            texts[name] = [o["choices"][0]["message"]["content"] for o in out]
        results["agreement"]["vllm_merged_vs_lora"] = compare(texts[default], texts[LORA_COPY])
        assistant_part(args, srv, cases, results)
    finally:
        srv.stop()
        progress("rxassist serve stopped")


def _req(model, messages, max_tokens, exact=True):
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    if exact:
        body["ignore_eos"] = True  # vLLM option: every request writes exactly max_tokens
    return body


def assistant_part(args, srv, cases, results):
    url = f"{srv.api}/v1/chat/completions"
    # cases the model API runs did not use, and a different set per concurrency (prefix cache)
    fresh = cases[args.requests + args.requests_c1 + 1:]
    asyncio.run(load(url, [{"model": "rxassist", "messages": [
        {"role": "user", "content": consultation_text(cases[args.requests])}]}], 1))  # warm-up
    rows = {}
    for c in args.concurrency:
        n = args.consultations if c > 1 else args.consultations_c1
        msgs = [consultation_text(x) for x in
                (fresh[:n] if c > 1 else fresh[args.consultations:args.consultations + n])]
        progress(f"assistant API: {n} one-turn consultations at concurrency {c}")
        g0 = generation_tokens(srv.model_api, srv.model_headers)
        out, t, lat = asyncio.run(load(url, [{"model": "rxassist", "messages": [
            {"role": "user", "content": m}]} for m in msgs[:n]], c))
        gen = generation_tokens(srv.model_api, srv.model_headers) - g0
        statuses = [o.get("rxassist", {}).get("status") for o in out]
        recommended = statuses.count("recommended")
        rows[f"c{c}"] = {"consultations": n, "p50_s": percentile(lat, 0.5),
                         "p95_s": percentile(lat, 0.95), "per_minute": n / t * 60,
                         "seconds": t, "recommended": recommended,
                         "generated_tokens_per_recommended_consultation":
                             gen / recommended if recommended else None}
    results["assistant"] = rows


# -- report ----------------------------------------------------------------------------------------
def table(results, concurrency) -> str:
    base = results["model_api"][0] if results["model_api"] else None
    cols = [f"c{c}" for c in sorted(concurrency, reverse=True)]
    lines = ["| engine and setting | " + " | ".join(
        f"concurrency {c[1:]} tok/s (x baseline)" for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for row in results["model_api"]:
        cells = []
        for c in cols:
            v = row.get(c, {}).get("tok_s")
            b = base.get(c, {}).get("tok_s") if base else None
            cells.append("–" if v is None else f"{v:.1f} ({v / b:.2f}x)" if b else f"{v:.1f}")
        lines.append(f"| {row['engine']} | " + " | ".join(cells) + " |")
    a = results.get("assistant")
    if a:
        lines += ["", "| assistant API, one-turn consultation | p50 s | p95 s | per minute | "
                      "generated tokens per consultation |", "|---|---|---|---|---|"]
        for c in cols:
            r = a.get(c)
            if r:
                tpc = r["generated_tokens_per_recommended_consultation"]
                lines.append(f"| concurrency {c[1:]} ({r['consultations']} consultations, "
                             f"{r['recommended']} recommended) | {r['p50_s']:.1f} | "
                             f"{r['p95_s']:.1f} | {r['per_minute']:.1f} | "
                             f"{'–' if tpc is None else f'{tpc:.0f}'} |")
    for k, v in results["agreement"].items():
        lines.append(f"\nagreement {k}: {v['identical']}/{v['prompts']} identical greedy answers")
    if "serve_startup_s" in results:
        lines.append(f"`rxassist serve` start-up to ready: {results['serve_startup_s']:.0f} s")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-model", default=None, help="as `rxassist serve --base-model`")
    p.add_argument("--adapter", type=Path, default=None,
                   help="adapter folder (default: the shipped default adapter)")
    p.add_argument("--cases", type=Path,
                   default=SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-test-200.jsonl")
    p.add_argument("--requests", type=int, default=16, help="requests per run at concurrency > 1")
    p.add_argument("--requests-c1", type=int, default=8, help="requests per run at concurrency 1")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--concurrency", default="1,8")
    p.add_argument("--consultations", type=int, default=16, help="at concurrency > 1")
    p.add_argument("--consultations-c1", type=int, default=6)
    p.add_argument("--agree", type=int, default=20, help="prompts for merged-vs-unmerged")
    p.add_argument("--agree-tokens", type=int, default=96)
    p.add_argument("--hf-all", action="store_true",
                   help="also time merged and base in transformers (always on GPUs)")
    p.add_argument("--skip-vllm", action="store_true")
    p.add_argument("--serve-arg", action="append", default=[],
                   help="extra `rxassist serve` option (repeatable), e.g. --serve-arg=--dtype=bfloat16")
    p.add_argument("--startup-timeout", type=float, default=1200)
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bench_serving.json")
    args = p.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]

    base = resolve_base_model(args.base_model)
    adapter = args.adapter or SHIPPED_ADAPTERS_DIR / (
        (SHIPPED_ADAPTERS_DIR / "DEFAULT_ADAPTER").read_text().strip())
    cases = read_cases(args.cases).cases
    need = max(args.requests + args.requests_c1 + 1 + args.consultations +
               args.consultations_c1, args.agree)
    cases = [c for c in cases if c.diagnosis is not None][:need]
    # The served prompt: the case's guardrail-filtered candidates, as the assistant builds it.
    prompts = [build_messages(c.patient, c.diagnosis, shortlist(c.patient, c.diagnosis).offered)
               for c in cases]
    results: dict = {"settings": {k: (str(v) if isinstance(v, Path) else v)
                                  for k, v in vars(args).items()},
                     "base_model": base, "adapter": str(adapter), "cpu_count": os.cpu_count(),
                     "model_api": [], "agreement": {}}
    on_gpu = hf_part(args, base, adapter, prompts, prompts[:args.agree], results)
    results["device"] = "cuda" if on_gpu else "cpu"
    if args.skip_vllm:
        progress("vLLM parts skipped (--skip-vllm)")
    elif importlib.util.find_spec("vllm") is None:
        progress("vLLM is not installed here: skipping the rxassist serve parts (the "
                 "transformers baseline, merged and base timings and the agreement check ran)")
        results["vllm_skipped"] = "vllm not installed"
    else:
        with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
            vllm_part(args, base, adapter, prompts, prompts[:args.agree], cases, results,
                      Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results, args.concurrency))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
