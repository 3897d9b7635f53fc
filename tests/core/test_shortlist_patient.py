"""The shortlist applies the drug-versus-patient rules with the diagnosis: a critical flag
excludes a candidate (shown with its reason), a patient-specific warning demotes it, and a
drug of the class of a current medication is not offered unless a switch is asked for."""

from __future__ import annotations

import pytest

from rxassist.cases import Diagnosis, Patient
from rxassist.patient_text import patient_lines
from recommend.shortlist import INTERACTION_PENALTY, WARNING_PENALTY, shortlist


def _sl(dx: str, **patient):
    return shortlist(Patient(**patient), Diagnosis(text=dx), offer=None)


def _excluded(sl) -> dict[str, str]:
    return {e.drug: e.reason for e in sl.excluded}


@pytest.mark.parametrize("dx, patient, gone, kept", [
    ("overactive bladder", {"age": 74, "sex": "female"}, "oxybutynin", "mirabegron"),
    ("type 2 diabetes", {"age": 55, "sex": "male", "egfr": 25}, "metformin", None),
    ("chronic insomnia", {"age": 80, "sex": "male"}, "zolpidem", None),
    ("knee osteoarthritis", {"age": 79, "sex": "female", "current_medications": ["warfarin"]},
     "ibuprofen", "acetaminophen"),
    ("erectile dysfunction", {"age": 62, "sex": "male",
                              "current_medications": ["isosorbide mononitrate"]},
     "tadalafil", None),
    ("depression", {"age": 8, "sex": "female"}, "citalopram", "fluoxetine"),
    ("GERD", {"age": 45, "sex": "female"}, "ranitidine", "omeprazole"),
    ("hypertension", {"age": 60, "sex": "male", "comorbidities": ["gout"]},
     "hydrochlorothiazide", "amlodipine"),
    ("hypertension", {"age": 70, "sex": "male", "dialysis": True}, "hydrochlorothiazide",
     "amlodipine"),
])
def test_the_patient_rules_exclude(dx, patient, gone, kept):
    sl = _sl(dx, **patient)
    assert gone in _excluded(sl) and gone not in sl.names
    if kept:
        assert kept in sl.names


def test_a_childs_insomnia_gets_melatonin_never_a_z_drug():
    sl = _sl("insomnia", age=12, sex="male")
    assert "melatonin" in sl.names and "zolpidem" not in sl.names


def test_same_class_as_a_current_medication_is_excluded_unless_a_switch_is_asked():
    sl = _sl("osteoarthritis", age=50, current_medications=["ibuprofen"])
    reasons = _excluded(sl)
    assert "naproxen" in reasons and reasons["naproxen"].startswith("same class")
    switch = shortlist(Patient(age=50, current_medications=["ibuprofen"]),
                       Diagnosis(text="osteoarthritis"), offer=None, allow_same_class=True)
    assert "naproxen" in switch.names and "naproxen" in switch.warnings


def test_a_patient_specific_warning_demotes():
    """AGS Beers 2023: an NSAID at 72 carries a caution, which costs its score."""
    plain = {c.name: c.score for c in _sl("osteoarthritis", age=50).offered}
    older = {c.name: c.score for c in _sl("osteoarthritis", age=72).offered}
    assert older["naproxen"] == pytest.approx(plain["naproxen"] - WARNING_PENALTY)


def test_metformin_is_not_started_at_egfr_40_where_an_sglt2_inhibitor_is_first_line():
    """Metformin FDA label: starting it at eGFR 30-45 is not recommended; ADA 2024 and KDIGO
    2022 put an SGLT2 inhibitor first there, so metformin is shown excluded with its reason."""
    renal = _sl("type 2 diabetes", age=60, egfr=40)
    assert "metformin" not in renal.names and "eGFR 30-45" in _excluded(renal)["metformin"]


def test_the_diagnosis_itself_is_checked():
    sl = shortlist(Patient(age=60), Diagnosis(text="hypotension", code="I95.9"), offer=None)
    assert not {"lisinopril", "amlodipine", "metoprolol"} & set(sl.names)


def test_optional_fields_reach_the_prompt_only_when_known():
    assert len(patient_lines(Patient(age=60))) == 6
    lines = patient_lines(Patient(age=60, egfr=25, ckd_stage=4, comorbidities=["gout"],
                                  breastfeeding=False))
    assert "Kidney function: eGFR 25 mL/min/1.73 m2, CKD stage 4" in lines
    assert "Other conditions: gout" in lines and "Breastfeeding: no" in lines


def test_an_infants_cough_gets_no_opioid_or_cold_medicine():
    # FDA 2008 advisory (OTC cough and cold, not under 2/4); FDA DSC January 2018 (opioids)
    sl = shortlist(Patient(age=0.5), Diagnosis(text="cough", code="R05"), offer=None)
    assert not {"hydromorphone", "triprolidine", "codeine", "hydrocodone"} & set(sl.names)


def test_an_infants_asthma_gets_no_montelukast_singulair_label():
    sl = _sl("asthma", age=0.5)
    assert "montelukast" not in sl.names and sl.names[0] == "albuterol"


def test_ezetimibe_only_beside_a_statin_2018_aha_acc():
    alone = _sl("hyperlipidemia", age=60, current_medications=[])
    assert "ezetimibe" in _excluded(alone) and alone.names[0].endswith("statin")
    on_statin = _sl("hyperlipidemia", age=60, current_medications=["atorvastatin"])
    assert "ezetimibe" in on_statin.names


def test_a_caution_and_an_interaction_with_a_current_medication_add_up():
    # 70, on clopidogrel: the NSAID's Beers caution and its bleeding pair (Plavix label)
    plain = {c.name: c.score for c in _sl("knee osteoarthritis", age=60).offered}
    both = {c.name: c.score for c in _sl("knee osteoarthritis", age=70,
                                         current_medications=["clopidogrel"]).offered}
    assert both["naproxen"] == pytest.approx(plain["naproxen"] - WARNING_PENALTY
                                             - INTERACTION_PENALTY)
    assert both["acetaminophen"] == pytest.approx(plain["acetaminophen"])
    assert both["acetaminophen"] > both["naproxen"]


def test_febuxostat_below_allopurinol_with_cardiovascular_disease_fda_2019():
    sl = _sl("chronic gout", age=65, current_medications=["clopidogrel"])
    assert sl.names[0] == "allopurinol" and "febuxostat" not in sl.names
    assert any(e.drug == "febuxostat" and e.reason.startswith("a safer option")
               for e in sl.excluded)
