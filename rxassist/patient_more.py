"""The optional patient fields as text: kidney function, comorbidities, breastfeeding.

They are printed only when known, so a patient without them gives exactly the six lines the
fine-tuned adapters were trained on (rxassist.patient_text), and one with them adds lines such as
"Kidney function: eGFR 25 mL/min/1.73 m2, CKD stage 4" and "Other conditions: gout, asthma".
"""

from __future__ import annotations

from rxassist.cases import Patient

OPTIONAL_LABELS: dict[str, str] = {
    "kidney": "Kidney function",
    "comorbidities": "Other conditions",
    "breastfeeding": "Breastfeeding",
}


def kidney_text(patient: Patient) -> str | None:
    """"eGFR 25 mL/min/1.73 m2, CrCl 30 mL/min, CKD stage 4, on dialysis"; None when unknown."""
    parts = []
    if patient.egfr is not None:
        parts.append(f"eGFR {patient.egfr:g} mL/min/1.73 m2")
    if patient.crcl is not None:
        parts.append(f"CrCl {patient.crcl:g} mL/min")
    if patient.ckd_stage is not None:
        parts.append(f"CKD stage {patient.ckd_stage}")
    if patient.dialysis is not None:
        parts.append("on dialysis" if patient.dialysis else "not on dialysis")
    return ", ".join(parts) or None


def _values(patient: Patient) -> dict[str, str]:
    out: dict[str, str] = {}
    kidney = kidney_text(patient)
    if kidney:
        out["kidney"] = kidney
    if patient.comorbidities is not None:
        out["comorbidities"] = ", ".join(patient.comorbidities) or "none"
    if patient.breastfeeding is not None:
        out["breastfeeding"] = "yes" if patient.breastfeeding else "no"
    return out


def optional_lines(patient: Patient) -> list[str]:
    return [f"{OPTIONAL_LABELS[k]}: {v}" for k, v in _values(patient).items()]


def optional_summary(patient: Patient) -> list[str]:
    return [f"{OPTIONAL_LABELS[k].lower()} {v}" for k, v in _values(patient).items()]


__all__ = ["OPTIONAL_LABELS", "kidney_text", "optional_lines", "optional_summary"]
