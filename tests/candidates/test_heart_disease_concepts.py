"""Heart disease as clinicians write it: chronic coronary disease gets the 2023 AHA/ACC
secondary-prevention drugs (not the labels' niacin or propranolol, nor the records of
'heart disease, unspecified'); hypertensive heart disease is hypertension; an unspecified heart
disease gets find-the-cause advice, not the furosemide its records show."""

from __future__ import annotations

import pytest

from recommend.candidates import load_index


@pytest.mark.parametrize("text,code", [
    ("coronary artery disease", None), ("ischemic heart disease", None), ("CAD", None),
    ("Atherosclerotic heart disease of native coronary artery without angina pectoris",
     "I25.10")])
def test_chronic_coronary_disease_starts_with_a_high_intensity_statin_and_aspirin(text, code):
    """2023 AHA/ACC chronic coronary disease guideline: high-intensity statin and low-dose
    aspirin for every patient; beta-blocker and amlodipine only for angina, recent MI or low EF;
    niacin added to a statin is of no benefit."""
    r = load_index().lookup(text, code)
    assert [m.name for m in r.info.concepts][:1] == ["chronic coronary disease"]
    names = [c.name for c in r.candidates]
    assert set(names[:3]) == {"atorvastatin", "rosuvastatin", "aspirin"}
    assert "niacin" not in names and "furosemide" not in names[:3]
    assert any(h.name == "niacin" and h.reason.startswith("not for") for h in r.held_back) \
        or "niacin" not in names


def test_hypertensive_heart_disease_without_failure_is_hypertension():
    """2017 ACC/AHA hypertension guideline: treated as hypertension (not the I51.9 records)."""
    r = load_index().lookup("hypertensive heart disease", "I11.9")
    assert [m.name for m in r.info.concepts][0] == "essential hypertension"
    assert "furosemide" not in [c.name for c in r.candidates[:3]]


@pytest.mark.parametrize("text,code", [("Heart disease, unspecified", "I51.9"),
                                       ("valvular heart disease", None)])
def test_an_unspecified_heart_disease_gets_find_the_cause_advice(text, code):
    """2022 AHA/ACC/HFSA heart failure guideline: find which heart disease before a drug."""
    r = load_index().lookup(text, code)
    assert not r.candidates and "2022 AHA/ACC/HFSA heart failure guideline" in r.advice[0]
