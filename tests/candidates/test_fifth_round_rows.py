"""Fifth round: suggestions the blinded reviewers rejected on held-out NHANES cases, each now
governed by a cited guideline row (recommend/candidates/data/guidelines.tsv): held back where
the guideline says the drug is not for this question, offered where it names one."""

from __future__ import annotations

import pytest

from recommend.candidates import CandidateIndex, load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


@pytest.fixture(scope="module")
def idx() -> CandidateIndex:
    return load_index()


def _names(r) -> list[str]:
    return [c.name for c in r.candidates]


def _held(r) -> dict[str, str]:
    return {h.name: h.reason for h in r.held_back}


# ---- hypertension -------------------------------------------------------------------------

@pytest.mark.parametrize("text,code", [("Essential (primary) hypertension", "I10"),
                                       ("high blood pressure", None), ("HTN", None)])
def test_beta_blockers_are_held_back_for_hypertension_alone(idx, text, code):
    """2017 ACC/AHA and JNC8 (2014): first-line drugs are a thiazide, an ACE inhibitor, an ARB
    or a dihydropyridine CCB; a beta-blocker only for a compelling indication."""
    r = idx.lookup(text, code)
    names = _names(r)
    assert {"lisinopril", "amlodipine", "hydrochlorothiazide", "losartan"} <= set(names[:5])
    held = _held(r)
    for drug in ("atenolol", "metoprolol", "propranolol", "carvedilol"):
        assert drug not in names
        assert held[drug].startswith("not for essential hypertension")
        assert "2017 ACC/AHA" in held[drug]


def test_a_beta_blocker_is_not_offered_when_first_line_drugs_are_taken():
    """The reviewers' case: a 70-year-old already on lisinopril and amlodipine; the next drug
    is a thiazide, not atenolol or metoprolol."""
    sl = shortlist(Patient(age=70, sex="male", current_medications=["lisinopril", "amlodipine"]),
                   Diagnosis(text="Essential (primary) hypertension", code="I10"))
    assert sl.names and sl.names[0] in {"hydrochlorothiazide", "chlorthalidone"}
    assert not {"atenolol", "metoprolol", "propranolol"} & set(sl.names)


def test_labetalol_stays_first_for_hypertension_in_pregnancy(idx):
    """ACOG 2019 (the pregnancy concept's rows): the hold-back is for essential hypertension,
    not for the pregnancy concept that supersedes it."""
    r = idx.lookup("hypertension", "I10", pregnant=True)
    assert "labetalol" in _names(r)[:3]
