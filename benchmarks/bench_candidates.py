"""How much of real prescribing the candidate lists cover, and how fast a lookup is.

    .venv/bin/python benchmarks/bench_candidates.py [--cases data/cases/nhanes-2013-2014-val.jsonl]
                                                   [--k 1 3 12] [--text-only] [--out FILE]

For every case: the candidates for its diagnosis (code + text, or text only), minus the
patient's current medications. Reports per k: coverage (share of cases with at least one
recorded drug among the top k, matched on the whole ingredient set of a product), recall of
the recorded products, and, beside it, the same for the baseline measured in the same run:
the products most often recorded for the exact code in the training split (the frequency
rule of eval, here with no category fallback). The coverage at the assistant's list length is
the ceiling of what a model choosing only among candidates can match. Lookup latency
p50/p99 and index load time are printed too. Use the validation split (the default): the test
split is for the final evaluation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rxassist.cases import read_cases  # noqa: E402


def product_key(name: str) -> frozenset[str]:
    import guardrails

    r = guardrails.normalize(name)
    return frozenset(i.lower() for i in r.ingredients) if r.known else frozenset({name.lower()})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=Path,
                    default=REPO / "data/cases/nhanes-2013-2014-val.jsonl")
    ap.add_argument("--train", type=Path,
                    default=REPO / "data/cases/nhanes-2013-2014-train.jsonl")
    ap.add_argument("--k", type=int, nargs="+", default=[1, 3, 12])
    ap.add_argument("--text-only", action="store_true", help="do not give the ICD-10 code")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--floor", nargs=2, metavar=("PATIENTS", "SHARE"),
                    help="evidence floor for records priors (default: candidates/_floor.py); "
                         "'1 0' = no floor")
    ap.add_argument("--allow-cooccurrence-only", action="store_true",
                    help="offer drugs supported only by records co-occurrence (the rule off)")
    ap.add_argument("--prior-alone", nargs=2, metavar=("PATIENTS", "SHARE"),
                    help="records priors that suffice without a label or guideline row "
                         "(default: candidates/_floor.py); '100000 1' = never")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    from recommend.candidates import _floor
    if args.floor:
        _floor.MIN_PATIENTS, _floor.MIN_SHARE = int(args.floor[0]), float(args.floor[1])
    if args.allow_cooccurrence_only:
        _floor.REQUIRE_TREATMENT_EVIDENCE = False
    if args.prior_alone:
        _floor.PRIOR_ALONE_MIN_PATIENTS = int(args.prior_alone[0])
        _floor.PRIOR_ALONE_MIN_SHARE = float(args.prior_alone[1])
    if "test" in args.cases.name:
        print("bench_candidates: note: scoring on a test split", file=sys.stderr)

    t0 = time.perf_counter()
    from recommend.candidates import _index, load_index
    idx = load_index()
    load_s = time.perf_counter() - t0

    by_code: dict[str, Counter] = defaultdict(Counter)
    for c in read_cases(args.train).cases:
        for d in set(c.drugs):
            by_code[c.diagnosis.code or ""][product_key(d)] += 1

    cases = read_cases(args.cases).cases[: args.limit]
    kmax = max(args.k)
    stats = {k: {"cand_cov": 0, "cand_rec": 0.0, "cand_jac": 0.0, "base_cov": 0, "base_rec": 0.0,
                 "base_jac": 0.0} for k in args.k}
    latencies, empty = [], 0
    for c in cases:
        truth = {product_key(d) for d in c.drugs}
        current: set[str] = set()
        for m in c.patient.current_medications or []:
            current |= product_key(m)
        t = time.perf_counter()
        cands = idx.candidates(c.diagnosis.text, None if args.text_only else c.diagnosis.code,
                               limit=kmax + 10)
        latencies.append(time.perf_counter() - t)
        ranked = [frozenset(x.ingredients) for x in cands if not set(x.ingredients) & current]
        base = [p for p, _ in sorted(by_code.get(c.diagnosis.code or "", Counter()).items(),
                                     key=lambda kv: (-kv[1], sorted(kv[0])))
                if not p & current]
        empty += not ranked
        for k in args.k:
            hit_c, hit_b = truth & set(ranked[:k]), truth & set(base[:k])
            stats[k]["cand_cov"] += bool(hit_c)
            stats[k]["cand_rec"] += len(hit_c) / len(truth)
            stats[k]["base_cov"] += bool(hit_b)
            stats[k]["base_rec"] += len(hit_b) / len(truth)
            # Jaccard of the recorded products and the top k (eval's set overlap, per product)
            stats[k]["cand_jac"] += len(hit_c) / len(truth | set(ranked[:k]))
            stats[k]["base_jac"] += len(hit_b) / len(truth | set(base[:k]))

    n = len(cases)
    lat = sorted(latencies)
    report = {"cases": str(args.cases), "n": n, "text_only": args.text_only,
              "index_version": idx.version, "index_load_s": round(load_s, 3),
              "lookup_p50_ms": round(1000 * statistics.median(lat), 1),
              "lookup_p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1),
              "floor": {"min_patients": _floor.MIN_PATIENTS, "min_share": _floor.MIN_SHARE,
                        "require_treatment_evidence": _floor.REQUIRE_TREATMENT_EVIDENCE,
                        "prior_alone": [_floor.PRIOR_ALONE_MIN_PATIENTS,
                                        _floor.PRIOR_ALONE_MIN_SHARE]},
              "no_candidates": empty, "weights": {"label": _index.W_LABEL,
                                                  "guideline": _index.W_GUIDELINE,
                                                  "popularity": _index.W_POPULARITY},
              "by_k": {k: {m: round(v / n, 3) for m, v in s.items()} for k, s in stats.items()}}
    print(f"{n} cases from {args.cases.name} ({'text only' if args.text_only else 'code + text'});"
          f" index {idx.version} loaded in {load_s:.2f} s; lookup p50 "
          f"{report['lookup_p50_ms']} ms, p99 {report['lookup_p99_ms']} ms; "
          f"no candidates for {empty}")
    print(f"floor: {report['floor']}")
    print(f"{'k':>3} {'candidates coverage':>20} {'recall':>8} {'jaccard':>8} "
          f"{'frequency coverage':>20} {'recall':>8} {'jaccard':>8}")
    for k, s in report["by_k"].items():
        print(f"{k:>3} {s['cand_cov']:>20.3f} {s['cand_rec']:>8.3f} {s['cand_jac']:>8.3f} "
              f"{s['base_cov']:>20.3f} {s['base_rec']:>8.3f} {s['base_jac']:>8.3f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
