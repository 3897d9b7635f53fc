"""The text a clinician reads (the reply's Markdown `content`), in the consultation's language.

The answer comes first: the ranked options, each with a one-line reason and its flags against
this patient right under it; then what was considered and excluded; then flags that concern no
single option; then the patient as understood. Nothing flagged is ever left out. Every fixed
string comes from the label catalogue (assistant/labels); every string that comes from the
user, the model or a data source is escaped (`md`), so text such as `<img onerror=...>` or
`![x](http://...)` typed into a consultation is shown as text, never rendered or loaded.
"""

from __future__ import annotations

import re
from typing import Any

from guardrails import Flag
from recommend.schemas import ExcludedRow, RecommendationRow

from assistant.dialogue import Consultation
from assistant.flagview import (grouped, line_with_reason, reason_parts, severity_word,
                                worst_first)
from assistant.labels import DEFAULT, labels, note_text

DISCLAIMER = labels(DEFAULT)["disclaimer"]

# Characters that make Markdown load, link or run something (images, links, raw HTML, code).
# Emphasis characters stay: they cannot load or run anything.
_MD_SPECIAL = re.compile(r"([\\`<>\[\]!])")


def md(text: Any) -> str:
    """User, model or source text, safe to put into Markdown: shown exactly as written."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def mark(severity: str | None, lang: str = DEFAULT) -> str:
    """The severity as a word (bold unless informational): words, not emoji or colour, survive
    every terminal, screen reader and font."""
    word = severity_word(severity, lang)
    return word if severity == "info" else f"**{word}**"


def _age(age: float, lang: str) -> str:
    p = labels(lang)["patient"]
    if age < 2:
        return p["months_old"].format(n=round(age * 12))
    return p["years_old"].format(n=f"{age:g}")


def _list(values: list[str] | None, lang: str) -> str:
    return ", ".join(md(v) for v in values) if values else labels(lang)["patient"]["none"]


def note_line(c: Consultation, note: str, lang: str = DEFAULT) -> str:
    """A reading note in the reply's language; the API's `notes` keep the English text. A note
    of no catalogued kind (the care setting, already said in `lang`) is shown as it is."""
    kind = c.note_kinds.get(note)
    if lang == DEFAULT or kind is None:
        return note
    return note_text(kind[0], lang, **kind[1])


def understood(c: Consultation, lang: str = DEFAULT) -> str:
    """One line the clinician can check: every field, known, unknown or not yet given."""
    p = labels(lang)["patient"]
    names = labels(lang)["field_names"]
    v = c.values
    parts: list[str] = []
    who = []
    if "age" in v:
        who.append(_age(v["age"], lang))
    elif "age" in c.unknown:
        who.append(p["age_unknown"])
    if "sex" in v:
        who.append(p.get(v["sex"], md(v["sex"])))
    elif "sex" in c.unknown:
        who.append(p["sex_unknown"])
    if who:
        parts.append(" ".join(who))
    if "pregnant" in v and v.get("sex") != "male":
        parts.append(p["pregnant"] if v["pregnant"] else p["not_pregnant"])
    elif "pregnant" in c.unknown:
        parts.append(p["pregnancy_unknown"])
    if "weight_kg" in v:
        parts.append(p["kg"].format(n=f"{v['weight_kg']:g}"))
    for name in ("allergies", "current_medications"):
        if name in v:
            parts.append(f"{names[name]}: {_list(v[name], lang)}")
        elif name in c.unknown:
            parts.append(f"{names[name]}: {p['unknown']}")
    parts += [md(note_line(c, note, lang)) for note in c.notes]
    if v.get("comorbidities"):
        parts.append(f"{p['comorbidities']}: {_list(v['comorbidities'], lang)}")
    parts.append(f"{p['diagnosis']}: {md(c.diagnosis_reading() or '—')}")
    return "; ".join(parts)


def needs_info(c: Consultation, missing: list[str], lang: str = DEFAULT) -> str:
    lab = labels(lang)
    lines = [f"{lab['understood_so_far']}: {understood(c, lang)}.",
             f"{lab['still_needed']} {', '.join(lab['questions'][m] for m in missing)}"]
    if "diagnosis" in missing and c.diagnosis_choices:
        # "HTN, T2DM": which one the prescription is for.
        lines.append(lab["which_diagnosis"].format(
            options=lab["or"].join(md(x) for x in c.diagnosis_choices)))
        if missing != ["diagnosis"]:
            lines.append(lab["if_unknown"])
    else:
        lines.append(lab["if_unknown"] if missing != ["diagnosis"] else lab["need_diagnosis"])
    if c.injections:
        lines.append(lab["injection_note"])
    return "\n".join(lines)


def refusal(kind: str, lang: str = DEFAULT) -> str:
    lab = labels(lang)
    return lab["refusal_injection"] if kind == "injection" else lab["refusal_other"]


def _flag_line(flag: Flag, lang: str = DEFAULT, drug: str | None = None,
               indent: str = "") -> str:
    # The rule's source and original text stay in the structured field's `basis` (and behind
    # the chat's "details"): a reply line carries what the clinician acts on.
    return f"{indent}- {mark(flag.severity, lang)} · {md(line_with_reason(flag, lang, drug))}"


def _excluded_lines(excluded: list[ExcludedRow], lang: str = DEFAULT) -> list[str]:
    if not excluded:
        return []
    lines = ["", f"**{labels(lang)['excluded'].format(n=len(excluded))}:**"]
    for e in excluded:
        flags = worst_first(e.flags)
        reason = (line_with_reason(flags[0], lang, e.drug) if flags and lang != DEFAULT
                  else e.reason)
        severity = mark(flags[0].severity, lang) + " " if flags else ""
        lines.append(f"- {md(e.drug)}: {severity}{md(reason)}")
    return lines


def _other_flag_lines(flags: list[Flag], lang: str) -> list[str]:
    if not flags:
        return []
    return (["", f"**{labels(lang)['other_flags'].format(n=len(flags))}:**"]
            + [_flag_line(f, lang) for f in flags])


def _patient_tail(c: Consultation, not_checked: list[str], lang: str = DEFAULT) -> list[str]:
    lab = labels(lang)
    lines = ["", f"{lab['patient_as_understood']}: {understood(c, lang)}."]
    if not_checked:
        lines.append(f"{lab['could_not_check']}: "
                     + ", ".join(lab["field_names"][f] for f in not_checked) + ".")
    if c.injections:
        lines.append(lab["injection_note"])
    lines.append(f"_{lab['disclaimer']}_")
    return lines


def _diagnosis(c: Consultation, lang: str) -> str:
    dx = c.diagnosis()
    return md(dx.text) if dx else labels(lang)["this_diagnosis"]


def setting_note(setting: str, assumed: bool, lang: str = DEFAULT) -> str:
    """The care setting whose guideline rows were preferred, and whether it was assumed."""
    lab = labels(lang)
    where = lab["settings"].get(setting, setting)
    return (lab["setting_assumed"] if assumed else lab["setting"]).format(where=where)


def nothing_survives(c: Consultation, excluded: list[ExcludedRow], patient_flags: list[Flag],
                     not_checked: list[str], lang: str = DEFAULT,
                     advice: list[str] | None = None) -> str:
    """No candidate left to offer: said plainly, with what was excluded and why; a question.
    Where the evidence was thin (every candidate held back below the evidence floor, or a
    guideline advises no drug to start) it abstains and says so."""
    lab = labels(lang)
    what = _diagnosis(c, lang)
    abstain = bool(advice) or bool(excluded) and all(
        e.excluded_by == "evidence" for e in excluded)
    if abstain:
        lines = [lab["abstain_no_evidence"].format(diagnosis=what)]
        lines += [lab["guideline_advice"].format(advice=md(a)) for a in advice or []]
    else:
        lines = [(lab["nothing_excluded"] if excluded else lab["nothing_known"]).format(
            diagnosis=what)]
    lines += _excluded_lines(excluded, lang)
    lines += _other_flag_lines(worst_first(patient_flags), lang)
    lines += ["", lab["abstain_ask"] if abstain else lab["nothing_ask"]]
    return "\n".join(lines + _patient_tail(c, not_checked, lang))


def recommendation(c: Consultation, recs: list[RecommendationRow], flags: list[Flag],
                   unparseable: bool, not_checked: list[str], truncated: bool = False,
                   excluded: list[ExcludedRow] | None = None, lang: str = DEFAULT) -> str:
    """The answer first: the options (each with its flags), then exclusions, then other flags.
    Options are alternatives, so a flag is listed under the option it concerns."""
    lab = labels(lang)
    lines: list[str] = []
    if truncated:
        lines.append(lab["truncated"])
    elif unparseable:
        lines.append(lab["unparseable"])
    per_drug, others = grouped(recs if not (truncated or unparseable) else [], flags)
    if recs and not (truncated or unparseable):
        lines.append(f"**{lab['recommendations_for'].format(diagnosis=_diagnosis(c, lang))}:**")
        lines.append(f"_{lab['alternatives_note']}_")
        for i, (r, mine) in enumerate(zip(recs, per_drug), 1):
            ingredients = ", ".join(r.ingredients) or lab["ingredients_unknown"]
            shown = "" if ingredients == r.drug.replace("; ", ", ") else f" ({md(ingredients)})"
            chips = " ".join(dict.fromkeys(mark(f.severity, lang) for f in mine))
            reason = reason_parts(r.rationale)[0] or lab["no_rationale"]
            line = f"{i}. **{md(r.drug)}**{shown} — {md(reason)}"
            lines.append(line + (f" · {chips}" if chips else ""))
            lines += [_flag_line(f, lang, r.drug, indent="   ") for f in mine]
            if not mine:
                lines.append(f"   - {lab['no_flags_for_drug']}")
    lines += _excluded_lines(excluded or [], lang)
    lines += _other_flag_lines(others, lang)
    return "\n".join(lines + _patient_tail(c, not_checked, lang))
