"""The data card printed (and written) by `rxassist data build`: what a case file holds."""

from __future__ import annotations

from collections import Counter
from statistics import mean
from typing import Mapping, Sequence

from rxassist.cases import Case


def file_summary(cases: Sequence[Case], patients: int) -> dict:
    return {
        "cases": len(cases),
        "patients": patients,
        "drugs_per_case": round(mean(len(c.drugs) for c in cases), 3) if cases else 0.0,
        "age_known": sum(c.patient.age is not None for c in cases),
        "sex_known": sum(c.patient.sex is not None for c in cases),
        "pregnant_true": sum(c.patient.pregnant is True for c in cases),
        "allergies_known": sum(c.patient.allergies is not None for c in cases),
    }


def top_diagnoses(cases: Sequence[Case], n: int = 10) -> list[tuple[str, str, int]]:
    counts = Counter(c.diagnosis.code or c.diagnosis.text for c in cases)
    text = {}
    for c in cases:
        text.setdefault(c.diagnosis.code or c.diagnosis.text, c.diagnosis.text)
    return [(k, text[k], v) for k, v in counts.most_common(n)]


def top_drugs(cases: Sequence[Case], n: int = 10) -> list[tuple[str, int]]:
    return Counter(d for c in cases for d in c.drugs).most_common(n)


def render_card(files: Mapping[str, dict], all_cases: Sequence[Case],
                notes: Mapping[str, int] | None = None, n_top: int = 10) -> str:
    lines = ["# Data card", "", "| file | cases | patients | drugs/case | age known | "
             "sex known | pregnant | allergies known |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in files.items():
        lines.append(f"| {name} | {s['cases']} | {s['patients']} | {s['drugs_per_case']:.2f} | "
                     f"{s['age_known']} | {s['sex_known']} | {s['pregnant_true']} | "
                     f"{s['allergies_known']} |")
    if notes:
        lines += ["", "Rows read and dropped: " + ", ".join(f"{k}={v}" for k, v in notes.items())]
    lines += ["", f"## Most common diagnoses (all {len(all_cases)} cases)", "",
              "| code | diagnosis | cases |", "|---|---|---:|"]
    lines += [f"| {code} | {text} | {n} |" for code, text, n in top_diagnoses(all_cases, n_top)]
    lines += ["", "## Most common drugs", "", "| drug | cases |", "|---|---:|"]
    lines += [f"| {drug} | {n} |" for drug, n in top_drugs(all_cases, n_top)]
    return "\n".join(lines) + "\n"
