"""Human review of eval runs, in the CSV format of rxassist.review_format (shared with the
assistant UI's feedback).

One row per recommended drug. A clinician (or the Gradio UI's per-drug feedback) fills
`appropriate` with yes / no / unsure (blank = not reviewed yet) and an optional `comment`.

    REVIEW_COLUMNS                 the header, in order
    ReviewRow                      one row (validated)
    append_review_rows(path, rows) append rows, writing the header to a new file
    read_review(path)              rows of a filled CSV; a bad row is an error naming its line
    export_review(run_dir, out)    rows for every recommendation of an eval run
    import_review(csv, run_dirs)   human-judged accuracy and Cohen's kappa with each judge
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from rxassist.errors import InvalidInput, NotFound
from rxassist.patient_text import patient_summary
# The CSV format itself lives in the shared core (the assistant UI writes it too).
from rxassist.review_format import (REVIEW_COLUMNS, ReviewRow, append_review_rows,  # noqa: F401
                                    read_review)
from eval.matching import plain
from eval.records import JudgeRecord, SolverRecord, read_records


def export_review(run_dir: Path, out: Path) -> int:

    cases = run_dir / "cases.jsonl"
    if not cases.is_file():
        raise NotFound(f"{cases} does not exist (is {run_dir} an `rxassist eval run` folder?)")
    if out.exists():
        raise InvalidInput(f"{out} already exists; it may hold a clinician's work, so choose "
                           "another --out")
    model = json.loads((run_dir / "run.json").read_text()).get("model") \
        if (run_dir / "run.json").is_file() else None
    rows = [ReviewRow(case_id=r.id, diagnosis=r.diagnosis.text
                      + (f" ({r.diagnosis.code})" if r.diagnosis.code else ""),
                      patient_summary=patient_summary(r.patient), recommended_drug=d.drug,
                      rationale=d.rationale, source=model or run_dir.name)
            for r in read_records(cases, SolverRecord) for d in (r.output or [])]
    return append_review_rows(out, rows)


def cohen_kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa for two raters' yes/no labels; None when undefined (no pairs, or both
    raters constant and chance agreement is 1)."""
    n = len(pairs)
    if not n:
        return None
    po = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return None if pe >= 1 else (po - pe) / (1 - pe)


def _run_verdicts(run_dir: Path) -> dict[str, dict[tuple[str, str], bool]]:
    """judge name -> (case id, drug) -> verdict, for the LLM judge and the reference judge."""

    out: dict[str, dict[tuple[str, str], bool]] = defaultdict(dict)
    for j in read_records(run_dir / "judge.jsonl", JudgeRecord):
        for v in j.verdicts:
            if v.appropriate is not None:
                out[j.judge][(j.id, plain(v.drug))] = v.appropriate
    records = {r.id: r for r in read_records(run_dir / "cases.jsonl", SolverRecord)}
    scores = run_dir / "scores.jsonl"
    if scores.is_file():
        for line in scores.read_text(encoding="utf-8").splitlines():
            s = json.loads(line)
            rec = records.get(s["id"])
            if rec and rec.output and len(s.get("reference_verdicts") or []) == len(rec.output):
                for d, v in zip(rec.output, s["reference_verdicts"]):
                    out["reference"][(s["id"], plain(d.drug))] = bool(v)
    return out


def import_review(csv_path: Path, run_dirs: Sequence[Path]) -> dict:

    rows = read_review(csv_path)
    human = {(r.case_id, plain(r.recommended_drug)): r.appropriate == "yes"
             for r in rows if r.appropriate in ("yes", "no")}
    yes = sum(human.values())
    figures = {"n_rows": len(rows), "n_reviewed": len(human),
               "n_unsure": sum(r.appropriate == "unsure" for r in rows),
               "n_blank": sum(r.appropriate == "" for r in rows),
               "human_appropriateness": yes / len(human) if human else None, "agreement": {}}
    for run_dir in run_dirs:
        if not (run_dir / "cases.jsonl").is_file():
            raise NotFound(f"{run_dir / 'cases.jsonl'} does not exist")
        per_judge = {}
        for judge, verdicts in sorted(_run_verdicts(run_dir).items()):
            pairs = [(h, verdicts[k]) for k, h in human.items() if k in verdicts]
            per_judge[judge] = {
                "n_pairs": len(pairs), "kappa": cohen_kappa(pairs),
                "percent_agreement": sum(a == b for a, b in pairs) / len(pairs) if pairs else None}
        figures["agreement"][str(run_dir)] = per_judge
    return figures


def render_agreement(figures: dict) -> str:
    def f(v):
        return "–" if v is None else f"{v:.3f}"

    lines = [f"reviewed {figures['n_reviewed']} of {figures['n_rows']} row(s) "
             f"({figures['n_unsure']} unsure, {figures['n_blank']} blank); "
             f"human-judged appropriateness {f(figures['human_appropriateness'])}", "",
             "| Run | Judge | Pairs | Cohen's kappa | Agreement |", "|---|---|---:|---:|---:|"]
    for run, judges in figures["agreement"].items():
        for judge, a in judges.items():
            lines.append(f"| {run} | {judge} | {a['n_pairs']} | {f(a['kappa'])} | "
                         f"{f(a['percent_agreement'])} |")
    return "\n".join(lines) + "\n"
