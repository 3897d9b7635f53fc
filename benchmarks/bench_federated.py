"""Centralised vs federated FA-LoRA (no DP, DP at several noise levels) vs one site alone, on
the embedded model with the same step budget, then the model's own choice on the held-out NHANES
test split (`rxassist eval run --no-fill`) through one real `rxassist serve`.

    PYTHONPATH=. python benchmarks/bench_federated.py --out runs/fedtable

Rows (every row: the same total optimizer steps of the same batch size, FA-LoRA r16):
  centralised   the pooled cases of all sites, `rxassist finetune`
  federated     `rxassist finetune federated`, sites x rounds x local steps = the same steps
  federated+DP  the same with --noise-multiplier Z (epsilon reported by Flower's RDP accountant)
  single site   hospital-1's cases alone, `rxassist finetune`
plus two references without training: the base model and the evidence-order prior (no model).
Every command it runs is printed; results go to OUT/table.json and OUT/table.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAIN = ROOT / "data/cases/nhanes-2013-2014-train.jsonl"
TEST = ROOT / "data/cases/nhanes-2013-2014-test-200.jsonl"
SYNTHEA = ROOT / "data/cases/synthea-sample.jsonl"
KEY = "bench-federated-model-key-" + os.urandom(6).hex()


def rx(*args: str, log: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "rxassist.cli", *args]
    print("$ rxassist " + " ".join(args), flush=True)
    t0 = time.perf_counter()
    with open(log or os.devnull, "w") as fh:
        subprocess.run(cmd, check=True, stdout=fh, stderr=subprocess.STDOUT,
                       env={**os.environ, "OPENAI_API_KEY": KEY})
    return round(time.perf_counter() - t0, 1)


def write_sites(args, data: Path) -> None:
    """The very sites the federated rows use, pooled (centralised row) and hospital-1 alone."""
    from finetune.fed_config import FederatedConfig
    from finetune.federated import build_sites

    cfg = FederatedConfig.build(cases=TRAIN, out=data / "unused", sites=args.sites,
                                site_files=[f"synthea={SYNTHEA}"], local_steps=1,
                                max_site_cases=args.site_cases, seed=0)
    sites = build_sites(cfg)
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "pooled.jsonl", "w") as pooled:
        for s in sites:
            for c in s.cases:
                pooled.write(c.model_dump_json() + "\n")
    with open(data / "hospital-1.jsonl", "w") as one:
        for c in sites[0].cases:
            one.write(c.model_dump_json() + "\n")
    print(json.dumps({s.name: len(s.cases) for s in sites}))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--sites", type=int, default=2, help="NHANES hospitals (+ Synthea as a site)")
    p.add_argument("--site-cases", type=int, default=60, help="cases per site (sampled)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--local-steps", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--noise", default="0.3,1.0,3.0", help="DP noise multipliers")
    p.add_argument("--clipping-norm", type=float, default=0.5)
    p.add_argument("--eval-limit", type=int, default=40)
    p.add_argument("--port", type=int, default=8120)
    p.add_argument("--model-port", type=int, default=8220)
    p.add_argument("--skip-train", action="store_true", help="evaluate what OUT already holds")
    args = p.parse_args(argv)

    out = args.out.resolve()
    adapters, logs = out / "adapters", out / "logs"
    n_sites = args.sites + 1
    steps = n_sites * args.rounds * args.local_steps
    common = ["--batch-size", str(args.batch_size), "--threads", "1", "--seed", "0"]
    fed = ["finetune", "federated", "--cases", str(TRAIN), "--sites", str(args.sites),
           "--site-file", f"synthea={SYNTHEA}", "--max-site-cases", str(args.site_cases),
           "--rounds", str(args.rounds), "--local-steps", str(args.local_steps), *common]
    rows: list[dict] = []
    if not args.skip_train:
        shutil.rmtree(out, ignore_errors=True)
        logs.mkdir(parents=True)
        adapters.mkdir()
        write_sites(args, out / "data")

        def central(name: str, cases: Path, label: str) -> None:
            wall = rx("finetune", "--cases", str(cases), "--method", "fa-lora",
                      "--max-steps", str(steps), "--save-steps", str(steps), "--out",
                      str(out / "runs" / name), "--no-progress", *common, log=logs / f"{name}.log")
            rx("finetune", "install", str(out / "runs" / name / f"checkpoint-{steps}"),
               "--name", name, "--dest", str(adapters))
            rows.append({"row": label, "adapter": name, "wall_s": wall, "bytes_per_round": None,
                         "epsilon": None})

        def federated(name: str, label: str, noise: float = 0.0) -> None:
            extra = ["--noise-multiplier", str(noise), "--clipping-norm",
                     str(args.clipping_norm)] if noise else []
            wall = rx(*fed, *extra, "--out", str(adapters / name), log=logs / f"{name}.log")
            rep = json.loads((adapters / name / "federated_report.json").read_text())
            rows.append({"row": label, "adapter": name, "wall_s": wall,
                         "bytes_per_round": rep["bytes_per_round"]["fa_lora_b_only"],
                         "lora_bytes_per_round": rep["bytes_per_round"]["lora_a_and_b_equivalent"],
                         "epsilon": rep["dp"]["epsilon"], "delta": rep["dp"]["delta"],
                         "noise_multiplier": noise})

        central("central", out / "data" / "pooled.jsonl", "centralised FA-LoRA (pooled sites)")
        federated("fed-nodp", "federated FA-LoRA, no DP")
        for z in [float(x) for x in args.noise.split(",") if x]:
            federated(f"fed-dp-z{z:g}", f"federated FA-LoRA, DP z={z:g} C={args.clipping_norm:g}",
                      z)
        central("single-hospital-1", out / "data" / "hospital-1.jsonl",
                "single site alone (hospital-1)")
        (out / "rows.json").write_text(json.dumps(rows, indent=2))
    else:
        rows = json.loads((out / "rows.json").read_text())

    serve = subprocess.Popen(
        [sys.executable, "-m", "rxassist.cli", "serve", "--port", str(args.port), "--model-port",
         str(args.model_port), "--adapter-dir", str(adapters), "--model-api-key", KEY,
         "--merge-default", "off"], stdout=open(logs / "serve.log", "w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    model_url = f"http://127.0.0.1:{args.model_port}/v1"
    try:
        deadline = time.monotonic() + 900
        while True:
            assert serve.poll() is None, "rxassist serve exited; see logs/serve.log"
            try:
                if httpx.get(f"http://127.0.0.1:{args.port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "rxassist serve did not become healthy"
            time.sleep(3)
        engine = [m["id"] for m in httpx.get(f"{model_url}/models", timeout=10, headers={
            "Authorization": f"Bearer {KEY}"}).json()["data"]]
        refs = [{"row": "base model, no adapter", "adapter": engine[0]},
                {"row": "evidence-order prior (no model)", "adapter": None}]
        for r in rows + refs:
            target = ["--target", "prior"] if r["adapter"] is None else [
                "--base-url", model_url, "--model", r["adapter"], "--no-fill"]
            ev = out / "eval" / (r["adapter"] or "prior")
            shutil.rmtree(ev, ignore_errors=True)
            r["eval_wall_s"] = rx("eval", "run", "--cases", str(TEST), "--limit",
                                  str(args.eval_limit), "--out", str(ev), "--no-progress",
                                  *target, log=logs / f"eval-{ev.name}.log")
            m = json.loads((ev / "metrics.json").read_text())
            r.update({k: m.get(k) for k in ("n_cases", "output_rate", "ingredient_accuracy",
                                            "jaccard")})
        rows += refs
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
    (out / "table.json").write_text(json.dumps({"steps_total": steps, "batch_size":
                                                args.batch_size, "rows": rows}, indent=2))
    lines = table_lines(rows)
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def table_lines(rows: list[dict]) -> list[str]:
    """The Markdown table; a row whose adapter answered nothing has no accuracy ("—")."""
    def num(x):
        return "—" if x is None else f"{x:.3f}"
    lines = ["| row | output rate | ingredient accuracy | Jaccard | wall time (train) | "
             "bytes/round (LoRA) | epsilon (delta) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b = (f"{r['bytes_per_round'] / 2**20:.1f} MiB ({r['lora_bytes_per_round'] / 2**20:.1f})"
             if r.get("bytes_per_round") else "—")
        eps = f"{r['epsilon']:.1f} ({r['delta']:g})" if r.get("epsilon") else "—"
        wall = f"{r['wall_s']:.0f} s" if r.get("wall_s") else "—"
        lines.append(f"| {r['row']} | {num(r.get('output_rate'))} | "
                     f"{num(r.get('ingredient_accuracy'))} | {num(r.get('jaccard'))} | {wall} | "
                     f"{b} | {eps} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
