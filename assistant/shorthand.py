"""Clinical shorthand in a diagnosis, spelled out for the model.

A small, documented table: the shorthand stays (the clinician wrote it) and the expansion follows
in brackets, "UTI" -> "UTI (urinary tract infection)". Only whole words, only unambiguous ones.
"""

from __future__ import annotations

import re

ABBREVIATIONS: dict[str, str] = {
    "uti": "urinary tract infection",
    "htn": "hypertension",
    "t2dm": "type 2 diabetes mellitus",
    "dm2": "type 2 diabetes mellitus",
    "t1dm": "type 1 diabetes mellitus",
    "cap": "community-acquired pneumonia",
    "copd": "chronic obstructive pulmonary disease",
    "gerd": "gastro-oesophageal reflux disease",
    "gord": "gastro-oesophageal reflux disease",
    "urti": "upper respiratory tract infection",
    "aom": "acute otitis media",
    "chf": "congestive heart failure",
    "afib": "atrial fibrillation",
    "af": "atrial fibrillation",
    "mdd": "major depressive disorder",
    "gad": "generalised anxiety disorder",
    "oa": "osteoarthritis",
    "ra": "rheumatoid arthritis",
    "dvt": "deep vein thrombosis",
    "pe": "pulmonary embolism",
    "strep throat": "streptococcal pharyngitis",
    "bv": "bacterial vaginosis",
    "adhd": "attention deficit hyperactivity disorder",
    "ckd": "chronic kidney disease",
    "hld": "hyperlipidaemia",
    "dm": "diabetes mellitus",
    "lbp": "low back pain",
    "ssti": "skin and soft tissue infection",
    "mi": "myocardial infarction",
    "cad": "coronary artery disease",
    "ihd": "ischaemic heart disease",
    "cva": "cerebrovascular accident",
    "tia": "transient ischaemic attack",
    "bph": "benign prostatic hyperplasia",
    "ibs": "irritable bowel syndrome",
    "pud": "peptic ulcer disease",
    "osa": "obstructive sleep apnoea",
}

_PATTERNS = [(re.compile(rf"\b{re.escape(k)}\b", re.I), v) for k, v in ABBREVIATIONS.items()]


def expand_abbreviations(text: str) -> str:
    out = text
    for pattern, expansion in _PATTERNS:
        if expansion.lower() in out.lower():
            continue
        out = pattern.sub(lambda m, e=expansion: f"{m.group(0)} ({e})", out, count=1)
    return out
