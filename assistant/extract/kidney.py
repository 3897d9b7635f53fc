"""Kidney function and breastfeeding from a consultation turn.

    "eGFR 25", "GFR of 40 mL/min", "CrCl 28 mL/min", "creatinine clearance 45"  -> egfr / crcl
    "CKD stage 4", "CKD 3b", "stage 5 CKD", "CKD G4", "ESRD", "end-stage kidney disease"
                                                                  -> ckd_stage (+ comorbidity)
    "on dialysis", "hemodialysis", "HD three times a week", "not on dialysis"  -> dialysis
    "breastfeeding", "lactating", "nursing her baby", "not breastfeeding"       -> breastfeeding
    Korean: "투석" (dialysis), "모유 수유" / "수유 중" (breastfeeding), "사구체여과율 25" (eGFR),
            "만성 콩팥병 4기" / "만성신장병 3기" (CKD stage)

Runs before the pregnancy reader (which otherwise keeps "breastfeeding" as a note) and before the
lab-value reader (which keeps "eGFR 25" as a note). A value no patient can have ("eGFR 0",
"eGFR 400", "CKD stage 7") is not used: it is recorded in `rejected`, so the API answers 400
naming the field. A CKD stage also goes into `comorbidities` (coded), since the span is taken.
"""

from __future__ import annotations

import re
from typing import Sequence

from assistant.extract.text import Findings, Text

_NUM = r"(-?\d{1,4}(?:[.,]\d+)?)"
_EGFR_RE = re.compile(r"(?:\b(?:e\s*gfr|estimated gfr|gfr)|사구체\s*여과율)\s*(?:of|is|was|at|"
                      r"around|about|~|:|=|≈)?\s*(?:<|>|≤|≥)?\s*" + _NUM +
                      r"(?:\s*(?:ml/min(?:/1\.73\s*m(?:2|²))?|ml/min/1\.73m2))?", re.I)
_CRCL_RE = re.compile(r"\b(?:crcl|cr\s?cl|clcr|creatinine clearance)\s*(?:of|is|was|at|"
                      r"around|about|~|:|=|≈)?\s*(?:<|>|≤|≥)?\s*" + _NUM +
                      r"(?:\s*ml/min)?", re.I)
_STAGE_RE = re.compile(r"\b(?:ckd|chronic kidney disease|chronic renal (?:failure|disease))"
                       r"\s*(?:,\s*)?(?:stage\s*|g\s*)?(-?\d{1,2})\s*([ab])?\b"
                       r"|\bstage\s*(-?\d{1,2})\s*([ab])?\s*(?:ckd|chronic kidney disease)\b"
                       r"|(?:(?:만성\s*)?(?:신장|콩팥)\s*병|만성\s*신부전|ckd|chronic kidney disease|"
                       r"kidney (?:disorder|disease))"
                       r"\s*(-?\d{1,2})\s*([ab])?\s*기",
                       re.I)
_ESKD_RE = re.compile(r"\b(?:esrd|eskd|end[- ]stage (?:renal|kidney) (?:disease|failure))\b", re.I)
_NO_DIALYSIS_RE = re.compile(r"\b(?:not on|no|never on|without)\s+(?:ha?emo|peritoneal\s+)?"
                             r"dialysis\b", re.I)
_DIALYSIS_RE = re.compile(r"\b(?:on\s+)?(?:ha?emo|peritoneal\s+)?dialysis(?:\s+dependent)?\b"
                          r"|\bHD\s+(?:3|three)\s*(?:x|times)\s*(?:a|per|/)\s*week\b|\bcapd\b"
                          r"|\bon\s+(?:HD|PD)\b"
                          r"|투석", re.I)
_NOT_BF_RE = re.compile(r"\b(?:not|no longer|stopped)\s+(?:breast-?\s?feeding|nursing|"
                        r"lactating)\b", re.I)
_BF_RE = re.compile(r"\b(?:breast-?\s?feeding|lactating|nursing (?:mother|her baby|an infant)"
                    r"|breastfed infant)\b|모유\s*수유|수유\s*중", re.I)
# The prompt's own line (rxassist.patient_more): "Breastfeeding: no".
_BF_LABEL_RE = re.compile(r"\bbreast-?\s?feeding\s*[:=]\s*(yes|no|unknown)\b", re.I)
STAGE_CODES = {1: "N18.1", 2: "N18.2", 3: "N18.30", 4: "N18.4", 5: "N18.5"}
# Accepted ranges (rxassist.cases.Patient): anything else is rejected, never clipped.
EGFR_RANGE = (0.0, 200.0)     # exclusive
CRCL_RANGE = (0.0, 250.0)     # exclusive


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _record(f: Findings, name: str, value, said: str, ok: bool) -> None:
    if not ok:
        f.note("out_of_range", field=name, said=said.strip())
        f.rejected[name] = said.strip()
        return
    f.values.setdefault(name, value)


def names_ckd_stage(text: str) -> bool:
    """"CKD 3a", "ESRD": a kidney stage, which read_kidney records as a patient field."""
    return bool(_STAGE_RE.search(text) or _ESKD_RE.search(text))


def read_kidney(t: Text, f: Findings, dx_segments: Sequence[tuple[int, int]] = ()) -> None:
    """Kidney values anywhere; inside a labelled diagnosis ("Diagnosis: Chronic kidney disease,
    stage 4", "Dependence on renal dialysis") the stage and dialysis are recorded but the words
    stay the diagnosis, and the disease is not also listed as its own comorbidity."""
    def in_dx(m) -> bool:
        return any(a <= m.start() < b for a, b in dx_segments)

    for m in t.matches(_EGFR_RE):
        v = _number(m.group(1))
        _record(f, "egfr", v, m.group(0), EGFR_RANGE[0] < v < EGFR_RANGE[1])
        t.take(m.start(), m.end())
    for m in t.matches(_CRCL_RE):
        v = _number(m.group(1))
        _record(f, "crcl", v, m.group(0), CRCL_RANGE[0] < v < CRCL_RANGE[1])
        t.take(m.start(), m.end())
    for m in t.matches(_STAGE_RE):
        stage = int(m.group(1) or m.group(3) or m.group(5))
        sub = (m.group(2) or m.group(4) or m.group(6) or "").lower()
        _record(f, "ckd_stage", stage, m.group(0), 1 <= stage <= 5)
        if in_dx(m):
            continue
        if 1 <= stage <= 5:
            code = {"a": "N18.31", "b": "N18.32"}.get(sub, STAGE_CODES[stage]) \
                if stage == 3 else STAGE_CODES[stage]
            f.add_items("comorbidities", [f"chronic kidney disease stage {stage}{sub} ({code})"])
        t.take(m.start(), m.end())
    for m in t.matches(_ESKD_RE):
        f.values.setdefault("ckd_stage", 5)
        if in_dx(m):
            continue
        f.add_items("comorbidities", ["end-stage kidney disease (N18.6)"])
        t.take(m.start(), m.end())
    for m in t.matches(_NO_DIALYSIS_RE):
        f.values.setdefault("dialysis", False)
        t.take(m.start(), m.end())
    for m in t.matches(_DIALYSIS_RE):
        f.values.setdefault("dialysis", True)
        f.values.setdefault("ckd_stage", 5)
        if not in_dx(m):
            t.take(m.start(), m.end())
    for m in t.matches(_BF_LABEL_RE):
        answer = m.group(1).lower()
        if answer in ("yes", "no"):
            f.values.setdefault("breastfeeding", answer == "yes")
        t.take(m.start(), m.end())
    for m in t.matches(_NOT_BF_RE):
        f.values.setdefault("breastfeeding", False)
        t.take(m.start(), m.end())
    for m in t.matches(_BF_RE):
        f.values.setdefault("breastfeeding", True)
        t.take(m.start(), m.end())


__all__ = ["names_ckd_stage", "read_kidney"]
