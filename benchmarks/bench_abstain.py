"""Must-abstain texts: no recommendation, and never one of the case's 'never' drugs.

    .venv/bin/python benchmarks/bench_everyday.py --abstain --candidates-only [--out FILE]
    .venv/bin/python benchmarks/bench_everyday.py --abstain --api-url http://127.0.0.1:8000/v1

Candidates only: the candidate lookup (diagnosis text, the setting read from the message) must
return nothing. Through the API: the assistant must answer without recommendations (status
`nothing_survives`, after answering its questions as bench_everyday does). Writes one JSON
(summary + per-case rows) and prints a table.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.setting import read_setting  # noqa: E402
from eval.everyday import ingredient_key  # noqa: E402
from eval.everyday.abstain import AbstainCase, read_abstain_cases  # noqa: E402


def _never_hits(case: AbstainCase, names: list[str]) -> list[str]:
    hits = []
    for name in names:
        key = ingredient_key(name)
        hits += [n for n in case.never if ingredient_key(n) and ingredient_key(n) <= key]
    return sorted(set(hits))


def _candidates(cases: list[AbstainCase]) -> list[dict]:
    from recommend.candidates import load_index

    idx = load_index()
    rows = []
    for c in cases:
        r = idx.lookup(c.diagnosis.text, None, limit=25, setting=read_setting([c.message]))
        names = [x.name for x in r.candidates]
        rows.append({"id": c.id, "diagnosis": c.diagnosis.text, "abstained": not names,
                     "offered": names[:5], "never_offered": _never_hits(c, names),
                     "advice": r.advice[:1],
                     "held_back": [f"{h.name}: {h.reason}" for h in r.held_back[:3]]})
    return rows


def _api(cases: list[AbstainCase], args) -> list[dict]:
    from openai import OpenAI

    client = OpenAI(base_url=args.api_url, api_key=args.api_key, timeout=args.timeout,
                    max_retries=2)
    rows = []
    for c in cases:
        messages = [{"role": "user", "content": c.message}]
        try:
            for _ in range(3):
                r = client.chat.completions.create(model=args.model, messages=messages)
                extra = (r.model_extra or {}).get("rxassist") or {}
                missing = extra.get("missing_fields") or []
                if extra.get("status") != "needs_info" or not missing:
                    break
                answer = ", ".join(f"{f} unknown" if f != "diagnosis"
                                   else f"diagnosis: {c.diagnosis.text}" for f in missing)
                messages += [{"role": "assistant", "content": r.choices[0].message.content},
                             {"role": "user", "content": answer}]
        except Exception as e:  # noqa: BLE001 - one failed case is reported, the run goes on
            rows.append({"id": c.id, "status": "error", "error": f"{type(e).__name__}: {e}",
                         "abstained": False, "never_offered": []})
            continue
        names = [rec.get("drug") or rec.get("name") or ""
                 for rec in extra.get("recommendations") or []]
        content = r.choices[0].message.content or ""
        rows.append({"id": c.id, "diagnosis": c.diagnosis.text, "status": extra.get("status"),
                     "abstained": not names, "offered": names,
                     "never_offered": _never_hits(c, names),
                     "says_no_reliable_evidence": "no reliable evidence" in content})
    return rows


def run_abstain(args) -> int:
    cases = read_abstain_cases(args.cases) if args.cases else read_abstain_cases()
    cases = cases[: args.limit] if args.limit else cases
    t0 = time.perf_counter()
    rows = _candidates(cases) if args.candidates_only else _api(cases, args)
    n = len(rows)
    summary = {"n": n, "abstained": sum(r["abstained"] for r in rows),
               "never_offered_cases": sum(bool(r["never_offered"]) for r in rows),
               "errors": sum(r.get("status") == "error" for r in rows)}
    mode = "candidates-only" if args.candidates_only else f"assistant API {args.api_url}"
    for r in rows:
        mark = "ok " if r["abstained"] else "-- "
        print(f"{mark}{r['id'][:50]:50s} {', '.join(r.get('offered') or [])[:60]}")
    print(f"must-abstain ({mode}): abstained {summary['abstained']}/{n}; a 'never' drug "
          f"offered in {summary['never_offered_cases']}; errors {summary['errors']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"mode": mode, "n_cases": n,
                                        "seconds": round(time.perf_counter() - t0, 2),
                                        "summary": summary, "rows": rows},
                                       indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    return 0 if summary["abstained"] == n and not summary["never_offered_cases"] else 1
