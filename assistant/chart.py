"""A plain-text summary of one answer for the patient's chart (the UI's copy button): patient,
diagnosis, the options with their reasons and flags, exclusions, in the consultation's language.
Plain text, no markup: it is pasted into other systems."""

from __future__ import annotations

from typing import Any

from assistant.flagview import flag_line, grouped, reason_parts, severity_word, worst_first
from assistant.labels import labels


def _patient(p: dict[str, Any], unknown: set[str], lang: str) -> str:
    lab = labels(lang)
    words, names = lab["patient"], lab["field_names"]
    parts = []
    age = p.get("age")
    if age is not None:
        parts.append(words["months_old"].format(n=round(age * 12)) if age < 2
                     else words["years_old"].format(n=f"{age:g}"))
    if p.get("sex"):
        parts.append(words.get(p["sex"], p["sex"]))
    if p.get("pregnant") is not None and p.get("sex") != "male":
        parts.append(words["pregnant"] if p["pregnant"] else words["not_pregnant"])
    elif "pregnant" in unknown:
        parts.append(words["pregnancy_unknown"])
    if p.get("weight_kg") is not None:
        parts.append(words["kg"].format(n=f"{p['weight_kg']:g}"))
    for name in ("allergies", "current_medications"):
        value = p.get(name)
        if value is not None:
            parts.append(f"{names[name]}: {', '.join(value) or words['none']}")
        elif name in unknown:
            parts.append(f"{names[name]}: {words['unknown']}")
    return "; ".join(parts) or words["unknown"]


def _flag(flag: dict[str, Any], lang: str, drug: str | None = None) -> str:
    return f"{severity_word(flag.get('severity'), lang)}: {flag_line(flag, lang, drug)}"


def chart_summary(result: dict[str, Any], lang: str = "en") -> str:
    """Empty until there is an answer with options or exclusions to record."""
    if result.get("status") not in ("recommended", "nothing_survives"):
        return ""
    lab = labels(lang)
    chart = lab["chart"]
    dx = (result.get("diagnosis") or {}).get("text") or "—"
    unknown = set(result.get("unknown_fields") or [])
    lines = [chart["title"],
             f"{chart['patient']}: {_patient(result.get('patient') or {}, unknown, lang)}",
             f"{chart['diagnosis']}: {dx}"]
    recs = result.get("recommendations") or []
    per_drug, others = grouped(recs, result.get("flags") or [])
    lines.append(f"{chart['choices']}:" + ("" if recs else f" {chart['none']}"))
    for i, (r, mine) in enumerate(zip(recs, per_drug), 1):
        reason = reason_parts(r.get("rationale") or "")[0] or lab["no_rationale"]
        lines.append(f"{i}. {r['drug']} — {reason}")
        lines += [f"   - {_flag(f, lang, r['drug'])}" for f in mine]
    if others:
        lines.append(f"{chart['flags']}:")
        lines += [f"- {_flag(f, lang)}" for f in others]
    excluded = result.get("excluded") or []
    if excluded:
        lines.append(f"{chart['excluded']}:")
        for e in excluded:
            flags = worst_first(e.get("flags") or [])
            lines.append(f"- {e['drug']}: " + (_flag(flags[0], lang, e["drug"]) if flags
                                                 else e.get("reason", "")))
    if unknown:
        lines.append(f"{lab['could_not_check']}: "
                     + ", ".join(lab["field_names"].get(f, f) for f in sorted(unknown)))
    lines.append(lab["disclaimer"])
    return "\n".join(lines)
