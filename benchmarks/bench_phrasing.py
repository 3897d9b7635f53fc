"""Score a consultation reader on the phrasing set (eval/phrasing/phrasing.jsonl); it runs the assistant's
reader, so it sits with the benchmarks, above the assistant and eval layers.

A *reader* is any function `turns -> Reading`: it gets the user turns of one consultation in
order and says what it understood (patient fields, comorbidities, the diagnosis) and which
required fields it would still ask for. `rules_reader` is the assistant's deterministic reader
run through the real dialogue fold, with the assistant's own "Still needed:" turns in between,
so multi-turn answers are read exactly as the served assistant reads them.

    .venv/bin/python benchmarks/bench_phrasing.py [--split test|dev|all] [--out FILE] [--show-errors]

Measures (docs/phrasing.md explains each):
  per field precision / recall   age, sex, pregnant, allergies, current_medications,
                                 comorbidities (list fields: per item)
  diagnosis read rate            the reading's ICD-10 category equals the gold one, or the
                                 candidate index reads both as the same clinical concept
  medication recall, invented    gold medications found; read medications no gold one matches
  allergy recall
  Korean answered                Korean consultations that reach a recommendation (nothing
                                 left to ask) with the diagnosis read correctly
  blocked                        consultations still asking for a field the text gives
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SET_PATH = REPO / "eval" / "phrasing" / "phrasing.jsonl"
SCALAR_FIELDS = ("age", "sex", "pregnant")
LIST_FIELDS = ("allergies", "current_medications", "comorbidities")


@dataclass
class Reading:
    """What a reader understood from one consultation."""

    patient: dict[str, Any] = field(default_factory=dict)
    diagnosis: dict[str, Any] | None = None          # {"text": ..., "code": ...}
    missing: list[str] = field(default_factory=list)   # required fields it would still ask for


Reader = Callable[[list[str]], Reading]


@dataclass(frozen=True)
class PhrasingCase:
    id: str
    split: str
    lang: str
    tags: tuple[str, ...]
    turns: tuple[str, ...]
    gold: dict[str, Any]


def load_set(path: Path = SET_PATH, split: str = "test") -> list[PhrasingCase]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = PhrasingCase(row["id"], row["split"], row["lang"], tuple(row.get("tags", [])),
                                tuple(row["turns"]), row["gold"])
        except (ValueError, KeyError, TypeError) as e:
            print(f"{path}:{n}: skipped, not a phrasing case ({e})", file=sys.stderr)
            continue
        if split == "all" or case.split == split:
            cases.append(case)
    return cases


# -- the assistant's own reader --------------------------------------------------------------------
def rules_reader(turns: list[str]) -> Reading:
    """The deterministic reader through the dialogue fold, as the served assistant runs it."""
    import guardrails
    from assistant import render
    from assistant.dialogue import fold
    from assistant.extract import Extractor

    extractor = Extractor(guardrails.find_drug_mentions)
    messages: list[dict] = []
    folded = None
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        folded = fold(messages, extractor)
        missing = folded.consultation.missing()
        reply = render.needs_info(folded.consultation, missing) if missing else "Recommended."
        messages.append({"role": "assistant", "content": reply})
    c = folded.consultation
    # (diagnosis_record is absent from assistant code before the coded diagnosis: the scorer
    # still reads it, so the same command measures before and after.)
    record = c.diagnosis_record() if hasattr(c, "diagnosis_record") else (
        c.diagnosis().model_dump() if c.diagnosis() else None)
    if record is not None and not isinstance(record, dict):
        record = record.model_dump()   # typed since the result stopped carrying dicts
    diagnosis = None
    if record:
        coded = record.get("icd10cm") or {}
        diagnosis = {"text": record["text"], "code": coded.get("code") or record.get("code")}
    return Reading(patient=c.patient().model_dump(), diagnosis=diagnosis, missing=list(c.missing()))


# -- matching --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _index():
    from recommend.candidates import load_index
    return load_index()


@lru_cache(maxsize=4096)
def _top_concept(text: str, code: str | None) -> str | None:
    try:
        info = _index().match_info(text, code)
    except Exception:   # an unreadable diagnosis simply has no concept
        return None
    return info.concepts[0].name if info.concepts else None


def _category(code: str | None) -> str | None:
    return code.strip().upper().replace(".", "")[:3] if code else None


def _strip_code(text: str) -> str:
    return re.sub(r"\s*\([A-Z]\d[\w.]*\)\s*$", "", text or "").strip()


def diagnosis_correct(read: dict | None, gold: dict) -> bool:
    if not read or not read.get("text"):
        return False
    if read.get("code") and _category(read["code"]) == _category(gold.get("code")):
        return True
    gold_concept = _top_concept(gold["text"], gold.get("code"))
    read_concept = _top_concept(_strip_code(read["text"]), read.get("code"))
    if gold_concept is not None:
        return read_concept == gold_concept
    return _norm(gold["text"]) in _norm(read["text"])


def _norm(s: str) -> str:
    s = re.sub(r"[^a-z0-9 ]+", " ", _strip_code(str(s)).lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in s.split())


@lru_cache(maxsize=4096)
def _ingredients(name: str) -> frozenset[str]:
    import guardrails
    return frozenset(guardrails.ingredients_of(name))


def item_matches(field_name: str, read: str, gold: str) -> bool:
    if _norm(read) == _norm(gold) or (len(_norm(gold)) > 3 and _norm(gold) in _norm(read)):
        return True
    if field_name == "comorbidities":
        concept = _top_concept(_norm(gold), None)
        if concept is not None and concept == _top_concept(_strip_code(read), None):
            return True
        a, b = _coded(_strip_code(read)), _coded(gold)
        return bool(a and b and a == b)
    a, b = _ingredients(read), _ingredients(gold)
    return bool(a and b and a & b)


def _coded(text: str) -> str | None:
    """The ICD-10 category the assistant's coder gives a condition name, for matching only."""
    from assistant.extract.coding import code_diagnosis
    coded = code_diagnosis(text)
    return _category(coded.code) if coded else None


def _value_equal(name: str, read: Any, gold: Any) -> bool:
    if name == "age":
        return abs(float(read) - float(gold)) <= max(0.05, 0.02 * float(gold))
    return read == gold


# -- scoring ---------------------------------------------------------------------------------------
@dataclass
class Tally:
    tp: int = 0          # gold values (items) read correctly
    tp_read: int = 0     # read values (items) that match a gold one
    read: int = 0
    gold: int = 0

    def precision(self) -> float | None:
        return self.tp_read / self.read if self.read else None

    def recall(self) -> float | None:
        return self.tp / self.gold if self.gold else None


def _blocked_for(gold: dict, missing: list[str]) -> list[str]:
    """Required fields still asked for although the consultation states them."""
    out = []
    for name in missing:
        value = gold["diagnosis"] if name == "diagnosis" else gold.get(name)
        if value is not None:
            out.append(name)
    return out


def score(reader: Reader, cases: list[PhrasingCase]) -> dict[str, Any]:
    tallies = {f: Tally() for f in SCALAR_FIELDS + LIST_FIELDS}
    rows = []
    invented = 0
    latencies = []
    for case in cases:
        t0 = time.perf_counter()
        reading = reader(list(case.turns))
        latencies.append(time.perf_counter() - t0)
        gold = case.gold
        errors: list[str] = []
        for name in SCALAR_FIELDS:
            r, g = reading.patient.get(name), gold.get(name)
            tally = tallies[name]
            tally.read += r is not None
            tally.gold += g is not None
            if r is not None and g is not None and _value_equal(name, r, g):
                tally.tp += 1
                tally.tp_read += 1
            elif r != g and not (r is None and g is None):
                errors.append(f"{name}: read {r!r}, gold {g!r}")
        for name in LIST_FIELDS:
            r_items = [str(x) for x in (reading.patient.get(name) or [])]
            g_items = [str(x) for x in (gold.get(name) or [])]
            tally = tallies[name]
            tally.read += len(r_items)
            tally.gold += len(g_items)
            hit_gold = [g for g in g_items if any(item_matches(name, r, g) for r in r_items)]
            hit_read = [r for r in r_items if any(item_matches(name, r, g) for g in g_items)]
            tally.tp += len(hit_gold)
            tally.tp_read += len(hit_read)
            extra = [r for r in r_items if r not in hit_read]
            missed = [g for g in g_items if g not in hit_gold]
            if name == "current_medications":
                invented += len(extra)
            if extra or missed:
                errors.append(f"{name}: missed {missed}, extra {extra}")
        dx_ok = diagnosis_correct(reading.diagnosis, gold["diagnosis"])
        if not dx_ok:
            errors.append(f"diagnosis: read {reading.diagnosis!r}, gold {gold['diagnosis']!r}")
        blocked = _blocked_for(gold, reading.missing)
        if blocked:
            errors.append(f"blocked asking for {blocked}")
        rows.append({"id": case.id, "lang": case.lang, "tags": list(case.tags),
                     "diagnosis_ok": dx_ok, "blocked": blocked,
                     "answered": dx_ok and not reading.missing,
                     "read": {"patient": reading.patient, "diagnosis": reading.diagnosis,
                              "missing": reading.missing},
                     "errors": errors})
    korean = [r for r in rows if r["lang"] == "ko"]
    summary = {
        "n": len(rows),
        "n_korean": len(korean),
        "fields": {name: {"precision": t.precision(), "recall": t.recall(), "n_gold": t.gold}
                   for name, t in tallies.items()},
        "diagnosis_read_rate": _share(sum(r["diagnosis_ok"] for r in rows), len(rows)),
        "medication_recall": tallies["current_medications"].recall(),
        "invented_medications": invented,
        "allergy_recall": tallies["allergies"].recall(),
        "korean_answered_rate": _share(sum(r["answered"] for r in korean), len(korean)),
        "answered_rate": _share(sum(r["answered"] for r in rows), len(rows)),
        "blocked": sum(bool(r["blocked"]) for r in rows),
        "latency_ms_mean": 1000 * sum(latencies) / max(1, len(latencies)),
        "latency_ms_median": 1000 * statistics.median(latencies) if latencies else 0.0,
        "latency_ms_max": 1000 * max(latencies, default=0.0),
    }
    return {"summary": summary, "rows": rows}


def _share(k: int, n: int) -> float | None:
    return k / n if n else None


def _pct(x: float | None) -> str:
    return "  -  " if x is None else f"{100 * x:5.1f}"


def table(summary: dict[str, Any], name: str = "rules") -> str:
    lines = [f"reader: {name}  (n={summary['n']}, Korean {summary['n_korean']})",
             f"{'field':22s} {'precision':>9s} {'recall':>7s} {'n gold':>7s}"]
    for field_name, m in summary["fields"].items():
        lines.append(f"{field_name:22s} {_pct(m['precision']):>9s} {_pct(m['recall']):>7s} "
                     f"{m['n_gold']:>7d}")
    lines += [
        f"diagnosis read rate     {_pct(summary['diagnosis_read_rate'])}%",
        f"medication recall       {_pct(summary['medication_recall'])}%   invented: "
        f"{summary['invented_medications']}",
        f"allergy recall          {_pct(summary['allergy_recall'])}%",
        f"Korean answered         {_pct(summary['korean_answered_rate'])}%",
        f"answered (all)          {_pct(summary['answered_rate'])}%",
        f"blocked for given info  {summary['blocked']}",
        f"latency median / mean / max  {summary['latency_ms_median']:.1f} / "
        f"{summary['latency_ms_mean']:.1f} / {summary['latency_ms_max']:.1f} ms "
        "(the first consultation loads the tables)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("test", "dev", "all"), default="test")
    p.add_argument("--set", type=Path, default=SET_PATH)
    p.add_argument("--out", type=Path, help="write summary and per-case rows as JSON")
    p.add_argument("--show-errors", action="store_true")
    args = p.parse_args(argv)
    cases = load_set(args.set, args.split)
    if not cases:
        print(f"no cases in split {args.split!r} of {args.set}", file=sys.stderr)
        return 2
    result = score(rules_reader, cases)
    print(table(result["summary"]))
    if args.show_errors:
        for row in result["rows"]:
            if row["errors"]:
                print(f"- {row['id']}: " + "; ".join(row["errors"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
