"""ICD-10-CM titles written after "Diagnosis:" are read whole: a title that says "reaction to"
is no allergy, and the code in brackets is no lab value (eval's consultation messages)."""

from __future__ import annotations

import pytest

import guardrails
from assistant.extract import Extractor


@pytest.fixture(scope="module")
def extract():
    return Extractor(guardrails.find_drug_mentions).extract


@pytest.mark.parametrize("line, text", [
    ("Diagnosis: Reaction to severe stress, unspecified (ICD-10-CM F43.9)",
     "Reaction to severe stress, unspecified"),
    ("Diagnosis: Gastrointestinal hemorrhage, unspecified (ICD-10-CM K92.2)",
     "Gastrointestinal hemorrhage, unspecified"),
])
def test_a_coded_title_is_the_diagnosis_whole(extract, line, text):
    f = extract(line)
    assert f.values["diagnosis"].startswith(text)
    assert "allergies" not in f.values and not any("K92" in n for n in f.notes)


def test_a_reaction_to_a_drug_is_still_an_allergy_and_a_potassium_still_a_lab(extract):
    f = extract("70 M, rash, reaction to penicillin, K 5.9")
    assert f.values["allergies"] == ["penicillin"] and "K 5.9" in f.notes
    assert extract("reacts to codeine with nausea, c/o cough").values["allergies"] == ["codeine"]


def test_a_stated_diagnosis_after_a_differential_is_the_question(extract):
    f = extract("36 F, non-ulcer dyspepsia vs GERD, diagnosis GERD, not pregnant, NKDA, no meds")
    assert "GERD" in f.values["diagnosis"] and "dyspepsia" not in f.values["diagnosis"]


@pytest.mark.parametrize("line, text, facts", [
    ("Diagnosis: Chronic kidney disease, stage 4 (severe) (ICD-10-CM N18.4)",
     "Chronic kidney disease, stage 4 (severe)", {"ckd_stage": 4}),
    ("Diagnosis: End stage renal disease (ICD-10-CM N18.6)", "End stage renal disease",
     {"ckd_stage": 5}),
    ("Diagnosis: Dependence on renal dialysis (ICD-10-CM Z99.2)", "Dependence on renal dialysis",
     {"dialysis": True, "ckd_stage": 5}),
])
def test_a_kidney_title_stays_the_diagnosis_and_still_gives_its_facts(extract, line, text, facts):
    f = extract(line)
    assert f.values["diagnosis"].startswith(text)
    assert facts.items() <= f.values.items()
    assert "comorbidities" not in f.values   # the disease is the question, not its own background
