"""Everyday consultations with the first-line choices a current guideline accepts.

    read_consultations(path=CONSULTATIONS_FILE) -> list[Consultation]
    Consultation.accepts(ingredients) -> bool      a recommendation's ingredients match an
                                                  accepted option exactly (combination = set)

Each line of consultations.jsonl is a case in the case-file shape of docs/formats.md (`drugs` = the
accepted options) plus `message` (what a clinician would type), `accepted`, `must_not_first`
(drugs guardrails flags critical for this patient, or a current medication), `guideline`
(citation) and `setting`. The file is curated, so a bad line is an error, not a skipped line.
"""

from __future__ import annotations

from eval.everyday.consultations import (CONSULTATIONS_FILE, HOSPITAL_FILE, MUST_ABSTAIN_FILE,
                                         Consultation, ingredient_key, read_consultations)

__all__ = ["CONSULTATIONS_FILE", "HOSPITAL_FILE", "MUST_ABSTAIN_FILE", "Consultation",
           "ingredient_key", "read_consultations"]
