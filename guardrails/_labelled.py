"""Accuracy on the labelled test set (data/labelled_names.jsonl, data/labelled_checks.jsonl).

Name rows: the ingredients must equal `expected` exactly (null: the name must stay unknown).
Category "invented" (made-up names): unknown, or read by similarity WITH a name_guess flag;
the report counts both readings ("read, flagged") and silent readings (must stay 0).
Check rows: every `expect` flag (kind, severity, ingredient; a null field matches anything) must
be raised and no `forbid` flag (kind, ingredient) may be.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from guardrails import _kb

NAMES_PATH = _kb.DATA_DIR / "labelled_names.jsonl"
CHECKS_PATH = _kb.DATA_DIR / "labelled_checks.jsonl"


def read(path: Path | str) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            row["_line"] = n
            rows.append(row)
    return rows


def _matches(flag: dict, want: dict) -> bool:
    return all(v is None or flag.get(k) == v for k, v in want.items())


def score_row(row: dict) -> str | None:
    """None when the row passes, else what went wrong."""
    from guardrails import check, normalize

    if row["type"] == "name":
        d = normalize(row["input"])
        exp = row["expected"]
        if row["category"] == "invented" and d.known:
            guessed = any("guess" in f.kind for f in check([row["input"]]).flags)
            return None if guessed else f"read silently as {d.ingredients} ({d.status})"
        if exp is None:
            return None if not d.known else f"expected unknown, got {d.ingredients} ({d.status})"
        return None if sorted(d.ingredients) == sorted(exp) else \
            f"expected {exp}, got {d.ingredients or 'unknown'} ({d.status}, {d.note or ''})"
    flags = [f.to_dict() for f in check(row["drugs"], row.get("patient")).flags]
    problems = [f"missing {w}" for w in row["expect"] if not any(_matches(f, w) for f in flags)]
    problems += [f"unexpected {f['kind']} {f['ingredient']}" for w in row["forbid"]
                 for f in flags if _matches(f, w)]
    return "; ".join(problems) or None


def evaluate(path: str | None = None) -> dict:
    files = [Path(path)] if path else [NAMES_PATH, CHECKS_PATH]
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = []
    invented_read = 0
    for f in files:
        for row in read(f):
            err = score_row(row)
            if row["type"] == "name" and row["category"] == "invented":
                from guardrails import normalize
                invented_read += normalize(row["input"]).known
            cat = f"{row['type']}:{row['category']}"
            per_cat[cat][0] += err is None
            per_cat[cat][1] += 1
            if err:
                label = row.get("input") or row.get("drugs")
                errors.append(f"{f.name}:{row['_line']} [{cat}] {label}: {err}")
    total = sum(n for _, n in per_cat.values())
    ok = sum(k for k, _ in per_cat.values())
    return {"per_category": dict(per_cat), "correct": ok, "total": total,
            "accuracy": ok / total if total else 0.0, "errors": errors,
            "invented_read_flagged": invented_read,
            "errors_total": len(errors)}


def format_report(report: dict, show_errors: bool = False) -> str:
    lines = [f"{'category':28} {'correct':>7} {'total':>5} {'acc':>6}"]
    for cat, (k, n) in sorted(report["per_category"].items()):
        lines.append(f"{cat:28} {k:7d} {n:5d} {k / n:6.1%}")
    lines.append(f"{'ALL':28} {report['correct']:7d} {report['total']:5d} "
                 f"{report['accuracy']:6.1%}")
    inv = report["per_category"].get("name:invented")
    if inv:
        silent = inv[1] - inv[0]
        lines.append(f"invented names: {report['invented_read_flagged']}/{inv[1]} read as a drug "
                     f"with a name_guess flag, {silent} silently")
    if show_errors or report["errors"]:
        lines += ["", "errors:"] + [f"  {e}" for e in report["errors"]]
    return "\n".join(lines)
