"""Diagnoses the candidate index had no answer (or a wrong first answer) for, now covered by
guideline rows that each name their source (recommend/candidates/data/guidelines.tsv)."""

from __future__ import annotations

import pytest

from recommend.candidates import CandidateIndex, load_index
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


@pytest.fixture(scope="module")
def idx() -> CandidateIndex:
    return load_index()


def _first_line(idx, text, **kw) -> dict[str, str]:
    """Candidate name -> the citation of its guideline row."""
    out = {}
    for c in idx.lookup(text, **kw).candidates:
        for e in c.evidence:
            if e.source == "guideline":
                out[c.name] = e.reference or ""
    return out


@pytest.mark.parametrize("text, drugs, source", [
    ("diabetic polyneuropathy", {"duloxetine", "pregabalin", "gabapentin"}, "ADA Standards"),
    ("diabetic polyneuropathy", {"venlafaxine", "amitriptyline"}, "AAN 2022"),
    ("sprain of ankle", {"diclofenac", "ibuprofen", "acetaminophen"}, "ACP/AAFP 2020"),
    ("lactational mastitis", {"dicloxacillin", "cephalexin", "clindamycin"}, "ABM"),
    ("migraine prophylaxis", {"topiramate", "propranolol", "metoprolol", "amitriptyline"},
     "AAN/AHS 2012"),
    ("tension-type headache", {"acetaminophen", "ibuprofen", "naproxen"}, "EFNS 2010"),
    ("acute dental pain", {"ibuprofen", "naproxen", "acetaminophen"}, "ADA 2023"),
    ("acute low back pain", {"ibuprofen", "naproxen"}, "ACP 2017"),
    ("postherpetic neuralgia", {"lidocaine", "gabapentin", "pregabalin"}, "AAN 2004"),
])
def test_gap_is_filled_with_cited_rows(idx, text, drugs, source):
    rows = _first_line(idx, text)
    assert drugs <= set(rows), (text, sorted(rows))
    assert all(source in rows[d] for d in drugs)


def test_migraine_prevention_is_not_acute_treatment(idx):
    """AAN/AHS 2012: preventives first; the acute drugs (triptans) never lead a prevention
    question; the NHANES reason code G43.P reads as prevention too."""
    for kw in ({"diagnosis_text": "migraine prophylaxis"},
               {"diagnosis_text": "Prevent migraine", "code": "G43.P"}):
        top = [c.name for c in idx.lookup(**kw).candidates[:4]]
        assert not any(n.endswith("triptan") for n in top), top
        assert {"topiramate", "propranolol"} & set(top)
    assert idx.lookup("migraine").candidates[0].name.endswith("triptan")


def test_opioids_are_held_back_where_the_guideline_says_so(idx):
    held = {h.name: h.reason for h in idx.lookup("tension-type headache").held_back}
    assert held["codeine"].startswith("not for tension-type headache") and "EFNS" in held["codeine"]
    held = {h.name: h.reason for h in idx.lookup("ankle sprain").held_back}
    assert "tramadol" in held and "ACP/AAFP 2020" in held["tramadol"]


def test_statins_and_thyroid_extract_do_not_treat_the_question(idx):
    """2013 ACCF/AHA HF guideline: statins solely for HF, no benefit; ATA 2014: desiccated
    thyroid is not recommended over levothyroxine."""
    held = {h.name: h.reason for h in idx.lookup("heart failure with reduced ejection "
                                                 "fraction").held_back}
    assert "2013 ACCF/AHA" in held["atorvastatin"]
    r = idx.lookup("hypothyroidism")
    assert "thyroid" not in [c.name for c in r.candidates]
    assert "prednisone" not in [c.name for c in r.candidates]  # "thyroiditis" label mapping


def test_a_child_s_insomnia_reads_as_pediatric_insomnia(idx):
    """Melatonin after behavioural treatment for a child (Owens 2005 consensus, AAN 2020);
    not offered for an adult's chronic insomnia (AASM 2017 suggests against it)."""
    child = idx.lookup("insomnia", age=12)
    assert [m.name for m in child.info.concepts] == ["insomnia in children"]
    assert child.candidates[0].name == "melatonin"
    adult = [c.name for c in idx.lookup("insomnia", age=40).candidates]
    assert "melatonin" not in adult[:6] and "zolpidem" in adult
    coded = idx.lookup("insomnia", "G47.00", age=12)
    assert coded.candidates[0].name == "melatonin"


def test_sleep_and_heartburn_labels_of_combination_partners_are_not_evidence(idx):
    names = [c.name for c in idx.lookup("insomnia").candidates]
    assert "ibuprofen" not in names and "aspirin" not in names
    names = [c.name for c in idx.lookup("heartburn").candidates]
    assert "oxycodone" not in names and "ciprofloxacin" not in names


def test_older_adult_on_warfarin_with_knee_oa_gets_acetaminophen_first():
    """ACR 2019: acetaminophen, tramadol and duloxetine are all conditional; on warfarin the
    NSAIDs are out, tramadol raises the INR (tramadol label) and SNRIs add bleeding (SNRI
    labels), so acetaminophen leads."""
    sl = shortlist(Patient(age=79, sex="female", current_medications=["warfarin"]),
                   Diagnosis(text="primary osteoarthritis of knee"), offer=None)
    assert sl.names[0] == "acetaminophen"
    assert sl.names.index("acetaminophen") < sl.names.index("tramadol")


def test_hfref_sglt2_inhibitors_lead_at_egfr_28():
    """2022 AHA/ACC/HFSA: SGLT2 inhibitors from eGFR 20-25 in HFrEF; the glucose-lowering
    warning of the label does not apply to heart failure."""
    sl = shortlist(Patient(age=67, sex="female", egfr=28,
                           current_medications=["furosemide", "lisinopril", "metoprolol"]),
                   Diagnosis(text="heart failure with reduced ejection fraction"), offer=None)
    assert set(sl.names[:2]) == {"dapagliflozin", "empagliflozin"}
