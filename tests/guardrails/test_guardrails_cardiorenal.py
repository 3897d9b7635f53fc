"""Type 2 diabetes with ASCVD, heart failure or CKD: an SGLT2 inhibitor or a GLP-1 receptor
agonist with proven benefit comes before the other glucose-lowering drugs (ADA Standards of
Care 2024 sec. 9-11; KDIGO 2022 diabetes in CKD, rec. 1.3.1)."""

from __future__ import annotations

import pytest

import guardrails
from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient

T2DM = Diagnosis(text="type 2 diabetes mellitus", code="E11.9")


def _kinds(drug: str, patient: Patient) -> list[tuple[str, str, str]]:
    return [(f.kind, f.severity, f.basis) for f in guardrails.check([drug], patient,
                                                                    diagnosis=T2DM).flags]


@pytest.mark.parametrize("patient", [
    Patient(age=63, sex="male", comorbidities=["old myocardial infarction (I25.2)"]),
    Patient(age=68, sex="male", comorbidities=["heart failure with reduced ejection fraction"]),
    Patient(age=60, sex="female", current_medications=["clopidogrel"]),
])
def test_cardiovascular_disease_makes_other_glucose_lowering_drugs_second(patient):
    # (pioglitazone in heart failure is already excluded: FDA boxed warning)
    for drug in ("glipizide", "sitagliptin", "insulin glargine"):
        flags = _kinds(drug, patient)
        assert any(k == "condition" and "ADA Standards" in b for k, _, b in flags), (drug, flags)
    for drug in ("empagliflozin", "liraglutide"):
        assert not any("ADA Standards of Care in Diabetes-2024, sec. 9 and 10" in b
                       for _, _, b in _kinds(drug, patient))
    top = shortlist(patient, T2DM).names[:2]
    assert set(top) <= {"empagliflozin", "dapagliflozin", "liraglutide", "semaglutide",
                        "metformin"}, top


def test_an_egfr_below_60_prefers_an_sglt2_inhibitor():
    patient = Patient(age=58, sex="female", egfr=40, current_medications=["metformin"])
    flags = _kinds("glipizide", patient)
    assert any(k == "renal" and "KDIGO 2022" in b for k, _, b in flags), flags
    assert shortlist(patient, T2DM).names[0] in {"empagliflozin", "dapagliflozin",
                                                  "liraglutide", "semaglutide"}


def test_without_cardiorenal_disease_the_lower_cost_options_stay_unflagged():
    patient = Patient(age=50, sex="male", current_medications=["metformin"], egfr=90)
    assert _kinds("glipizide", patient) == []
    # The kidney rule is about diabetes: glipizide is not flagged by it for another question.
    other = guardrails.check(["glipizide"], Patient(age=50, sex="male", egfr=40),
                             diagnosis=Diagnosis(text="hypertension", code="I10")).flags
    assert not any("KDIGO 2022" in f.basis for f in other)
