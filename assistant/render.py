"""The text a clinician reads. Flags come first; nothing flagged is ever left out."""

from __future__ import annotations

from guardrails import Flag
from recommend.schemas import ConsultationResult, ExcludedRow

from assistant.dialogue import QUESTIONS, STILL_NEEDED, Consultation

DISCLAIMER = "This supports a clinician's decision; it does not replace it."
# Words, not emoji: they survive every terminal, screen reader and font.
SEVERITY_MARK = {"critical": "**CRITICAL**", "warning": "**WARNING**", "info": "INFO"}
FIELD_NAMES = {"age": "age", "sex": "sex", "pregnant": "pregnancy status", "weight_kg": "weight",
               "allergies": "allergies", "current_medications": "current medications",
               "diagnosis": "diagnosis"}


def _age(age: float) -> str:
    if age < 2:
        return f"{round(age * 12)}-month-old"
    return f"{age:g}-year-old"


def _list(values: list[str] | None) -> str:
    return ", ".join(values) if values else "none"


def understood(c: Consultation) -> str:
    """One line the clinician can check: every field, known, unknown or not yet given."""
    v = c.values
    parts: list[str] = []
    who = []
    if "age" in v:
        who.append(_age(v["age"]))
    elif "age" in c.unknown:
        who.append("age unknown")
    if "sex" in v:
        who.append(v["sex"])
    elif "sex" in c.unknown:
        who.append("sex unknown")
    if who:
        parts.append(" ".join(who))
    if "pregnant" in v and v.get("sex") != "male":
        parts.append("pregnant" if v["pregnant"] else "not pregnant")
    elif "pregnant" in c.unknown:
        parts.append("pregnancy status unknown")
    if "weight_kg" in v:
        parts.append(f"{v['weight_kg']:g} kg")
    for name in ("allergies", "current_medications"):
        label = FIELD_NAMES[name]
        if name in v:
            parts.append(f"{label}: {_list(v[name])}")
        elif name in c.unknown:
            parts.append(f"{label}: unknown")
    for note in c.notes:
        parts.append(note)
    if v.get("comorbidities"):
        parts.append(f"comorbidities: {_list(v['comorbidities'])}")
    parts.append(f"diagnosis: {c.diagnosis_reading() or '—'}")
    return "; ".join(parts)


def needs_info(c: Consultation, missing: list[str]) -> str:
    lines = [f"Understood so far: {understood(c)}.",
             f"{STILL_NEEDED} {', '.join(QUESTIONS[m] for m in missing)}"]
    if missing != ["diagnosis"]:
        lines.append('If something is not known, say so (e.g. "allergies unknown") and I will '
                     "go ahead and tell you what I could not check.")
    else:
        lines.append("I need the diagnosis (or the condition to treat) to recommend anything.")
    if c.injections:
        lines.append(_INJECTION_NOTE)
    return "\n".join(lines)


_INJECTION_NOTE = ("Instructions addressed to me inside the consultation were ignored; every drug "
                   "is always checked by the guardrails.")


def refusal(kind: str) -> str:
    if kind == "injection":
        return ("I can't follow instructions that change how I work: every drug I suggest is checked "
                "by the guardrails and shown with its flags. Describe the patient and the diagnosis "
                "and I will recommend.")
    return ("I can only help a clinician choose drugs for a patient's diagnosis, so I can't help "
            "with this request.")


def flag_drugs(flag: Flag) -> str:
    """The drugs a flag names, unless its message already names them all."""
    drugs, message = flag.drugs, flag.message
    return "" if all(d in message for d in drugs) else ", ".join(drugs)


def _flag_line(flag: Flag) -> str:
    mark = SEVERITY_MARK.get(flag.severity, flag.severity.upper())
    drugs = flag_drugs(flag)
    basis = flag.basis
    line = f"- {mark} · {flag.kind}"
    if drugs:
        line += f" · {drugs}"
    line += f": {flag.message}"
    if basis:
        line += f" (basis: {basis})"
    return line


def _excluded_lines(excluded: list[ExcludedRow]) -> list[str]:
    if not excluded:
        return []
    lines = ["", f"**Considered and excluded ({len(excluded)}):**"]
    for e in excluded:
        worst = min((f.severity for f in e.flags),
                    key=lambda s: {"critical": 0, "warning": 1}.get(s, 2), default="")
        mark = SEVERITY_MARK.get(worst, "")
        lines.append(f"- {e.drug}: {mark + ' ' if mark else ''}{e.reason}")
    return lines


def _patient_tail(c: Consultation, not_checked: list[str]) -> list[str]:
    lines = ["", f"Patient as understood: {understood(c)}."]
    if not_checked:
        lines.append("Could not check (not known): "
                     + ", ".join(FIELD_NAMES[f] for f in not_checked) + ".")
    if c.injections:
        lines.append(_INJECTION_NOTE)
    lines.append(f"_{DISCLAIMER}_")
    return lines


def setting_note(setting: str, assumed: bool) -> str:
    where = {"icu": "ICU", "inpatient": "inpatient (hospital)"}.get(setting, setting)
    return (f"setting: {where}, assumed from the diagnosis (say 'outpatient', 'admitted' or "
            "'ICU' if not)" if assumed else f"setting: {where}")


def nothing_survives(c: Consultation, result: ConsultationResult, not_checked: list[str]) -> str:
    """No candidate left to offer: said plainly, with what was excluded and why; a question."""
    excluded, patient_flags, advice = result.excluded, result.flags, result.advice
    dx = c.diagnosis()
    what = dx.text if dx else "this diagnosis"
    if advice or (excluded and all(e.excluded_by == "evidence" for e in excluded)):
        # Abstaining on thin evidence: what was considered and why it fell short, then ask.
        lines = [f"I have no reliable evidence for a drug for {what}, so I am not recommending "
                 "any."]
        lines += [f"Guideline advice: {a}" for a in advice]
        lines += _excluded_lines(excluded)
        lines += [_flag_line(f) for f in patient_flags]
        lines += ["", "Could you say what is to be treated (the cause, the complication or a "
                  "more specific diagnosis or ICD-10 code), or choose a drug yourself?"]
        return "\n".join(lines + _patient_tail(c, not_checked))
    if excluded:
        lines = [f"Every candidate drug I know for {what} was excluded for this patient, so I am "
                 "not recommending any."]
    else:
        lines = [f"I have no evidence-based candidate drugs for {what}, so I am not recommending "
                 "any (I only suggest drugs that open evidence supports for the diagnosis)."]
    lines += _excluded_lines(excluded)
    lines += [_flag_line(f) for f in patient_flags]
    lines += ["", "Could you check the diagnosis (a more specific term or an ICD-10 code helps) "
              "and the patient's allergies and medications, or choose a drug yourself?"]
    return "\n".join(lines + _patient_tail(c, not_checked))


def recommendation(c: Consultation, result: ConsultationResult, not_checked: list[str]) -> str:
    recs, excluded = result.recommendations, result.excluded
    truncated = result.model_output == "truncated"
    unparseable = result.model_output == "unparseable"
    lines: list[str] = []
    ordered = sorted(result.flags, key=lambda f: {"critical": 0, "warning": 1}.get(f.severity, 2))
    if ordered:
        lines.append(f"**Safety flags ({len(ordered)}) — review before prescribing:**")
        lines += [_flag_line(f) for f in ordered]
    dx = c.diagnosis()
    if truncated:
        lines.append("The model's answer was cut off before it was complete, so I am not "
                     "recommending anything. Try again, or choose another model.")
    elif unparseable:
        lines.append("The model's answer could not be read as a list of drugs, so I am not "
                     "recommending anything. Try again, or choose another model.")
    else:
        if not ordered:
            lines.append("No safety flags from the guardrails.")
        lines.append("")
        lines.append(f"**Recommendations for {dx.text if dx else 'this diagnosis'}:**")
        for i, r in enumerate(recs, 1):
            ingredients = ", ".join(r.ingredients) or "ingredients not recognised"
            shown = "" if ingredients == r.drug.replace("; ", ", ") else f" ({ingredients})"
            line = f"{i}. **{r.drug}**{shown} — {r.rationale or 'no rationale given'}"
            if r.flags:
                worst = r.severity or "warning"
                line += f"  {SEVERITY_MARK.get(worst, worst)} FLAGGED: {', '.join(r.flags)}"
            lines.append(line)
    lines += _excluded_lines(excluded)
    return "\n".join(lines + _patient_tail(c, not_checked))
