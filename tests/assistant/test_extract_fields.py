"""Allergy phrasings and impossible values, and the per-field modules alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

import guardrails
from assistant.extract import Extractor
from assistant.extract.text import Text, read_list
from assistant.extract.vocabulary import vocabulary


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


@pytest.mark.parametrize("text, allergen", [
    ("anaphylaxis after amoxicillin, NKDA otherwise", "amoxicillin"),
    ("had a reaction to penicillin", "penicillin"),
    ("can't take codeine", "codeine"),
    ("she cannot take ibuprofen, UTI", "ibuprofen"),
    ("amoxicillin gave me a rash", "amoxicillin"),
    ("cephalexin gave her hives", "cephalexin"),
    ("intolerant of statins", "statins"),
    ("hives after cephalexin last year", "cephalexin"),
])
def test_allergy_phrasings(ex, text, allergen):
    f = ex.extract(text)
    assert allergen in f.values["allergies"]
    assert allergen not in f.values.get("current_medications", [])


def test_nkda_otherwise_keeps_the_stated_allergy_and_no_diagnosis(ex):
    f = ex.extract("anaphylaxis after amoxicillin, NKDA otherwise")
    assert f.values == {"allergies": ["amoxicillin"]}
    assert f.diagnosis_candidates == []


@pytest.mark.parametrize("text", ["can't take tablets, UTI", "rash after the beach, UTI"])
def test_ordinary_speech_is_not_an_allergy(ex, text):
    assert "allergies" not in ex.extract(text).values


@pytest.mark.parametrize("text, name", [
    ("Age: 200, UTI", "age"),
    ("Age: 200", "age"),
    ("0 kg, pneumonia", "weight_kg"),
    ("600 kg, pneumonia", "weight_kg"),
    ("Weight: 600 kg", "weight_kg"),
    ("Weight: 0", "weight_kg"),
])
def test_impossible_values_are_not_given_but_noted(ex, text, name):
    f = ex.extract(text)
    assert name not in f.values and name not in f.unknown     # still open: the assistant asks
    assert f.bare_number is None
    assert any("out of range" in n for n in f.notes)


def test_plausible_extremes_are_kept(ex):
    assert ex.extract("Age: 0.5, Weight: 3.2 kg").values == {"age": 0.5, "weight_kg": 3.2}
    assert ex.extract("Weight: 250 lb").values == {"weight_kg": 113.4}


def test_vocabulary_ships_as_data():
    v = vocabulary()
    assert "penicillin" in v["allergen_classes"] and v["allergen_synonyms"]["pcn"] == "penicillin"


def test_span_mask_and_list_reading_alone():
    t = Text("on lisinopril 10 mg daily, metformin and aspirin. UTI")
    items, end = read_list(t, 3, t.s.index("."), lambda _item: True)
    assert items == ["lisinopril", "metformin", "aspirin"]
    t.take(0, end)
    assert not t.free(0, 5) and t.free(end, len(t.s))
    assert t.leftover().strip("\x00") == ". UTI"


def test_protocol_and_extractor_import_no_langchain():
    code = ("import sys, serving.protocol, assistant.extract, assistant.policy; "
            "print(any(m.startswith(('langchain', 'assistant.core')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_labelled_value_ends_at_its_comma(ex):
    f = ex.extract("Age: 60, male, UTI, NKDA")
    assert f.values == {"age": 60.0, "sex": "male", "allergies": []}
    assert f.diagnosis_candidates == ["UTI"]
    f = ex.extract("Age: 200, male, UTI")
    assert f.values == {"sex": "male"} and f.notes == ["age '200' is out of range; not used"]


def test_the_package_docstring_lists_the_steps_in_the_order_they_run():
    import inspect
    import re as re_

    import assistant.extract as pkg
    from assistant.extract import extractor
    documented = re_.findall(r"^\s*\d+\. .*?(\w+)\.py$", pkg.__doc__, re_.M)
    called = []
    for name in re_.findall(r"\b(read_\w+)\(", inspect.getsource(extractor.Extractor.extract)):
        fn = getattr(extractor, name, None) or getattr(extractor.demo, name)
        module = fn.__module__.rsplit(".", 1)[1]
        if not called or called[-1] != module or name in ("read_unknowns", "read_context"):
            called.append(module)
    assert documented == called


@pytest.mark.parametrize("text, question, background", [
    ("76 yo woman admitted with heart failure, immobile, needs VTE prophylaxis",
     "VTE prophylaxis", "admitted with heart failure"),
])
def test_background_clauses_are_context_not_the_question(ex, text, question, background):
    f = ex.extract(text)
    assert question in f.diagnosis_candidates
    assert background not in f.diagnosis_candidates and background in f.notes


# Past conditions are comorbidities now (Patient.comorbidities), no longer loose notes.
@pytest.mark.parametrize("text, question, comorbidity", [
    ("60 M, history of MI, hypertension", "hypertension", "MI (myocardial infarction)"),
    ("known diabetes, now UTI", "UTI", "diabetes"),
])
def test_past_conditions_are_comorbidities_not_the_question(ex, text, question, comorbidity):
    f = ex.extract(text)
    assert f.diagnosis_candidates == [question]
    assert f.values["comorbidities"] == [comorbidity]


def test_a_background_clause_alone_is_still_the_diagnosis(ex):
    f = ex.extract("admitted with community-acquired pneumonia")
    assert f.diagnosis_candidates == ["admitted with community-acquired pneumonia"]
    # An admission reason without a stated need is the question.
    f = ex.extract("68 M admitted with acute decompensated heart failure, fluid overloaded")
    assert "admitted with acute decompensated heart failure" in f.diagnosis_candidates


@pytest.mark.parametrize("text, allergies", [
    ("penicillin hypersensitivity, UTI", ["penicillin"]),
    ("sulfa drug allergy", ["sulfa"]),
    ("food allergy, UTI", None),                       # a not-an-allergen word before "allergy"
    ("codeine causes hives", ["codeine"]),
    ("UTI, then amoxicillin gave me a rash", ["amoxicillin"]),   # not "then amoxicillin"
])
def test_drug_then_reaction(ex, text, allergies):
    assert ex.extract(text).values.get("allergies") == allergies
