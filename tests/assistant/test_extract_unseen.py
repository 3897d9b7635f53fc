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
