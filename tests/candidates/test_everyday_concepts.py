"""Everyday diagnoses as clinicians type them, which read label or record leftovers before
(niacin for vitamin D deficiency, amphetamine for obesity, prednisolone for bacterial
conjunctivitis, griseofulvin and hydrocortisone for athlete's foot, naltrexone in opioid
withdrawal): each reads a concept with its guideline's rows."""

from __future__ import annotations

import pytest

from recommend.candidates import load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


def _names(text, code=None, **kw):
    r = load_index().lookup(text, code, **kw)
    return [c.name for c in r.candidates], {h.name: h.reason for h in r.held_back}, r


@pytest.mark.parametrize("text,code,first,never,cite", [
    ("vitamin D deficiency", "E55.9", {"cholecalciferol", "ergocalciferol"},
     {"niacin", "cyanocobalamin", "calcitriol"}, "Endocrine Society 2011"),
    ("athlete's foot", None, {"terbinafine", "clotrimazole", "miconazole"},
     {"griseofulvin", "hydrocortisone", "betamethasone"}, "AAFP"),
    ("conjunctivitis, bacterial", None, {"polymyxin b; trimethoprim", "erythromycin"},
     {"prednisolone"}, "Conjunctivitis Preferred Practice Pattern 2023"),
    ("obesity", "E66.9", {"semaglutide", "phentermine; topiramate"},
     {"amphetamine", "dextroamphetamine"}, "AGA 2022"),
    ("trigeminal neuralgia", "G50.0", {"carbamazepine", "oxcarbazepine"}, {"duloxetine"},
     "AAN/EFNS 2008"),
    ("alcohol use disorder", None, {"naltrexone", "acamprosate"}, set(), "APA 2018"),
    ("opioid use disorder", None, {"buprenorphine", "buprenorphine; naloxone", "methadone"},
     set(), "ASAM 2020"),
])
def test_everyday_diagnosis_reads_its_guideline(text, code, first, never, cite):
    names, held, r = _names(text, code)
    rows = {c.name: e.strength for c in r.candidates for e in c.evidence
            if e.source == "guideline"}
    assert all(rows.get(d) == "strong" for d in first) and names[0] in rows, names
    assert first <= set(names[:3]), names
    assert not never & set(names), names
    assert any(cite in e.detail for c in r.candidates for e in c.evidence)


def test_opioid_withdrawal_never_gets_naltrexone():
    """ASAM 2020: an opioid antagonist precipitates withdrawal; buprenorphine or methadone,
    an alpha-2 agonist where they are not used."""
    names, held, _ = _names("Opioid dependence with withdrawal", "F11.23")
    assert "naltrexone" not in names and held["naltrexone"].startswith("not for")
    assert {"methadone", "buprenorphine"} <= set(names[:3])


def test_chlamydia_is_doxycycline_and_amoxicillin_only_in_pregnancy():
    """CDC STI guidelines 2021: doxycycline 7 days; azithromycin or levofloxacin as
    alternatives; in pregnancy azithromycin, amoxicillin as the alternative."""
    sl = shortlist(Patient(age=22, sex="male"), Diagnosis(text="chlamydia"))
    assert sl.names[0] == "doxycycline" and "amoxicillin" not in sl.names
    sl = shortlist(Patient(age=24, sex="female", pregnant=True), Diagnosis(text="chlamydia"))
    assert sl.names[0] == "azithromycin" and "doxycycline" not in sl.names
