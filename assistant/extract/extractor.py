"""The extractor: runs the field readers over one turn in a fixed order (see the package
docstring); each reader takes the characters it explains from the span mask."""

from __future__ import annotations

import re

from assistant.extract import demographics as demo
from assistant.extract.allergies import arrow_reactions, read_allergies
from assistant.extract.korean import to_reading_text
from assistant.extract.typos import fix_cue_typos
from assistant.extract.diagnosis import read_leftover, read_questions, read_requests
from assistant.extract.kidney import read_kidney
from assistant.extract.labels import PATIENT_HEADER_RE, read_labels, read_unknowns
from assistant.extract.context import normalise_sections
from assistant.extract.medications import misspelt_drug, read_drug_mentions, read_indications, \
    read_medications, read_not_taken
from assistant.extract.text import DrugFinder, DrugNormalizer, Findings, Text

_CORRECTION = re.compile(r"^\s*(?:correction|update|amend(?:ment)?|change)\s*[:\-]", re.I)


class Extractor:
    """Extracts Findings from a user turn; `drug_finder` is guardrails.find_drug_mentions.
    `drug_normalizer` (guardrails.normalize unless given) reads a misspelt drug name after a
    medication cue ("on metfromin"): kept as written, the guardrails flag it as a name guess."""

    def __init__(self, drug_finder: DrugFinder, drug_normalizer: DrugNormalizer | None = None):
        self._find = drug_finder
        if drug_normalizer is None:
            import guardrails      # the layer below; imported here so tests may pass a stub
            drug_normalizer = guardrails.normalize
        self._guess = misspelt_drug(drug_normalizer)

    def extract(self, text: str) -> Findings:
        f = Findings()
        stripped = fix_cue_typos(to_reading_text(text)).strip()   # Korean -> shorthand; typos
        if _CORRECTION.match(stripped):
            f.correction = True
            stripped = re.sub(r"^\s*\w+\s*[:\-]\s*", "", stripped)
        stripped = arrow_reactions(stripped, self._find)    # "sulfa -> rash": an allergy
        t = Text(normalise_sections(stripped))          # chart headers -> labels
        for m in t.matches(PATIENT_HEADER_RE):
            t.take(m.start(), m.end())
        dx_segments = read_labels(t, f, self._find)     # 1
        read_unknowns(t, f)                             # 2
        # Numbers first, so "80 kg" or "34 yo" never end up inside a drug list.
        read_kidney(t, f, dx_segments)                  # 3 (eGFR, CKD stage, dialysis, ...)
        demo.read_scores(t, f)                          # "CHA2DS2-VASc 5", "CURB-65 2"
        demo.read_pregnancy(t, f)
        demo.read_age(t, f)
        demo.read_weight(t, f)
        demo.read_context(t, f)                         # 4
        read_requests(t, f)                             # 5
        read_allergies(t, f, self._find)                # 6
        read_not_taken(t, f, self._find)                # 7: "not on X"
        read_indications(t, f, self._find)              # 7: "on X for Y"
        read_medications(t, f, self._find, self._guess)   # 7
        demo.read_sex(t, f, dx_segments)                # 8
        read_questions(t)                               # 9
        read_drug_mentions(t, f, self._find, dx_segments)   # 10
        read_leftover(t, f, dx_segments)                # 11
        _settle(f)                                      # 12
        return f


def _settle(f: Findings) -> None:
    # "Mrs Smith, 72, with CHF": a lone number among other facts is the age.
    if (f.bare_number is not None and "age" not in f.values and "age" not in f.unknown
            and f.bare_number == int(f.bare_number) and 0 < f.bare_number <= 120
            and (f.values or f.diagnosis_candidates)):
        f.values["age"] = f.bare_number
        f.bare_number = None
    if f.values.get("pregnant") is True and "sex" not in f.values:
        f.values["sex"] = "female"
