"""Values the conversation gathered that no patient can have ("Age: 200", "0 kg", "600 kg") or
text that is not text (a lone surrogate): a 400 naming the field and the accepted range, so the
clinician corrects it, never a 500. The value itself is not repeated (it is patient data)."""

from __future__ import annotations

from pydantic import ValidationError

from rxassist.errors import InvalidInput

RANGES = {"age": "0 to 130 years", "weight_kg": "more than 0 and at most 500 kg",
          "egfr": "more than 0 and below 200 mL/min/1.73 m2",
          "crcl": "more than 0 and below 250 mL/min", "ckd_stage": "1 to 5"}
LABELS = {"age": "age", "weight_kg": "weight", "text": "diagnosis", "egfr": "eGFR",
          "crcl": "creatinine clearance", "ckd_stage": "CKD stage"}


def check_values(consultation) -> None:
    """Raise InvalidInput for the first out-of-range or unreadable field."""
    if consultation.rejected:
        raise _out_of_range(next(iter(consultation.rejected)))
    for build in (consultation.patient, consultation.diagnosis):
        try:
            build()
        except ValidationError as e:
            err = e.errors(include_input=False)[0]
            field = str(err["loc"][0]) if err.get("loc") else "message"
            if field in RANGES:
                raise _out_of_range(field) from None
            label = LABELS.get(field, field)
            if err.get("type", "").startswith("string_unicode"):
                why = "contains characters that are not valid text"
            else:
                why = "could not be read"
            raise InvalidInput(f"the {label} stated in the consultation {why}; correct it (e.g. "
                               f"\"Correction: {label.capitalize()}: ...\") and send again",
                               param=f"patient.{field}" if field != "text" else "diagnosis",
                               code="value_out_of_range") from None


def _out_of_range(field: str) -> InvalidInput:
    label = LABELS.get(field, field)
    return InvalidInput(f"the {label} stated in the consultation must be {RANGES[field]}; correct "
                        f"it (e.g. \"Correction: {label.capitalize()}: ...\") and send again",
                        param=f"patient.{field}", code="value_out_of_range")
