"""Guardrails speed and accuracy, with ratios against baselines measured in the same run.

    .venv/bin/python benchmarks/bench_guardrails.py [--repeat 3]

Prints: knowledge-base load time; names normalised per second on the exact path (the
baseline), through dose/form stripping, through combination splitting and through the fuzzy
path (each as a ratio of the exact rate); p50/p99 latency of check() on a realistic list;
CLI start-up (`rxassist guardrails check` end to end vs `python -c pass`); and the accuracy
on the labelled test set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EXACT = ["lisinopril", "Tylenol", "metformin", "Lipitor", "amlodipine", "paracetamol",
         "metoprolol succinate", "Zyrtec", "levothyroxine", "Percocet"]
DOSE_FORM = ["lisinopril 10 MG Oral Tablet", "prednisone 20 mg tablet",
             "Morphine Sulfate (Syringe)", "24 HR metoprolol succinate 50 MG Extended Release"
             " Oral Tablet", "FLUTICASONE NASAL"]
COMBO = ["acetaminophen; hydrocodone", "Albuterol Sulfate-Ipratropium",
         "Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet",
         "lisinopril and hydrochlorothiazide"]
FUZZY = ["amoxicilin", "metformn", "lisinoprill", "omeprazol", "warfarine", "hydrolazine",
         "xyzzyplex", "sertralin"]
# 10 drugs (+3 current medications) with the interaction table loaded (target: p99 < 10 ms).
CHECK10 = (["warfarin", "aspirin 81 mg daily", "simvastatin", "clarithromycin", "sildenafil",
            "metoprolol succinate 50 mg", "lisinopril 10 mg", "Tylenol 500 mg tablets 2 q6h",
            "amlodapine", "timolol eye drops"],
           {"age": 67, "sex": "male", "allergies": ["sulfa"],
            "current_medications": ["isosorbide mononitrate", "metformin 500 mg", "omeprazole"]})
CHECK = (["Tylenol", "Percocet", "amoxicilin", "lisinopril 10 mg", "Zocor"],
         {"age": 30, "sex": "female", "pregnant": True, "allergies": ["penicillin", "sulfa"],
          "current_medications": ["atorvastatin", "metformin 500 mg"]})


def rate(fn, names, min_seconds=1.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        for name in names:
            fn(name)
        n += len(names)
    return n / (time.perf_counter() - t0)


def latency(fn, before=None, n: int = 300) -> tuple[float, float]:
    """p50 and p99 seconds of `fn()` over n calls; `before()` runs untimed before each."""
    lat = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t0)
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]


def startup(cmd, stdin: str | None, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, cwd=REPO)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from guardrails import _kb, _normalize, check
    from guardrails._labelled import evaluate
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    _kb.load()
    t_load = time.perf_counter() - t0
    print(f"import guardrails: {t_import * 1000:.0f} ms; knowledge base load: "
          f"{t_load * 1000:.0f} ms ({len(_kb.load().names)} names)")

    # Uncached: the API caches results, which would make every path look free.
    raw = _normalize._normalize_cached.__wrapped__
    check(["warm-up"])  # loads rules, rapidfuzz and the fuzzy index once
    raw("amoxicilin")
    base = rate(raw, EXACT)
    print(f"exact names/s (baseline): {base:,.0f}")
    for label, names in (("dose/form", DOSE_FORM), ("combination", COMBO), ("fuzzy", FUZZY)):
        r = rate(raw, names)
        print(f"{label} names/s: {r:,.0f}  ({r / base:.3f}x exact)")

    clear = _normalize._normalize_cached.cache_clear
    p50, p99 = latency(lambda: check(*CHECK), before=clear)
    print(f"check() of 5 drugs + 2 current meds, uncached: p50 {p50 * 1000:.2f} ms, "
          f"p99 {p99 * 1000:.2f} ms")
    for cached in (False, True):
        check(*CHECK10)  # loads the interaction table once
        p50, p99 = latency(lambda: check(*CHECK10), before=None if cached else clear)
        print(f"check() of 10 drugs + 3 current meds, interaction table loaded, "
              f"{'names cached' if cached else 'uncached'}: p50 {p50 * 1000:.2f} ms, "
              f"p99 {p99 * 1000:.2f} ms")

    script = Path(sys.executable).parent / "rxassist"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "rxassist.cli"]
    stdin = json.dumps({"drugs": CHECK[0], "patient": CHECK[1]})
    t_py = startup([sys.executable, "-c", "pass"], None, args.repeat)
    t_ver = startup([*cli, "--version"], None, args.repeat)
    t_cli = startup([*cli, "guardrails", "check"], stdin, args.repeat)
    print(f"CLI `rxassist guardrails check` end to end (median of {args.repeat}): "
          f"{t_cli * 1000:.0f} ms; baselines: `rxassist --version` {t_ver * 1000:.0f} ms "
          f"({t_cli / t_ver:.1f}x), `python -c pass` {t_py * 1000:.0f} ms ({t_cli / t_py:.1f}x)")
    print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    report = evaluate()
    print(f"labelled set accuracy: {report['correct']}/{report['total']} = "
          f"{report['accuracy']:.1%}")
    for e in report["errors"]:
        print(f"  miss: {e}")


if __name__ == "__main__":
    main()
