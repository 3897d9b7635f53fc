"""Held-out NHANES diagnoses the assistant abstained on, or answered from record co-occurrence
only, although a guideline names the drug: each now reads a concept with cited rows
(recommend/candidates/data/concepts.tsv, guidelines.tsv), or the guideline's advice where no
drug is the answer."""

from __future__ import annotations

import pytest

from recommend.candidates import CandidateIndex, load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


@pytest.fixture(scope="module")
def idx() -> CandidateIndex:
    return load_index()


def _rows(r) -> dict[str, str]:
    """Candidate name -> the evidence text of its guideline row."""
    return {c.name: e.detail for c in r.candidates for e in c.evidence if e.source == "guideline"}


def _held(r) -> dict[str, str]:
    return {h.name: h.reason for h in r.held_back}


# ---- prevention codes (NHANES reason codes ending in P) -----------------------------------

def test_prevent_heart_attack_starts_with_a_statin():
    """2018 AHA/ACC cholesterol guideline and USPSTF 2022: a statin; aspirin is secondary
    prevention (ACC/AHA 2019, USPSTF 2022: not started for primary prevention in older
    adults), so it follows the statins and carries that note."""
    r = load_index().lookup("Prevent heart attack/myocardial infarction", "I21.P")
    assert [m.name for m in r.info.concepts] == ["prevention of myocardial infarction"]
    assert {c.name for c in r.candidates[:2]} == {"atorvastatin", "rosuvastatin"}
    rows = _rows(r)
    assert "2018 AHA/ACC Guideline on the Management of Blood Cholesterol" in rows["atorvastatin"]
    assert "alternative" in rows["aspirin"] and "secondary prevention" in rows["aspirin"]
    assert "2019 ACC/AHA Guideline on the Primary Prevention" in rows["aspirin"]
    # The text alone reads the same concept, not the acute infarction's rows (heparin).
    r = load_index().lookup("prevent heart attack")
    assert [m.name for m in r.info.concepts] == ["prevention of myocardial infarction"]
    assert "heparin" not in [c.name for c in r.candidates]


def test_aspirin_to_prevent_a_heart_attack_still_carries_the_beers_warning_at_78():
    """AGS Beers 2023 (the guardrails' code rule for I21.P): aspirin for primary prevention is
    flagged in an older adult, and a statin leads."""
    sl = shortlist(Patient(age=78, sex="male"),
                   Diagnosis(text="Prevent heart attack/myocardial infarction", code="I21.P"),
                   offer=None)
    assert sl.names[0] in {"atorvastatin", "rosuvastatin"}
    flagged = sl.warnings.get("aspirin", []) + [f for e in sl.excluded if e.drug == "aspirin"
                                                for f in e.flags]
    assert any("Beers" in f.basis for f in flagged)


def test_prevent_stroke_is_long_term_prevention_not_thrombolysis(idx):
    """AHA/ASA 2021 secondary prevention: one antiplatelet and a high-intensity statin; the
    acute stroke's alteplase is not a prevention, and prasugrel is contraindicated after a
    stroke or TIA (Effient label)."""
    r = idx.lookup("Prevent stroke", "I63.P")
    assert [m.name for m in r.info.concepts] == ["prevention of stroke"]
    names = [c.name for c in r.candidates]
    assert {"clopidogrel", "aspirin", "atorvastatin"} == set(names[:3])
    assert "alteplase" not in names and "prasugrel" not in names
    assert "FDA label of prasugrel" in _held(r)["prasugrel"]
    assert "AHA/ASA 2021" in _rows(r)["clopidogrel"]


@pytest.mark.parametrize("text", ["stroke prevention in atrial fibrillation",
                                  "prevent stroke in afib"])
def test_stroke_prevention_in_atrial_fibrillation_stays_anticoagulation(idx, text):
    """2023 ACC/AHA/ACCP/HRS: in AF stroke is prevented by an oral anticoagulant, not an
    antiplatelet."""
    r = idx.lookup(text)
    assert [m.name for m in r.info.concepts] == ["atrial fibrillation"]
    assert "aspirin" not in [c.name for c in r.candidates]
