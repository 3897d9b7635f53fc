"""A patient (and a diagnosis) as text, in one place.

    PATIENT_LABELS                 field -> label, in prompt order ("Age", ..., "Current medications")
    patient_lines(patient)         "Age: 60 years", "Sex: female", ... one line per field: the
                                   prompt format (recommend.prompt), also used for the eval
                                   suite's consultation message and the judge's prompt
    diagnosis_text(dx)             "Essential hypertension (I10)"; with_system: "(ICD-10-CM I10)"
    read_diagnosis(text)           the inverse of diagnosis_text(with_system=True): a trailing
                                   "(ICD-10-CM I10)" read back into code and system
    consultation_lines(patient, dx)  "Patient:", the patient's lines, "Diagnosis: ...": the
                                   head of the prompt's user turn and of the judge's prompt
    patient_summary(patient)       "age 60; sex female; pregnant unknown; allergies none; current
                                   medications metformin": the review CSV's one-line patient
    age_text, weight_text,         the field formatters behind both (unknown -> "unknown", an
    pregnant_text, list_text       empty list -> "none")

The fine-tuned adapters were trained on `patient_lines`' exact text (recommend.prompt's
PROMPT_VERSION): changing a label or a formatter changes the prompt, and needs a new prompt
version and a line in docs/formats.md's changelog. The assistant's "Understood so far" line
(assistant/render.py) is not rendered here: it describes a consultation still being gathered,
where a field may be known, stated unknown or not given yet, which a Patient cannot hold.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from rxassist.cases import Diagnosis, Patient
from rxassist.patient_more import optional_lines, optional_summary

PATIENT_LABELS: dict[str, str] = {
    "age": "Age",
    "sex": "Sex",
    "pregnant": "Pregnant",
    "weight_kg": "Weight",
    "allergies": "Allergies",
    "current_medications": "Current medications",
}
DIAGNOSIS_LABEL = "Diagnosis"
UNKNOWN = "unknown"
# The fields of the reviewer's one-line summary (the weight is left out there).
SUMMARY_FIELDS = ("age", "sex", "pregnant", "allergies", "current_medications")


def known(value, fmt: Callable = str) -> str:
    return UNKNOWN if value is None else fmt(value)


def list_text(values: Sequence[str] | None) -> str:
    if values is None:
        return UNKNOWN
    return ", ".join(values) if values else "none"


def age_text(age: float | None) -> str:
    """Whole years, or months under two."""
    if age is None:
        return UNKNOWN
    if age < 2:
        return f"{round(age * 12)} months"
    return f"{int(age)} years"


def weight_text(weight_kg: float | None) -> str:
    return known(weight_kg, lambda w: f"{w:g} kg")


def pregnant_text(pregnant: bool | None) -> str:
    return known(pregnant, lambda p: "yes" if p else "no")


def _values(patient: Patient) -> dict[str, str]:
    return {"age": age_text(patient.age), "sex": known(patient.sex),
            "pregnant": pregnant_text(patient.pregnant), "weight_kg": weight_text(patient.weight_kg),
            "allergies": list_text(patient.allergies),
            "current_medications": list_text(patient.current_medications)}


def patient_lines(patient: Patient) -> list[str]:
    """The six base lines always (the adapters' prompt); the optional fields only when known."""
    return [*(f"{PATIENT_LABELS[name]}: {value}" for name, value in _values(patient).items()),
            *optional_lines(patient)]


def diagnosis_text(diagnosis: Diagnosis, with_system: bool = False) -> str:
    if not diagnosis.code:
        return diagnosis.text
    system = f"{diagnosis.system} " if with_system and diagnosis.system else ""
    return f"{diagnosis.text} ({system}{diagnosis.code})"


# A trailing "(SYSTEM CODE)" in one of the coding systems the case files use.
_CODED = re.compile(r"^(?P<text>.*\S)\s*\((?P<system>ICD-10-CM|SNOMED-CT) "
                    r"(?P<code>[A-Za-z0-9][A-Za-z0-9.]{1,17})\)\s*$")


def read_diagnosis(text: str) -> Diagnosis:
    """A written diagnosis; "Essential hypertension (ICD-10-CM I10)" becomes text, code and
    system, so a consultation message carries the same diagnosis a case file does."""
    m = _CODED.match(text)
    if m is None:
        return Diagnosis(text=text)
    return Diagnosis(text=m["text"], code=m["code"].upper(), system=m["system"])


def consultation_lines(patient: Patient, diagnosis: Diagnosis) -> list[str]:
    return ["Patient:", *patient_lines(patient),
            f"{DIAGNOSIS_LABEL}: {diagnosis_text(diagnosis)}"]


def patient_summary(patient: Patient) -> str:
    values = {**_values(patient), "age": known(patient.age, lambda a: f"{a:g}")}
    return "; ".join([*(f"{PATIENT_LABELS[name].lower()} {values[name]}"
                        for name in SUMMARY_FIELDS), *optional_summary(patient)])


__all__ = ["PATIENT_LABELS", "DIAGNOSIS_LABEL", "UNKNOWN", "known", "list_text", "age_text",
           "weight_text", "pregnant_text", "patient_lines", "diagnosis_text", "read_diagnosis",
           "consultation_lines",
           "patient_summary"]
