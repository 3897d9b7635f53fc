"""Everyday consultations: a guideline-accepted drug in the top 3? a critical-flagged first choice?

    # end to end, through the assistant API (start `rxassist serve` first):
    .venv/bin/python benchmarks/bench_everyday.py --api-url http://127.0.0.1:8000/v1 \
        [--model rxassist] [--limit N] [--out runs/everyday/assistant.json]
    # the candidate list alone, no server (top 3 after removing current medications):
    .venv/bin/python benchmarks/bench_everyday.py --candidates-only [--with-codes] \
        [--out runs/everyday/candidates.json]

Cases: eval/everyday/consultations.jsonl (each with the options its cited guideline accepts).
A recommendation is *accepted* when its active ingredients equal those of an accepted option.
A first choice is *critical* when guardrails.check, run here on the case's true patient (not
on what the assistant understood), gives it a critical flag, or when it has the same
ingredient as a current medication (a new diagnosis does not call for a drug already taken).
In --candidates-only mode three rows are scored per case: `raw` = the ranked candidates minus
current medications, `safe` = minus every critical-flagged candidate as well, and `shortlist` =
what the assistant offers (recommend.shortlist: exclusions, same-class exclusions and warning
demotions for this patient and diagnosis). Every row also counts the cases where a drug of the
case's `must_not_offer` list appears at any of the top k ranks. The diagnosis is given as text only unless --with-codes adds its code;
--from-message reads diagnosis and pregnancy from the message with the assistant's own
deterministic extraction (what the assistant would look up); --without-guidelines drops the
curated first-line evidence (the table and this set were
written together: the ablation shows what the open data alone give).
When the assistant asks for a field the message left out, the benchmark answers it as a
clinician would who does not know ("allergies unknown"; the diagnosis from the case), at most
twice. Writes one JSON file (summary + per-case rows) and prints a table. A benchmark, not a
test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.setting import read_setting  # noqa: E402
from eval.everyday import Consultation, ingredient_key, read_consultations  # noqa: E402


def critical_reasons(case: Consultation, ingredients: list[str], name: str) -> list[str]:
    import guardrails

    reasons = []
    if set(ingredients) & case.current_ingredients():
        reasons.append("current_medication")
    result = guardrails.check([name], case.patient.model_dump(), diagnosis=case.diagnosis)
    reasons += [f"{f.kind}:{f.ingredient}" for f in result.critical]
    return reasons


def score_row(case: Consultation, recs: list[tuple[str, list[str]]], top_k: int) -> dict:
    top = recs[:top_k]
    first = top[0] if top else None
    crit = critical_reasons(case, first[1], first[0]) if first else []
    return {"top": [n for n, _ in top],
            "accepted_in_top": any(case.accepts(i) for _, i in top),
            "first_accepted": bool(first) and case.accepts(first[1]),
            "first_critical": bool(crit), "first_critical_reasons": crit,
            # A drug wrong for the diagnosis itself, at any rank of the answer.
            "must_not_offer": sorted({m for _, i in top for m in case.must_not_offer_hits(i)}),
            "output": bool(top)}


def read_message(message: str) -> tuple[str | None, str | None, bool | None]:
    """The diagnosis text, its ICD-10-CM code and pregnancy the assistant's own deterministic
    extraction reads from the consultation message (no model involved)."""
    import guardrails
    from assistant.dialogue import fold
    from assistant.extract import Extractor

    c = fold([{"role": "user", "content": message}],
             Extractor(guardrails.find_drug_mentions)).consultation
    dx = c.diagnosis()
    return (dx.text if dx else None), (dx.code if dx else None), c.patient().pregnant


def run_candidates(cases: list[Consultation], top_k: int, with_codes: bool,
                   without_guidelines: bool = False, from_message: bool = False) -> list[dict]:
    import gzip

    from recommend.candidates import CandidateIndex, _build, load_index
    from recommend.shortlist import shortlist
    from rxassist.cases import Diagnosis

    idx = load_index()
    if without_guidelines:
        # Ablation: the curated first-line table and this set were written together, so show
        # what the open data (training priors + label indications) achieve on their own.
        data = json.loads(gzip.decompress(_build.INDEX_PATH.read_bytes()))
        data["guidelines"] = {}
        idx = CandidateIndex(data)
    rows = []
    for c in cases:
        t0 = time.perf_counter()
        text, pregnant = c.diagnosis.text, c.patient.pregnant
        code = c.diagnosis.code if with_codes else None
        if from_message:
            text, code, pregnant = read_message(c.message)
        # The setting the consultation states, read as the assistant reads it.
        setting = read_setting([c.message])
        cands = idx.candidates(text, code, limit=25, pregnant=pregnant,
                               setting=setting) if text else []
        current = c.current_ingredients()
        raw = [(x.name, x.ingredients) for x in cands if not set(x.ingredients) & current]
        safe = [(n, i) for n, i in raw if not critical_reasons(c, i, n)]
        # What the assistant offers: the shortlist (exclusions and demotions for this patient).
        dx = Diagnosis(text=text, code=c.diagnosis.code if with_codes else None) if text else None
        offered = [(x.name, list(x.ingredients))
                   for x in shortlist(c.patient, dx, idx, limit=25, offer=None,
                                         setting=setting).offered] if dx else []
        rows.append({"id": c.id, "message": c.message, "diagnosis": text,
                     "setting": c.setting, "setting_read": setting,
                     "raw": score_row(c, raw, top_k),
                     "safe": score_row(c, safe, top_k),
                     "shortlist": score_row(c, offered, top_k),
                     "excluded_critical": [n for n, i in raw[:top_k] if (n, i) not in safe],
                     "seconds": round(time.perf_counter() - t0, 4)})
    return rows


# How a clinician answers the assistant's question for a field the consultation left out:
# "unknown" counts as answered (docs/formats.md, serving), so the assistant then recommends.
_UNKNOWN_ANSWER = {"age": "age unknown", "sex": "sex unknown",
                   "pregnant": "pregnancy status unknown", "weight_kg": "weight unknown",
                   "allergies": "allergies unknown",
                   "current_medications": "current medications unknown"}


def follow_up(case: Consultation, missing: list[str]) -> str:
    parts = [_UNKNOWN_ANSWER.get(f, f"{f} unknown") for f in missing if f != "diagnosis"]
    if "diagnosis" in missing:
        parts.append(f"diagnosis: {case.diagnosis.text}")
    return ", ".join(parts)


def run_api(cases: list[Consultation], top_k: int, api_url: str, model: str,
            api_key: str, timeout: float, max_turns: int = 3) -> list[dict]:
    from openai import OpenAI

    client = OpenAI(base_url=api_url, api_key=api_key, timeout=timeout, max_retries=2)
    rows = []
    for c in cases:
        t0 = time.perf_counter()
        row = {"id": c.id, "message": c.message, "diagnosis": c.diagnosis.text,
               "setting": c.setting}
        messages = [{"role": "user", "content": c.message}]
        try:
            for _ in range(max_turns):
                r = client.chat.completions.create(model=model, messages=messages)
                extra = (r.model_extra or {}).get("rxassist") or {}
                missing = extra.get("missing_fields") or []
                if extra.get("status") != "needs_info" or not missing:
                    break
                messages += [{"role": "assistant", "content": r.choices[0].message.content or ""},
                             {"role": "user", "content": follow_up(c, missing)}]
        except Exception as e:  # noqa: BLE001 - one failed case is reported, the run goes on
            row.update(status="error", error=f"{type(e).__name__}: {e}",
                       api=score_row(c, [], top_k), seconds=round(time.perf_counter() - t0, 2))
            rows.append(row)
            continue
        recs = []
        for rec in extra.get("recommendations") or []:
            name = rec.get("name") or rec.get("drug") or ""
            ingredients = rec.get("ingredients") or sorted(ingredient_key(name))
            recs.append((name, list(ingredients)))
        row.update(status=extra.get("status"), turns=len(messages) // 2 + 1,
                   api=score_row(c, recs, top_k),
                   rationales=[rec.get("rationale") for rec in
                               (extra.get("recommendations") or [])[:top_k]],
                   seconds=round(time.perf_counter() - t0, 2))
        rows.append(row)
    return rows


def summarise(rows: list[dict], key: str) -> dict:
    n = len(rows)
    acc = sum(r[key]["accepted_in_top"] for r in rows)
    crit = sum(r[key]["first_critical"] for r in rows)
    out = sum(r[key]["output"] for r in rows)
    return {"n": n, "accepted_in_top": acc, "accepted_in_top_rate": round(acc / n, 3) if n else 0,
            "first_accepted": sum(r[key]["first_accepted"] for r in rows),
            "critical_first": crit, "output": out, "abstained": n - out,
            "must_not_offer_cases": sum(bool(r[key].get("must_not_offer")) for r in rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--api-url", help="assistant API base URL, e.g. http://127.0.0.1:8000/v1")
    mode.add_argument("--candidates-only", action="store_true",
                      help="score the candidate list alone (no server)")
    ap.add_argument("--abstain", action="store_true",
                    help="run the must-abstain set (eval/everyday/must_abstain.jsonl, or --cases): "
                         "every text must get no recommendation and none of its 'never' drugs")
    ap.add_argument("--model", default="rxassist")
    ap.add_argument("--api-key", default=os.environ.get("RXASSIST_API_KEY", "EMPTY"))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    ap.add_argument("--cases", type=Path, help="consultation file (default: the shipped set)")
    ap.add_argument("--limit", type=int, help="only the first N consultations")
    ap.add_argument("--top-k", type=int, default=3)
    ap.add_argument("--with-codes", action="store_true",
                    help="--candidates-only: also give the ICD-10 code (default: text only)")
    ap.add_argument("--from-message", action="store_true",
                    help="--candidates-only: read diagnosis and pregnancy from the message with "
                         "the assistant's extraction instead of the structured case")
    ap.add_argument("--without-guidelines", action="store_true",
                    help="--candidates-only: drop the curated guideline evidence (ablation)")
    ap.add_argument("--out", type=Path, help="JSON output file")
    args = ap.parse_args(argv)
    if args.top_k < 1 or (args.limit is not None and args.limit < 1):
        print("bench_everyday: --top-k and --limit must be at least 1", file=sys.stderr)
        return 2

    if args.abstain:
        from bench_abstain import run_abstain

        return run_abstain(args)
    cases = read_consultations(args.cases) if args.cases else read_consultations()
    cases = cases[: args.limit] if args.limit else cases
    t0 = time.perf_counter()
    if args.candidates_only:
        rows = run_candidates(cases, args.top_k, args.with_codes, args.without_guidelines,
                              args.from_message)
        summary = {"raw": summarise(rows, "raw"), "safe": summarise(rows, "safe"),
                   "shortlist": summarise(rows, "shortlist")}
        mode_name = ("candidates-only" + (" (text + code)" if args.with_codes else " (text)")
                     + (" read from the message" if args.from_message else "")
                     + (" without guideline evidence" if args.without_guidelines else ""))
    else:
        rows = run_api(cases, args.top_k, args.api_url, args.model, args.api_key, args.timeout)
        summary = {"api": summarise(rows, "api"),
                   "errors": sum(r.get("status") == "error" for r in rows)}
        mode_name = f"assistant API {args.api_url} model {args.model}"
    report = {"mode": mode_name, "top_k": args.top_k, "n_cases": len(cases),
              "seconds": round(time.perf_counter() - t0, 2), "summary": summary, "rows": rows}

    keys = [k for k in ("raw", "safe", "shortlist", "api") if k in summary]
    print(f"everyday consultations: {len(cases)} cases, {mode_name}, top {args.top_k}")
    print(f"{'id':44s} " + " ".join(f"{k:>24s}" for k in keys))
    for r in rows:
        cells = []
        for k in keys:
            s = r[k]
            mark = ("ok " if s["accepted_in_top"] else "-- ") + ("CRIT " if s["first_critical"]
                                                               else "")
            cells.append(f"{mark}{(s['top'][0] if s['top'] else '(none)')[:19]:>19s}")
        print(f"{r['id'][:44]:44s} " + " ".join(f"{c:>24s}" for c in cells))
    for k in keys:
        s = summary[k]
        print(f"{k}: accepted drug in top {args.top_k}: {s['accepted_in_top']}/{s['n']} "
              f"({100 * s['accepted_in_top_rate']:.0f}%); first choice accepted: "
              f"{s['first_accepted']}/{s['n']}; critical-flagged first choice: "
              f"{s['critical_first']}; with output: {s['output']} (abstained: "
              f"{s['abstained']}); must-not-offer at any rank: {s['must_not_offer_cases']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
