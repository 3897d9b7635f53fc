"""The rule reader on consultations written after it was built (English chart shorthand and
Korean notes): the arrow for a reaction, drugs stopped or not taken, a past or family condition,
an age in months as "6/12", a dose frequency after a drug. Each phrasing here was misread before
its rule. (The same consultations, with gold fields, are in eval/phrasing/phrasing.jsonl, dev.)"""

from __future__ import annotations

import pytest

import guardrails
from assistant.dialogue import fold
from assistant.extract import Extractor


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


def read(ex, text):
    return fold([{"role": "user", "content": text}], ex).consultation


@pytest.mark.parametrize("text, allergies, note", [
    ("72 yo woman, AF on apixaban, c/o insomnia. sulfa -> rash", ["sulfa"], "sulfa allergy: rash"),
    ("50M, gout, PCN\u2192hives", ["penicillin"], "penicillin allergy: hives"),
    ("47F, migraine, codeine allergy -> vomiting", ["codeine"], "codeine allergy: vomiting"),
    ("50M, gout, allergies: sulfa -> SJS, PCN => hives", ["sulfa", "penicillin"],
     "sulfa allergy: SJS"),
])
def test_an_arrow_from_a_drug_to_a_reaction_is_an_allergy(ex, text, allergies, note):
    c = read(ex, text)
    assert c.values["allergies"] == allergies
    assert note in c.notes
    assert not set(allergies) & set(c.values.get("comorbidities") or [])


def test_an_arrow_between_symptoms_is_still_a_clause_break(ex):
    c = read(ex, "50M, fever -> rash, measles")
    assert "allergies" not in c.values
    assert c.diagnosis_reading().startswith("measles")


@pytest.mark.parametrize("text, drug, note", [
    ("66M c/o knee OA pain. Was on naproxen, stopped due to GI bleed. Meds: omeprazole. NKDA",
     "naproxen", "Was on naproxen, stopped due to GI bleed"),
    ("66M, knee OA, naproxen stopped due to GI bleed, NKDA", "naproxen",
     "naproxen stopped due to GI bleed"),
    ("66M, knee OA, previously on ibuprofen, NKDA", "ibuprofen", "previously on ibuprofen"),
    ("60F, T2DM, metformin d/c'd (diarrhoea), NKDA, not pregnant", "metformin",
     "metformin d/c'd (diarrhoea)"),
    ("70M, AF, warfarin held for surgery, NKDA", "warfarin", "warfarin held for surgery"),
])
def test_a_drug_taken_in_the_past_or_stopped_is_a_note_not_a_current_medication(ex, text, drug,
                                                                                note):
    c = read(ex, text)
    assert drug not in (c.values.get("current_medications") or [])
    assert note in c.notes
    # The reason it was stopped is neither the question nor a condition it was taken for.
    assert "surgery" not in (c.values.get("comorbidities") or [])
    assert "GI bleed" not in (c.diagnosis_reading() or "") and "stopped" not in (
        c.diagnosis_reading() or "")


def test_takes_no_regular_medication_answers_the_medications(ex):
    c = read(ex, "32 yo M, cellulitis L lower leg, allergies: sulfa (SJS), takes no regular "
                 "medication")
    assert c.values["current_medications"] == []
    assert "takes" not in c.diagnosis_reading()


@pytest.mark.parametrize("text", [
    "80 M, CAP,\nPMH: COPD, HTN, not allergic to penicillin, no meds",
    "80세 남자, 지역사회획득 폐렴, 과거력: 만성 폐쇄성 폐질환, 고혈압, 페니실린 알레르기 없음, "
    "복용 중인 약 없음",
])
def test_a_history_list_ends_at_a_ruled_out_allergy_or_no_medications(ex, text):
    c = read(ex, text)
    assert len(c.values["comorbidities"]) == 2
    assert "not allergic to penicillin" in c.notes
    assert c.values["current_medications"] == []
