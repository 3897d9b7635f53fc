"""Rules from the fifth clinician review of held-out cases, each naming its source."""

from __future__ import annotations

import guardrails
from rxassist.cases import Diagnosis, Patient

MIGRAINE = Diagnosis(text="Migraine", code="G43.909")


def _flags(drug, patient, dx):
    return guardrails.check([drug], patient, diagnosis=dx).flags


def _kinds(flags, kind, severity=None):
    return [f for f in flags if f.kind == kind and (severity is None or f.severity == severity)]


def test_triptans_are_contraindicated_with_vascular_disease():
    """Triptan FDA labels: contraindicated with ischaemic heart disease, stroke or TIA,
    peripheral vascular disease and uncontrolled hypertension."""
    for comorbidity in ("coronary artery disease", "transient ischemic attack",
                        "peripheral vascular disease", "uncontrolled hypertension"):
        flags = _flags("rizatriptan", Patient(age=50, sex="female", comorbidities=[comorbidity]),
                       MIGRAINE)
        assert any("triptan FDA labels" in f.basis for f in _kinds(flags, "condition",
                                                                    "critical")), comorbidity
    # clopidogrel or a nitrate implies arterial disease
    on_nitrate = _flags("sumatriptan", Patient(age=55, sex="male",
                                               current_medications=["isosorbide mononitrate"]),
                        MIGRAINE)
    assert _kinds(on_nitrate, "condition", "critical")
    assert not _kinds(_flags("sumatriptan", Patient(age=50, sex="female",
                                                    comorbidities=["hypertension"]), MIGRAINE),
                      "condition")


def test_triptans_at_80_on_antihypertensives_are_a_warning():
    """Sumatriptan and rizatriptan labels: cardiovascular evaluation before use with several
    risk factors; few patients 65 and over studied."""
    older = Patient(age=80, sex="female", current_medications=["amlodipine", "lisinopril"])
    flags = _kinds(_flags("sumatriptan", older, MIGRAINE), "condition", "warning")
    assert any("geriatric use" in f.basis for f in flags)
    younger = Patient(age=50, sex="female", current_medications=["amlodipine", "lisinopril"])
    assert not _kinds(_flags("sumatriptan", younger, MIGRAINE), "condition")
    with_diabetes = Patient(age=70, sex="male", comorbidities=["type 2 diabetes"])
    assert _kinds(_flags("eletriptan", with_diabetes, MIGRAINE), "condition", "warning")
