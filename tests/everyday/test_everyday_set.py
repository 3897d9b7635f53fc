"""The everyday consultation set loads, is well formed, and its expectations are real:
every `must_not_first` drug is one guardrails flags critical for that patient (or a current
medication), and no accepted option is."""

from __future__ import annotations

import json

import pytest

import guardrails
from eval.everyday import Consultation, read_consultations
from rxassist.errors import ConfigError


@pytest.fixture(scope="module")
def cases() -> list[Consultation]:
    return read_consultations()


def test_size_and_coverage(cases):
    assert len(cases) >= 40
    assert sum(bool(c.patient.pregnant) for c in cases) >= 5
    assert sum(c.patient.age is not None and c.patient.age < 18 for c in cases) >= 6
    assert sum(c.patient.age is not None and c.patient.age >= 70 for c in cases) >= 5
    assert sum(bool(c.patient.allergies) for c in cases) >= 4
    assert sum(bool(c.patient.current_medications) for c in cases) >= 8
    assert sum(c.setting == "hospital" for c in cases) >= 5


def test_the_five_issue_consultations_are_in(cases):
    messages = {c.message for c in cases}
    for m in ("45 M, new type 2 diabetes, no meds",
              "28 F, 20 weeks pregnant, UTI, sulfa allergy, levothyroxine",
              "8 M, 25 kg, acute otitis media",
              "70 M, atrial fibrillation, on metoprolol",
              "30 M, community-acquired pneumonia, penicillin allergy"):
        assert m in messages


def test_cases_follow_the_case_contract(cases):
    for c in cases:
        assert c.drugs == c.accepted and c.diagnosis.text and c.guideline
        assert "(" in c.guideline or "GINA" in c.guideline or "GOLD" in c.guideline or \
            "NICE" in c.guideline or "ASAM" in c.guideline, c.guideline


def _critical(c: Consultation, drug: str) -> bool:
    r = guardrails.check([drug], c.patient.model_dump())
    from eval.everyday import ingredient_key
    return bool(r.critical) or bool(ingredient_key(drug) & c.current_ingredients())


def test_must_not_first_is_really_critical_for_the_patient(cases):
    for c in cases:
        for d in c.must_not_first:
            assert _critical(c, d), (c.id, d)


def test_no_accepted_option_is_critical_for_the_patient(cases):
    for c in cases:
        for d in c.accepted:
            assert not _critical(c, d), (c.id, d)


def test_accepts_matches_ingredient_sets(cases):
    c = next(x for x in cases if x.id.endswith("aom-child"))
    assert c.accepts(["amoxicillin"]) and c.accepts(["clavulanate", "amoxicillin"])
    assert not c.accepts(["clavulanate"]) and not c.accepts(["cefdinir"])


def test_bad_file_is_an_error(tmp_path):
    good = read_consultations()[0].model_dump()
    p = tmp_path / "c.jsonl"
    p.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(ConfigError, match="duplicate id"):
        read_consultations(p)
    bad = dict(good, accepted=["notadrugxyz"])
    p.write_text(json.dumps(bad) + "\n")
    with pytest.raises(ConfigError, match="line 1"):
        read_consultations(p)
    p.write_text("{not json\n")
    with pytest.raises(ConfigError, match="line 1"):
        read_consultations(p)
