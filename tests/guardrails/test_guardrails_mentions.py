"""Drug names in free text: exact matches only, precise."""

import pytest

from guardrails import find_drug_mentions


def names(text):
    return [(d.input, d.name) for d in find_drug_mentions(text)]


def test_finds_generics_and_brands_in_order():
    assert names("Patient on levothyroxine and lisinopril; started Lipitor 20 mg.") == [
        ("levothyroxine", "levothyroxine"), ("lisinopril", "lisinopril"),
        ("Lipitor", "atorvastatin")]


def test_multiword_and_combination_products():
    assert names("Continue insulin glargine and Tylenol PM, add Zestoretic") == [
        ("insulin glargine", "insulin glargine"),
        ("Tylenol PM", "acetaminophen; diphenhydramine"),
        ("Zestoretic", "hydrochlorothiazide; lisinopril")]


@pytest.mark.parametrize("text", [
    "She made a choice to sleep early; no known drug allergies.",
    "Amanda drinks alcohol and has low iron; hypertension and diabetes.",
    "Allergies unknown. Pregnant: not recorded.",
    "amoxicilin",  # misspelt: never fuzzy-matched in free text
])
def test_no_false_mentions(text):
    assert names(text) == []
