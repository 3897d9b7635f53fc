"""A plain-text summary of one answer for the patient's chart (the UI's copy button): patient,
diagnosis, the options with their reasons and flags, exclusions, in the consultation's language.
Plain text, no markup: it is pasted into other systems."""

from __future__ import annotations

from guardrails import Flag
from recommend.schemas import ConsultationResult
from rxassist.cases import Patient

from assistant.flagview import flag_line, grouped, reason_parts, severity_word, worst_first
from assistant.labels import labels


def _patient(p: Patient, unknown: set[str], lang: str) -> str:
    lab = labels(lang)
    words, names = lab["patient"], lab["field_names"]
    parts = []
    if p.age is not None:
        parts.append(words["months_old"].format(n=round(p.age * 12)) if p.age < 2
                     else words["years_old"].format(n=f"{p.age:g}"))
    if p.sex:
        parts.append(words.get(p.sex, p.sex))
    if p.pregnant is not None and p.sex != "male":
        parts.append(words["pregnant"] if p.pregnant else words["not_pregnant"])
    elif "pregnant" in unknown:
        parts.append(words["pregnancy_unknown"])
    if p.weight_kg is not None:
        parts.append(words["kg"].format(n=f"{p.weight_kg:g}"))
    for name in ("allergies", "current_medications"):
        value = getattr(p, name)
        if value is not None:
            parts.append(f"{names[name]}: {', '.join(value) or words['none']}")
        elif name in unknown:
            parts.append(f"{names[name]}: {words['unknown']}")
    return "; ".join(parts) or words["unknown"]


def _flag(flag: Flag, lang: str, drug: str | None = None) -> str:
    return f"{severity_word(flag.severity, lang)}: {flag_line(flag, lang, drug)}"


def chart_summary(result: ConsultationResult | None, lang: str = "en") -> str:
    """Empty until there is an answer with options or exclusions to record."""
    if result is None or result.status not in ("recommended", "nothing_survives"):
        return ""
    lab = labels(lang)
    chart = lab["chart"]
    dx = (result.diagnosis.text if result.diagnosis else None) or "—"
    unknown = set(result.unknown_fields)
    lines = [chart["title"],
             f"{chart['patient']}: {_patient(result.patient, unknown, lang)}",
             f"{chart['diagnosis']}: {dx}"]
    recs = result.recommendations
    per_drug, others = grouped(recs, result.flags)
    lines.append(f"{chart['choices']}:" + ("" if recs else f" {chart['none']}"))
    for i, (r, mine) in enumerate(zip(recs, per_drug), 1):
        reason = reason_parts(r.rationale)[0] or lab["no_rationale"]
        lines.append(f"{i}. {r.drug} — {reason}")
        lines += [f"   - {_flag(f, lang, r.drug)}" for f in mine]
    if others:
        lines.append(f"{chart['flags']}:")
        lines += [f"- {_flag(f, lang)}" for f in others]
    if result.excluded:
        lines.append(f"{chart['excluded']}:")
        for e in result.excluded:
            flags = worst_first(e.flags)
            lines.append(f"- {e.drug}: " + (_flag(flags[0], lang, e.drug) if flags
                                               else e.reason))
    if unknown:
        lines.append(f"{lab['could_not_check']}: "
                     + ", ".join(lab["field_names"].get(f, f) for f in sorted(unknown)))
    lines.append(lab["disclaimer"])
    return "\n".join(lines)
