"""Field-level scoring of consultation readers against gold fields (pure: no model, no server).

A phrasing file is JSONL, one consultation a line:

    {"id": "en-017", "lang": "en", "split": "test",
     "text": "62 M, ED, on isosorbide mononitrate for angina, NKDA",     # or "turns": [...]
     "gold": {"age": 62, "sex": "male", "pregnant": null, "weight_kg": null,
              "allergies": [], "current_medications": ["isosorbide mononitrate"],
              "diagnosis": "erectile dysfunction", "diagnosis_code": "N52.9"}}

`turns` is a list of user texts (or {role, content} messages) for multi-turn consultations.
Instead of `gold`, a case-file shape is read too: `patient` {...} plus `diagnosis`
{"text", "code"}. A gold field that is null or absent was not stated: a reader that fills it
makes a false positive. An empty list means "none" was stated.

Scores per field (inspect_ai's habit: the solver, here a reader, is separate from the scorer):

    scalar fields  age, sex, pregnant, weight_kg, diagnosis: precision = correct / filled,
                   recall = correct / stated in gold
    list fields    allergies, current_medications: per item (matched by a key function, e.g.
                   active ingredients), precision and recall over all items; `invented` counts
                   items no gold list holds
    blocked        the reader left a required field open that the gold states
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

SCALARS = ("age", "sex", "pregnant", "weight_kg", "diagnosis")
LISTS = ("allergies", "current_medications")
FIELDS = SCALARS + LISTS


@dataclass
class PhrasingCase:
    id: str
    turns: list[Any]                  # user texts, or {role, content} messages
    gold: dict[str, Any]
    lang: str = "en"
    split: str = ""


@dataclass
class ReaderOutput:
    """What one reader understood of one consultation."""

    values: dict[str, Any]            # patient fields, "diagnosis" text, "diagnosis_code"
    missing: list[str] = field(default_factory=list)   # required fields the reader would ask
    latency_s: float = 0.0
    status: str = "ok"                # the model reader's status (parsed/unparseable/...)


def _gold_from(obj: dict) -> dict[str, Any]:
    if isinstance(obj.get("gold"), dict):
        gold = dict(obj["gold"])
        if isinstance(gold.get("diagnosis"), dict):   # the phrasing files' {"text", "code"}
            dx = gold["diagnosis"]
            gold["diagnosis"], gold["diagnosis_code"] = dx.get("text"), dx.get("code")
        return gold
    gold = dict(obj.get("patient") or {})
    dx = obj.get("diagnosis")
    if isinstance(dx, dict):
        gold["diagnosis"], gold["diagnosis_code"] = dx.get("text"), dx.get("code")
    elif isinstance(dx, str):
        gold["diagnosis"] = dx
    return gold


def read_cases(path: Path, split: str | None = None) -> tuple[list[PhrasingCase], list[str]]:
    """The consultations of a phrasing file (one split, or all); a bad line is reported by
    number and skipped."""
    cases, problems = [], []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            turns = obj.get("turns") or ([obj["text"]] if obj.get("text") else None)
            if not turns:
                raise ValueError("needs `text` or `turns`")
            case = PhrasingCase(id=str(obj.get("id", f"line-{n}")), turns=list(turns),
                                gold=_gold_from(obj), lang=str(obj.get("lang") or "en"),
                                split=str(obj.get("split") or ""))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            problems.append(f"line {n}: {e}")
            continue
        if split is None or case.split == split:
            cases.append(case)
    return cases, problems


@dataclass
class _Count:
    tp: int = 0
    predicted: int = 0
    gold: int = 0
    invented: int = 0

    gold_hit: int | None = None     # gold items found, where one read item may be several

    def row(self, annotated: bool = True) -> dict[str, Any]:
        # A field no case of the file annotates (the phrasing files give no weights) has no
        # precision: every value read would count as wrong.
        p = self.tp / self.predicted if self.predicted and annotated else None
        found = self.tp if self.gold_hit is None else self.gold_hit
        r = found / self.gold if self.gold else None
        return {"precision": _round(p), "recall": _round(r), "tp": self.tp,
                "predicted": self.predicted, "gold": self.gold, "invented": self.invented}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _scalar_equal(name: str, got: Any, want: Any) -> bool:
    if name in ("age", "weight_kg"):
        return abs(float(got) - float(want)) <= 0.5
    return got == want


def score(cases: Iterable[PhrasingCase], outputs: dict[str, ReaderOutput], *,
          same_diagnosis: Callable[[dict, dict], bool],
          item_key: Callable[[str, str], frozenset[str]]) -> dict[str, Any]:
    """Per-field precision/recall for one reader. `same_diagnosis(read, gold)` compares dicts
    with `diagnosis` and `diagnosis_code`; `item_key(field, item)` maps a list item to what
    makes two items the same (e.g. active ingredients)."""
    cases = list(cases)
    counts = {f: _Count(gold_hit=0 if f in LISTS else None) for f in FIELDS}
    annotated = {f for f in SCALARS if any(c.gold.get(f) is not None for c in cases)}
    per_lang: dict[str, list[bool]] = {}
    blocked, latencies, rows, statuses = 0, [], [], {}
    for case in cases:
        out = outputs[case.id]
        latencies.append(out.latency_s)
        statuses[out.status] = statuses.get(out.status, 0) + 1
        gold, got = case.gold, out.values
        wrong: list[str] = []
        for name in SCALARS:
            if name not in annotated:
                continue
            want, have = gold.get(name), got.get(name)
            c = counts[name]
            c.gold += want is not None
            c.predicted += have is not None
            if have is None:
                if want is not None:
                    wrong.append(name)
                continue
            ok = want is not None and (same_diagnosis(got, gold) if name == "diagnosis"
                                       else _scalar_equal(name, have, want))
            c.tp += ok
            if not ok:
                wrong.append(name)
        for name in LISTS:
            want_keys = [item_key(name, x) for x in (gold.get(name) or [])]
            have_items = list(got.get(name) or [])
            c = counts[name]
            c.gold += len(want_keys)
            c.predicted += len(have_items)
            matched = set()
            for item in have_items:
                key = item_key(name, item)
                # One product may be several gold items ("budesonide/formoterol inhaler").
                hits = {i for i, k in enumerate(want_keys) if i not in matched and k & key}
                if not hits:
                    c.invented += 1
                    wrong.append(f"{name}+{item}")
                else:
                    matched |= hits
                    c.tp += 1
                    c.gold_hit += len(hits)
            if len(matched) < len(want_keys):
                wrong.append(f"{name}-missed")
        stated = {k for k, v in gold.items() if v is not None}
        is_blocked = bool(set(out.missing) & stated)
        blocked += is_blocked
        dx_ok = "diagnosis" not in wrong and gold.get("diagnosis") is not None
        per_lang.setdefault(case.lang, []).append(not wrong)
        rows.append({"id": case.id, "lang": case.lang, "wrong": wrong, "blocked": is_blocked,
                     "diagnosis_ok": dx_ok, "status": out.status,
                     "latency_s": round(out.latency_s, 3)})
    n = len(rows)
    return {
        "n": n,
        "fields": {f: counts[f].row(annotated=f not in SCALARS or f in annotated)
                   for f in FIELDS},
        "all_fields_correct": {lang: _round(sum(v) / len(v)) for lang, v in per_lang.items()},
        "diagnosis_correct": _round(sum(r["diagnosis_ok"] for r in rows) / n) if n else None,
        "blocked": blocked,
        "latency_s": {"median": _round(statistics.median(latencies)) if latencies else None,
                      "p95": _round(_p95(latencies)), "mean": _round(statistics.fmean(latencies))
                      if latencies else None},
        "statuses": statuses,
        "rows": rows,
    }


def _p95(xs: list[float]) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def table(results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per reader, precision/recall per field, latency."""
    head = ["reader"] + [f"{f} P/R" for f in FIELDS] + ["dx correct", "meds invented",
                                                        "blocked", "median s", "p95 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def pr(row: dict) -> str:
        def f(x):
            return "–" if x is None else f"{x:.2f}"
        return f"{f(row['precision'])}/{f(row['recall'])}"

    for reader, r in results.items():
        cells = [reader] + [pr(r["fields"][f]) for f in FIELDS]
        cells += [f"{r['diagnosis_correct']:.2f}" if r["diagnosis_correct"] is not None else "–",
                  str(r["fields"]["current_medications"]["invented"]), str(r["blocked"]),
                  f"{r['latency_s']['median']:.3f}", f"{r['latency_s']['p95']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
