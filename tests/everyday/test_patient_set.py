"""The everyday set about this patient (eval/everyday/patient_consultations.jsonl): well formed,
covering what it is for, and its expectations are real: every `must_not_offer` drug is ruled
out for that patient and diagnosis by the guardrails (critical, or the class of a current
medication), and no accepted option is critical."""

from __future__ import annotations

from pathlib import Path

import pytest

import guardrails
from eval.everyday import Consultation, ingredient_key, read_consultations

PATIENT_SET = Path(__file__).resolve().parents[2] / "eval" / "everyday" / \
    "patient_consultations.jsonl"


@pytest.fixture(scope="module")
def cases() -> list[Consultation]:
    return read_consultations(PATIENT_SET)


def test_size_and_coverage(cases):
    p = [c.patient for c in cases]
    assert len(cases) >= 60
    assert sum(x.age is not None and x.age >= 65 for x in p) >= 12
    assert sum(x.age is not None and x.age < 18 for x in p) >= 8
    assert sum(any(v is not None for v in (x.egfr, x.crcl, x.ckd_stage, x.dialysis))
               for x in p) >= 10
    assert sum(bool(x.comorbidities) for x in p) >= 10
    assert sum(bool(x.breastfeeding) for x in p) >= 1
    assert sum(bool(c.must_not_offer) for c in cases) >= 55
    assert all(c.guideline and c.must_not_offer == c.must_not_first for c in cases)


def _ruled_out(c: Consultation, drug: str) -> bool:
    r = guardrails.check([drug], c.patient, diagnosis=c.diagnosis)
    same_class = any(f.kind == "duplicate_class" for f in r.flags)
    return bool(r.critical) or same_class or bool(ingredient_key(drug) & c.current_ingredients())


def test_must_not_offer_is_ruled_out_for_the_patient(cases):
    for c in cases:
        for d in c.must_not_offer:
            assert _ruled_out(c, d), (c.id, d)


def test_no_accepted_option_is_critical_for_the_patient(cases):
    for c in cases:
        for d in c.accepted:
            assert not guardrails.check([d], c.patient, diagnosis=c.diagnosis).critical, (c.id, d)


def test_the_issue_consultations_are_in(cases):
    messages = {c.message for c in cases}
    for m in ("74 F, overactive bladder, NKDA, no meds",
              "55 M, new type 2 diabetes, CKD with eGFR 25, NKDA, no meds",
              "80 M, chronic insomnia, NKDA, on amlodipine",
              "58 M, acute gout flare, on warfarin, CKD, NKDA",
              "79 F, knee osteoarthritis, on warfarin, NKDA"):
        assert m in messages
